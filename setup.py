"""Install sideways_jax: `pip install -e .` (add `[tfds]` for tensorflow-datasets)."""

import setuptools

with open('requirements.txt') as f:
  _RUNTIME = f.read().split('# Tests')[0]  # the lines after it are for the test suite
_REQUIREMENTS = [line.split('#')[0].strip() for line in _RUNTIME.splitlines()
                 if line.split('#')[0].strip()]

setuptools.setup(
    name='sideways_jax',
    version='0.1.0',
    description='Sideways and Skip-Sideways depth-parallel training of video models in JAX.',
    long_description=open('README.md').read() if __import__('os').path.exists('README.md')
    else '',
    long_description_content_type='text/markdown',
    packages=setuptools.find_packages(include=['sideways_jax', 'sideways_jax.*',
                                               'experiments', 'experiments.*']),
    python_requires='>=3.11',
    install_requires=_REQUIREMENTS,
    entry_points={'console_scripts': [
        'sideways-train = experiments.train:run',
        'sideways-evaluate = experiments.evaluate:run',
    ]},
    extras_require={
        # Prepared datasets (python -m sideways_jax.data.prepare): a tfds builder without
        # TensorFlow (array_record + grain), frames as JPEG through libjpeg-turbo
        # (simplejpeg); tfds 4.9.10 needs importlib_resources but does not declare it.
        'tfds': ['tensorflow-datasets>=4.9.10', 'importlib_resources', 'array-record',
                 'simplejpeg>=1.7'],
        # tfds's own ucf101 / moving_mnist builders need TensorFlow itself (~1.5 GB).
        'tensorflow': ['tensorflow-datasets>=4.9.10', 'importlib_resources', 'tensorflow'],
        'test': ['pytest>=8.0', 'pytest-xdist', 'tensorboard>=2.20'],
    },
)
