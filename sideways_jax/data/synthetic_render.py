"""Vectorised numpy rendering shared by the synthetic sets: shapes on a torus, backgrounds, noise.

Everything here works on whole batches of clips at once ([B, T, ...]) so generation is fast
without a GPU. Positions live on a torus (objects wrap around the frame edges): with a
uniform start position, the position in *every* frame is then exactly uniform whatever the
motion, which is what lets the temporal action set hide its class from single frames.
"""

import functools

import numpy as np

# Shapes are radial functions r(a) = radius * (1 + Re(sum_k c_k exp(i k (a - angle)))),
# k = 2..NUM_HARMONICS+1 (k=1 would only shift the centre).
NUM_HARMONICS = 4
_NOISE_BANK_FRAMES = 61


class Columns:
  """Hands out consecutive columns of a [B, P] array of per-clip uniforms, by name of use.

  Each clip's randomness is a fixed-length vector drawn from its own generator, so a clip
  is the same whether rendered alone or inside any batch.
  """

  def __init__(self, uniforms):
    self._u = uniforms
    self._next = 0

  def take(self, n=None):
    """Returns [B] (n=None) or [B, n] uniforms in [0, 1) not handed out before."""
    k = 1 if n is None else n
    if self._next + k > self._u.shape[1]:
      raise RuntimeError('ran out of per-clip random numbers; raise num_params.')
    out = self._u[:, self._next:self._next + k]
    self._next += k
    return out[:, 0] if n is None else out

  def uniform(self, lo, hi, n=None):
    return lo + (hi - lo) * self.take(n)


def random_shape_coeffs(cols, strength=1.0):
  """Random asymmetric blob shapes as complex [B, NUM_HARMONICS] coefficients.

  The k=2 and k=3 terms are never tiny, so every shape's rotation is visible.
  """
  amp_lo = np.array([0.08, 0.05, 0.0, 0.0])
  amp_hi = np.array([0.18, 0.15, 0.08, 0.06])
  amp = amp_lo + (amp_hi - amp_lo) * cols.take(NUM_HARMONICS)
  phase = 2 * np.pi * cols.take(NUM_HARMONICS)
  return (strength * amp * np.exp(1j * phase)).astype(np.complex64)


def contrasting_colours(cols, base, lo=0.25, hi=0.45):
  """Colours [B, C] that differ from `base` [B, C] by lo..hi in every channel."""
  d = cols.uniform(lo, hi, base.shape[1])
  return np.where(base > 0.5, base - d, base + d).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _upsample_matrix(size, grid):
  """[size, grid] periodic linear-interpolation matrix (smooth textures that tile the torus)."""
  pos = (np.arange(size) + 0.5) * grid / size - 0.5
  lo = np.floor(pos).astype(np.int64)
  frac = pos - lo
  m = np.zeros((size, grid), np.float32)
  m[np.arange(size), lo % grid] += 1 - frac
  m[np.arange(size), (lo + 1) % grid] += frac
  return m


def smooth_background(cols, height, width, channels, amplitude):
  """Static backgrounds [B, H, W, C]: a random base colour plus a smooth periodic texture.

  Returns:
    (background, base colour [B, C]).
  """
  grid = 4
  base = cols.uniform(0.2, 0.8, channels).astype(np.float32)
  b = base.shape[0]
  tex = cols.uniform(-amplitude, amplitude, grid * grid * channels)
  tex = tex.reshape(b, grid, grid, channels).astype(np.float32)
  mh, mw = _upsample_matrix(height, grid), _upsample_matrix(width, grid)
  bg = np.matmul(mh, np.matmul(tex.transpose(0, 3, 1, 2), mw.T))  # [B, C, H, W]
  bg = bg.transpose(0, 2, 3, 1) + base[:, None, None, :]
  return bg.astype(np.float32), base


@functools.lru_cache(maxsize=8)
def _noise_bank(size):
  """A fixed bank of Gaussian noise, each row flattened frames tiled 2x (any shift = a slice)."""
  rng = np.random.default_rng(12345)
  bank = rng.standard_normal((_NOISE_BANK_FRAMES, size), dtype=np.float32)
  return np.concatenate([bank, bank], axis=1)


def add_noise(frames, cols, sigma):
  """Adds per-frame pixel noise (std `sigma`) to frames [B, T, H, W, C], in place.

  A noise frame is a random cyclic shift (in raster order) of a row of a fixed bank, chosen
  by the clip's own random numbers (about 60 * H * W * C distinct frames): as good as fresh
  noise for training and several times cheaper than drawing it.
  """
  if sigma <= 0:
    return frames
  b, t = frames.shape[:2]
  size = int(np.prod(frames.shape[2:]))
  u = cols.take(2 * t).reshape(b * t, 2)
  k = (u[:, 0] * _NOISE_BANK_FRAMES).astype(np.int64)
  off = (u[:, 1] * size).astype(np.int64)
  windows = np.lib.stride_tricks.sliding_window_view(_noise_bank(size), size, axis=1)
  noise = windows[k, off]
  frames += np.float32(sigma) * noise.reshape(frames.shape)
  return frames


