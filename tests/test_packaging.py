"""The package as pip builds it: one version string, the dependencies from requirements.txt
(test-only ones in the [test] extra), experiments/ installed as sideways_jax.experiments
(never a top-level `experiments`), and modules that import under both names.

The wheel and sdist are built offline (`python -m build --no-isolation`, from a copy of the
sources) when `build` and a setuptools that can build wheels are installed (.ci/run installs
them); .ci/run also installs the wheel in a fresh venv and trains from another directory.
"""

import ast
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile

from absl.testing import absltest

import sideways_jax

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SOURCES = ('setup.py', 'pyproject.toml', 'MANIFEST.in', 'requirements.txt', 'README.md',
            'sideways_jax', 'experiments')


def _setup_module():
  spec = importlib.util.spec_from_file_location('_sideways_setup',
                                                os.path.join(_REPO, 'setup.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)  # defines its helpers; setup() runs only as __main__
  return module


def _pyproject():
  with open(os.path.join(_REPO, 'pyproject.toml'), 'rb') as f:
    return tomllib.load(f)


def _name(requirement):
  for i, char in enumerate(requirement):
    if not (char.isalnum() or char in '-_.'):
      return requirement[:i].lower()
  return requirement.lower()


def _can_build_offline():
  """Why `python -m build --no-isolation` cannot run here, or None."""
  if importlib.util.find_spec('build') is None:
    return 'the `build` package is not installed (.ci/run installs it)'
  import setuptools  # pylint: disable=g-import-not-at-top
  version = tuple(int(p) for p in setuptools.__version__.split('.')[:2])
  if version < (64, 0):
    return f'setuptools {setuptools.__version__} < 64 (pyproject.toml requires 64)'
  if version < (70, 1) and importlib.util.find_spec('wheel') is None:
    return f'setuptools {setuptools.__version__} builds wheels only with `wheel` installed'
  return None


class MetadataTest(absltest.TestCase):

  def test_one_version_string(self):
    project = _pyproject()
    self.assertNotIn('version', project['project'])
    self.assertIn('version', project['project']['dynamic'])
    self.assertEqual(project['tool']['setuptools']['dynamic']['version'],
                     {'attr': 'sideways_jax.__version__'})
    with open(os.path.join(_REPO, 'setup.py')) as f:
      self.assertNotIn('version=', f.read())
    try:
      installed = importlib.metadata.version('sideways_jax')
    except importlib.metadata.PackageNotFoundError:
      self.skipTest('sideways_jax is not installed (pip install -e .)')
    self.assertEqual(installed, sideways_jax.__version__)

  def test_dependencies_come_from_requirements_txt(self):
    core, extras = _setup_module().read_requirements()
    core_names = {_name(r) for r in core}
    self.assertContainsSubset({'jax', 'jaxlib', 'dm-haiku', 'optax', 'ml-collections'},
                              core_names)
    test_names = {_name(r) for r in extras['test']}
    self.assertContainsSubset({'chex', 'pytest', 'pytest-xdist', 'tensorboard'}, test_names)
    self.assertEmpty(core_names & test_names)
    self.assertIn('tensorflow-datasets', {_name(r) for r in extras['tfds']})
    # Nothing the package itself runs imports a test-only dependency.
    for folder in ('sideways_jax', 'experiments'):
      for root, _, files in os.walk(os.path.join(_REPO, folder)):
        for name in files:
          if name.endswith('.py'):
            with open(os.path.join(root, name)) as f:
              tree = ast.parse(f.read())
            for node in ast.walk(tree):
              if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
              elif isinstance(node, ast.ImportFrom) and not node.level:
                modules = [node.module]
              else:
                continue
              for module in modules:
                self.assertNotIn(module.split('.')[0], ('chex', 'pytest'),
                                 os.path.join(root, name))

  def test_packages_and_console_scripts(self):
    packages = _setup_module().packages()
    self.assertIn('sideways_jax.experiments', packages)
    self.assertIn('sideways_jax.experiments.configs', packages)
    self.assertFalse([p for p in packages if p.split('.')[0] != 'sideways_jax'], packages)
    scripts = _pyproject()['project']['scripts']
    for name, target in scripts.items():
      module, function = target.split(':')
      self.assertTrue(module.startswith('sideways_jax.experiments.'), name)
      path = os.path.join(_REPO, 'experiments', *module.split('.')[2:]) + '.py'
      with open(path) as f:
        defined = {node.name for node in ast.parse(f.read()).body
                   if isinstance(node, ast.FunctionDef)}
      self.assertIn(function, defined, name)

  def test_experiments_import_under_both_names(self):
    """experiments/ is `experiments` in the repository and `sideways_jax.experiments`
    installed: its modules import each other relatively. Config files are loaded by path
    (ml_collections), so they import nothing relatively."""
    folder = os.path.join(_REPO, 'experiments')
    for root, _, files in os.walk(folder):
      for name in files:
        if not name.endswith('.py'):
          continue
        path = os.path.join(root, name)
        with open(path) as f:
          tree = ast.parse(f.read())
        config_file = os.path.basename(root) == 'configs' and name != '__init__.py'
        for node in ast.walk(tree):
          if isinstance(node, ast.ImportFrom):
            modules = [node.module or '']
            if config_file and name != 'keys.py':
              self.assertEqual(node.level, 0, f'{path}: relative import in a config file')
            if node.level:
              continue
          elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
          else:
            continue
          for module in modules:
            self.assertNotEqual(module.split('.')[0], 'experiments',
                                f'{path}:{node.lineno}: import {module} (use a relative '
                                'import: installed, the package is sideways_jax.experiments)')


class BuildTest(absltest.TestCase):

  def test_sdist_and_wheel(self):
    reason = _can_build_offline()
    if reason:
      self.skipTest(reason)
    tmp = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
    src = os.path.join(tmp, 'src')
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    for name in _SOURCES:
      path = os.path.join(_REPO, name)
      if os.path.isdir(path):
        shutil.copytree(path, os.path.join(src, name), ignore=ignore)
      else:
        os.makedirs(src, exist_ok=True)
        shutil.copy(path, src)
    dist = os.path.join(tmp, 'dist')
    # Builds the sdist, then the wheel from the sdist (so the sdist is complete).
    out = subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', dist,
                          src], capture_output=True, text=True, timeout=300)
    self.assertEqual(out.returncode, 0, out.stdout[-3000:] + out.stderr[-3000:])
    version = sideways_jax.__version__
    sdist = os.path.join(dist, f'sideways_jax-{version}.tar.gz')
    with tarfile.open(sdist) as tar:
      self.assertIn(f'sideways_jax-{version}/requirements.txt', tar.getnames())
    with zipfile.ZipFile(os.path.join(dist, f'sideways_jax-{version}-py3-none-any.whl')) as whl:
      names = whl.namelist()
      self.assertEqual({n.split('/')[0] for n in names},
                       {'sideways_jax', f'sideways_jax-{version}.dist-info'})
      self.assertIn('sideways_jax/experiments/configs/default.py', names)
      self.assertIn('sideways_jax/experiments/train.py', names)
      info = f'sideways_jax-{version}.dist-info'
      entry_points = whl.read(f'{info}/entry_points.txt').decode()
      self.assertIn('sideways-train = sideways_jax.experiments.train:run', entry_points)
      metadata = whl.read(f'{info}/METADATA').decode().splitlines()
    self.assertIn(f'Version: {version}', metadata)
    requires = [line for line in metadata if line.startswith('Requires-Dist:')]
    chex = [line for line in requires if _name(line.split(':', 1)[1].strip()) == 'chex']
    self.assertLen(chex, 1)
    self.assertIn('extra == "test"', chex[0])


if __name__ == '__main__':
  absltest.main()
