"""The XLA:CPU conv-gradient trap inside `lax.scan`, and the layers.conv2d workaround.

Prints ms per call of forward / input-gradient / weight-gradient convs, inside a 16-step
scan vs a jitted call from a Python loop, for lax's VJP and for `layers.conv2d`'s.
Run: `python benchmarks/conv_in_scan.py`. Also a suite: `--only conv_in_scan`.
"""

import time

import jax
import jax.numpy as jnp
from jax import lax

from sideways_jax import layers

_DN = ('NHWC', 'HWIO', 'NHWC')


def _ms(f, x, w, g, steps=16, runs=3):
  xs, gs = jnp.stack([x] * steps), jnp.stack([g] * steps)

  @jax.jit
  def scanned(xs, gs, w):
    return lax.scan(lambda c, a: (c + jnp.sum(f(a[0], w, a[1])), None), 0., (xs, gs))[0]

  single = jax.jit(lambda x, w, g: jnp.sum(f(x, w, g)))
  scanned(xs, gs, w).block_until_ready()
  single(x, w, g).block_until_ready()
  start = time.perf_counter()
  for _ in range(runs):
    scanned(xs, gs, w).block_until_ready()
  in_scan = (time.perf_counter() - start) / runs / steps * 1e3
  start = time.perf_counter()
  for _ in range(runs * steps):
    single(x, w, g).block_until_ready()
  in_loop = (time.perf_counter() - start) / runs / steps * 1e3
  return in_scan, in_loop


def conv_in_scan(quick):
  del quick
  records = []
  for c_in, c_out in ((3, 16), (16, 32)):
    x = jax.random.normal(jax.random.PRNGKey(0), (16, 32, 32, c_in))
    w = jax.random.normal(jax.random.PRNGKey(1), (3, 3, c_in, c_out))
    g = jax.random.normal(jax.random.PRNGKey(2), (16, 32, 32, c_out))
    lax_conv = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                                     dimension_numbers=_DN)
    cases = {
        'forward': lambda x, w, g: lax_conv(x, w),
        'dx_lax': lambda x, w, g: jax.vjp(lambda x: lax_conv(x, w), x)[1](g)[0],
        'dw_lax': lambda x, w, g: jax.vjp(lambda w: lax_conv(x, w), w)[1](g)[0],
        'dx_conv2d': lambda x, w, g: jax.vjp(lambda x: layers.conv2d(x, w), x)[1](g)[0],
        'dw_conv2d': lambda x, w, g: jax.vjp(lambda w: layers.conv2d(x, w), w)[1](g)[0],
    }
    for name, f in cases.items():
      in_scan, in_loop = _ms(f, x, w, g)
      records.append({'name': f'conv_in_scan[{c_in}->{c_out},{name}]',
                      'value': in_scan / in_loop, 'unit': 'ratio scan/loop',
                      'config': {'shape': '16x32x32', 'kernel': 3, 'scan_ms': round(in_scan, 3),
                                 'loop_ms': round(in_loop, 3)}})
  return records


SUITES = {'conv_in_scan': conv_in_scan}

if __name__ == '__main__':
  for r in conv_in_scan(False):
    print(f"{r['name']:40s} scan {r['config']['scan_ms']:8.2f} ms  "
          f"loop {r['config']['loop_ms']:8.2f} ms")
