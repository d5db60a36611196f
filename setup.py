"""Install sideways_jax: `pip install -e .` (extras: `[tfds]`, `[tensorflow]`, `[test]`).

The static metadata (name, version from sideways_jax.__version__, console scripts) is in
pyproject.toml. This file holds what pyproject.toml cannot: the dependencies, read from
requirements.txt (its one source), and the packages, found at build time. The repository's
experiments/ folder installs as `sideways_jax.experiments` (never a top-level
`experiments`, which would clash with other projects); in the repository it is still
`experiments` (`python -m experiments.train`), so its modules import each other relatively.
"""

import os
import re

import setuptools

_HERE = os.path.dirname(os.path.abspath(__file__))


def read_requirements(path=os.path.join(_HERE, 'requirements.txt')):
  """(install_requires, {extra: requirements}) from requirements.txt: the lines before the
  first `# [EXTRA]` header, then each header's lines."""
  core, extras, section = [], {}, None
  with open(path) as f:
    for line in f:
      header = re.match(r'#\s*\[([\w-]+)\]', line.strip())
      if header:
        section = extras.setdefault(header.group(1), [])
        continue
      requirement = line.split('#')[0].strip()
      if requirement:
        (core if section is None else section).append(requirement)
  return core, extras


def packages():
  """sideways_jax's packages, and experiments/'s under the name sideways_jax.experiments."""
  found = ['sideways_jax'] + [f'sideways_jax.{p}' for p in
                              setuptools.find_packages(os.path.join(_HERE, 'sideways_jax'))]
  found += ['sideways_jax.experiments'] + [
      f'sideways_jax.experiments.{p}'
      for p in setuptools.find_packages(os.path.join(_HERE, 'experiments'))]
  return found


if __name__ == '__main__':
  _CORE, _EXTRAS = read_requirements()
  # tfds's own ucf101 / moving_mnist builders need TensorFlow itself (~1.5 GB).
  _EXTRAS['tensorflow'] = [r for r in _EXTRAS['tfds'] if r.startswith(
      ('tensorflow-datasets', 'importlib_resources'))] + ['tensorflow']
  setuptools.setup(
      packages=packages(),
      package_dir={'sideways_jax.experiments': 'experiments'},
      install_requires=_CORE,
      extras_require=_EXTRAS,
  )
