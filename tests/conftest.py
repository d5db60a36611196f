"""Test setup: 8 fake CPU devices, set before jax is imported anywhere.

Local runs keep JAX's persistent compilation cache in the work tree (`.jax_cache/`,
git-ignored), so a fresh clone (CI) always compiles cold.

The suite compiles with XLA's expensive optimisations off (`JAX_DISABLE_MOST_OPTIMIZATIONS`,
LLVM at -O0): its programs are small and compiling them is most of its time, so this
roughly halves it (2037 s -> 1125 s for the whole suite on one core, the other busy, both
with a cold cache; re-measure: `python -m pytest -q tests` and
`JAX_DISABLE_MOST_OPTIMIZATIONS=0 python -m pytest -q tests`). It changes how XLA compiles,
not what a program computes: every equality test compares two programs compiled alike.
Set JAX_DISABLE_MOST_OPTIMIZATIONS=0 to test optimised code; benchmarks never use this.
"""

import os

os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=8').strip()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ.setdefault('JAX_DISABLE_MOST_OPTIMIZATIONS', '1')
os.environ.setdefault('JAX_COMPILATION_CACHE_DIR', os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), '.jax_cache'))
