"""Test setup: 8 fake CPU devices, set before jax is imported anywhere.

Local runs keep JAX's persistent compilation cache in the work tree (`.jax_cache/`,
git-ignored), so a fresh clone (CI) always compiles cold.
"""

import os

os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=8').strip()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ.setdefault('JAX_COMPILATION_CACHE_DIR', os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '.jax_cache'))