def draw_shapes(frames, pos, angle, radius, coeffs, colour, stripes=None, stripe_colour=None,
                stripe_period=3.0):
  """Alpha-composites one shape per clip into frames [B, T, H, W, C], in place.

  Only a square window around each shape is evaluated (the shape's largest possible extent),
  then scattered back with wrap-around indices; that keeps small shapes cheap.

  Args:
    frames: float32 [B, T, H, W, C].
    pos: [B, T, 2] centre (x, y) in pixels; wraps around the frame (torus).
    angle: [B, T] orientation in radians (counter-clockwise on screen).
    radius: [B, T] mean radius in pixels.
    coeffs: complex [B, NUM_HARMONICS] shape coefficients (see module docstring).
    colour: [B, C] fill colour.
    stripes: optional [B] in [0, 1]; the strength of stripes across the shape's own axis
      (they rotate with the shape).
    stripe_colour: [B, C] second colour of the stripes.
    stripe_period: stripe period in pixels.
  """
  if not frames.flags.c_contiguous:
    raise ValueError('draw_shapes writes through a flat view: frames must be C-contiguous.')
  b, t, h, w, c = frames.shape
  extent = float(np.max(radius) * (1 + np.max(np.abs(coeffs).sum(-1)))) if radius.size else 1.0
  size = int(np.ceil(2 * extent + 3))
  px = np.mod(pos[..., 0], w).astype(np.float32)
  py = np.mod(pos[..., 1], h).astype(np.float32)
  if size < min(h, w):
    x0 = np.floor(px - size / 2).astype(np.int64)
    y0 = np.floor(py - size / 2).astype(np.int64)
    offs = np.arange(size)
    xs = (x0[..., None] + offs)[..., None, :]            # [B, T, 1, S]
    ys = (y0[..., None] + offs)[..., :, None]            # [B, T, S, 1]
    dx = xs.astype(np.float32) + np.float32(0.5) - px[..., None, None]
    dy = py[..., None, None] - ys.astype(np.float32) - np.float32(0.5)
    frame_start = (np.arange(b * t) * (h * w)).reshape(b, t, 1, 1)
    index = frame_start + np.mod(ys, h) * w + np.mod(xs, w)  # flat pixel index [B, T, S, S]
    pixels = frames.reshape(-1, c)
    target = pixels[index]                               # [B, T, S, S, C]
  else:
    xs = (np.arange(w, dtype=np.float32) + 0.5)[None, None, None, :]
    ys = (np.arange(h, dtype=np.float32) + 0.5)[None, None, :, None]
    dx = (xs - px[..., None, None] + w / 2) % w - w / 2
    dy = -((ys - py[..., None, None] + h / 2) % h - h / 2)  # y up: positive angles are ccw
    index = None
    target = frames
  rho = np.sqrt(dx * dx + dy * dy) + np.float32(1e-6)
  ca = np.cos(angle).astype(np.float32)[..., None, None]
  sa = np.sin(angle).astype(np.float32)[..., None, None]
  cos1 = (dx * ca + dy * sa) / rho                       # direction in the shape's own frame
  sin1 = (dy * ca - dx * sa) / rho
  ck, sk = cos1 * cos1 - sin1 * sin1, 2 * cos1 * sin1    # k = 2
  shape = np.zeros_like(rho)
  re = coeffs.real.astype(np.float32)
  im = coeffs.imag.astype(np.float32)
  for k in range(NUM_HARMONICS):
    shape += re[:, k, None, None, None] * ck - im[:, k, None, None, None] * sk
    if k + 1 < NUM_HARMONICS:
      ck, sk = ck * cos1 - sk * sin1, sk * cos1 + ck * sin1
  r = radius.astype(np.float32)[..., None, None] * (1 + shape)
  alpha = np.clip(r - rho + 0.5, 0.0, 1.0)[..., None]
  fill = colour[:, None, None, None, :]
  if stripes is not None:
    along = (rho * cos1)[..., None]                      # coordinate along the shape's x axis
    wave = 0.5 + 0.5 * np.sin(along * np.float32(2 * np.pi / stripe_period))
    mix = stripes.astype(np.float32)[:, None, None, None, None] * wave
    fill = fill + mix * (stripe_colour - colour)[:, None, None, None, :]
  target += alpha * (fill - target)
  if index is not None:
    pixels[index] = target
  return frames


def wrap(x, period):
  """x mod period, for positions on the torus."""
  return np.mod(x, period)
