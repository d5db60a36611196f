"""Layers the engine relies on: a conv whose weight gradient is fast inside `lax.scan`.

On XLA:CPU the gradient convolutions that `jax.vjp` emits for `lax.conv` run far slower
inside a `lax.scan` than outside it (measured here, 3x3 conv 16->32 channels, 32x32, batch
16, jax 0.10.2: weight gradient 145 vs 1.5 ms, input gradient 91 vs 0.8 ms), while forward
convs are fine. Every Sideways tick is a VJP inside a scan, so this would dominate training.
`conv2d` below has a custom VJP that writes both gradients as *forward* convolutions (the
input gradient with the flipped kernel; the weight gradient with images as the batch of a
"kernel"), which XLA:CPU runs at forward speed, and matches `jax.vjp` (tests/test_layers.py).
Re-measure: `python benchmarks/conv_in_scan.py`. Only stride 1 and no dilation take the fast path; anything else
falls back to `lax.conv_general_dilated` and its usual VJP.
"""

import functools
from typing import Sequence, Tuple, Union

import haiku as hk
import jax
import jax.numpy as jnp
from jax import lax

_DN = ('NHWC', 'HWIO', 'NHWC')
Padding = Union[str, Sequence[Tuple[int, int]]]


def _explicit_padding(padding, kernel_hw):
  if isinstance(padding, str):
    if padding.upper() == 'SAME':
      return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel_hw)
    if padding.upper() == 'VALID':
      return ((0, 0), (0, 0))
    raise ValueError(f'Unknown padding {padding!r}; use "SAME", "VALID" or pairs.')
  return tuple(tuple(p) for p in padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _conv_stride1(x, w, padding):
  return lax.conv_general_dilated(x, w, (1, 1), padding, dimension_numbers=_DN)


def _conv_stride1_fwd(x, w, padding):
  return _conv_stride1(x, w, padding), (x, w)


def _conv_stride1_bwd(padding, res, g):
  x, w = res
  kh, kw = w.shape[:2]
  (pt, pb), (pl, pr) = padding
  # Input gradient as a forward conv of g with the flipped, in/out-swapped kernel.
  w_flip = jnp.transpose(w[::-1, ::-1], (0, 1, 3, 2))
  dx = lax.conv_general_dilated(
      g, w_flip, (1, 1), ((kh - 1 - pt, kh - 1 - pb), (kw - 1 - pl, kw - 1 - pr)),
      dimension_numbers=_DN)
  # Weight gradient as a forward conv: batch B becomes the contracted feature dim.
  # lhs: x as (C, H, W, B) "NHWC"; rhs: g as (H', W', B, O) "HWIO"; out: (C, kh, kw, O).
  lhs = jnp.transpose(x, (3, 1, 2, 0))
  rhs = jnp.transpose(g, (1, 2, 0, 3))
  dw = lax.conv_general_dilated(lhs, rhs, (1, 1), padding, dimension_numbers=_DN)
  dw = jnp.transpose(dw, (1, 2, 0, 3)).astype(w.dtype)
  return dx.astype(x.dtype), dw


_conv_stride1.defvjp(_conv_stride1_fwd, _conv_stride1_bwd)


def conv2d(x, w, stride=1, padding: Padding = 'SAME'):
  """NHWC / HWIO 2-D convolution with a scan-friendly weight gradient (see module doc)."""
  stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
  pads = _explicit_padding(padding, w.shape[:2])
  if stride == (1, 1):
    return _conv_stride1(x, w, pads)
  return lax.conv_general_dilated(x, w, stride, pads, dimension_numbers=_DN)


class Conv2D(hk.Module):
  """A 2-D convolution (NHWC) like `hk.Conv2D`, using `conv2d` so VJPs in scans are fast.

  Example:
    y = Conv2D(32, 3)(x)  # x: [B, H, W, C]
  """

  def __init__(self, output_channels: int, kernel_shape=3, stride=1,
               padding: Padding = 'SAME', with_bias: bool = True, w_init=None,
               name=None):
    super().__init__(name=name)
    self.output_channels = output_channels
    self.kernel_shape = ((kernel_shape, kernel_shape) if isinstance(kernel_shape, int)
                         else tuple(kernel_shape))
    self.stride = stride
    self.padding = padding
    self.with_bias = with_bias
    self.w_init = w_init

  def __call__(self, x):
    if x.ndim != 4:
      raise ValueError(f'{self.module_name}: expected NHWC input, got shape {x.shape}.')
    c_in = x.shape[-1]
    w_shape = self.kernel_shape + (c_in, self.output_channels)
    w_init = self.w_init or hk.initializers.VarianceScaling(2.0, 'fan_in', 'truncated_normal')
    w = hk.get_parameter('w', w_shape, x.dtype, init=w_init)
    y = conv2d(x, w, self.stride, self.padding)
    if self.with_bias:
      b = hk.get_parameter('b', (self.output_channels,), x.dtype, init=jnp.zeros)
      y = y + b
    return y
