"""Moving digits: Moving-MNIST-style bouncing digits, drawn from a built-in font (no download).

A 5x7 bitmap font for the digits 0-9 is rendered once per size into anti-aliased float
glyphs (bilinear upsampling), which gives MNIST-like thick strokes that are still clearly
distinct per digit; `moving_digits` moves one or two of them per clip.
"""

import functools

import numpy as np

from sideways_jax.data import synthetic
from sideways_jax.data import synthetic_render as render

_BITMAPS = {
    0: ('.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'),
    1: ('..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'),
    2: ('.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'),
    3: ('#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'),
    4: ('...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'),
    5: ('#####', '#....', '####.', '....#', '....#', '#...#', '.###.'),
    6: ('..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'),
    7: ('#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'),
    8: ('.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'),
    9: ('.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'),
}


def digit_bitmaps():
  """Returns the raw font as bool [10, 7, 5] (digit, row, column)."""
  return np.array([[[c == '#' for c in row] for row in _BITMAPS[d]] for d in range(10)])


@functools.lru_cache(maxsize=16)
def digit_glyphs(size):
  """Returns float32 [10, size, size] glyphs in [0, 1], the digit centred in its box.

  The 5x7 bitmap fills about 80% of the box height (like MNIST's 20-of-28 pixel digits)
  and is sampled bilinearly, so strokes are smooth at any size >= 7.

  Args:
    size: side of the square glyph box in pixels.
  """
  if size < 7:
    raise ValueError(f'glyph size must be >= 7 pixels, got {size}.')
  bitmaps = np.pad(digit_bitmaps().astype(np.float32), ((0, 0), (1, 1), (1, 1)))
  cell = 0.8 * size / 7.0                       # pixels per bitmap cell
  centre = (size - 1) / 2.0
  coords = (np.arange(size) - centre) / cell    # in cells, 0 at the glyph centre
  rows = coords + 3.5 + 1.0 - 0.5               # +1 for the padding, -0.5 for cell centres
  cols = coords + 2.5 + 1.0 - 0.5

  def _axis(c, n):
    c = np.clip(c, 0, n - 1.001)
    lo = np.floor(c).astype(np.int64)
    return lo, c - lo

  r0, fr = _axis(rows, bitmaps.shape[1])
  c0, fc = _axis(cols, bitmaps.shape[2])
  b = bitmaps
  top = b[:, r0][:, :, c0] * (1 - fc) + b[:, r0][:, :, c0 + 1] * fc
  bottom = b[:, r0 + 1][:, :, c0] * (1 - fc) + b[:, r0 + 1][:, :, c0 + 1] * fc
  glyphs = top * (1 - fr[:, None]) + bottom * fr[:, None]
  # Sharpen the bilinear ramp a little so strokes are solid in the middle.
  glyphs = np.clip((glyphs - 0.5) * 1.6 + 0.5, 0.0, 1.0)
  return glyphs.astype(np.float32)


def moving_digits(split='train', *, resolution=64, frames_per_clip=20, num_classes=None,
                  num_clips=None, seed=0, channels=1, num_digits=2, noise=0.0, flip=None):
  """Moving-MNIST-style bouncing digits for future-frame prediction; no download.

  `num_digits` glyphs from a built-in 5x7 bitmap font (glyph box 28 px at 64x64, like
  MNIST) move at 2-4 px/frame (at 64x64) in random directions and bounce off the frame
  edges; overlapping digits combine by max. Background 0, digits 1, no noise by default.

  The label is the identity (0-9) of the first digit, so with num_digits=1 this is also a
  digit classification task; prediction models ignore it.

  Args:
    split: 'train' or 'test'.
    resolution: frame side (>= 16); default 64.
    frames_per_clip: T; default 20 (10 context + 10 to predict, as usual for Moving MNIST).
    num_classes: draw digits from 0..num_classes-1 (1..10); None for all 10.
    num_clips: default 8192 train / 1024 test.
    seed: base seed.
    channels: 1 (default) or 3 (grey replicated).
    num_digits: 1 or 2.
    noise: pixel noise std (default 0).
    flip: None or False; True raises ValueError (no augmentation: a mirror would also
      mirror the glyphs).
  """
  synthetic.check_no_flip('moving_digits', flip)
  num_clips = synthetic.common_args(split, resolution, frames_per_clip, num_clips, channels)
  if resolution < 16:
    raise ValueError(f'resolution must be >= 16 for moving_digits; got {resolution}.')
  names = synthetic.select_classes(num_classes, tuple(str(d) for d in range(10)), min_classes=1)
  synthetic.check_choice('num_digits', num_digits, (1, 2))
  noise, _ = synthetic.difficulty(noise, 0)
  t, h, w, c = frames_per_clip, resolution, resolution, channels
  size = int(round(28 * resolution / 64))
  span = resolution - size                     # top-left corner moves in [0, span]
  glyph_set = digit_glyphs(size)
  k = len(names)

  def render_fn(labels, cols):
    b = len(labels)
    canvas = np.zeros((b * t, h, w), np.float32)
    steps = np.arange(t, dtype=np.float64)[None]
    frame_idx = np.arange(b * t)[:, None, None]
    ar = np.arange(size)
    for d in range(num_digits):
      digit = labels if d == 0 else np.minimum((cols.take() * k).astype(np.int64), k - 1)
      pos0 = cols.take(2) * span
      heading = 2 * np.pi * cols.take()
      speed = cols.uniform(2.0, 4.0) * resolution / 64
      xy = []
      for a, v in ((0, np.cos(heading)), (1, -np.sin(heading))):
        x = pos0[:, a, None] + (speed * v)[:, None] * steps
        xy.append(span - np.abs(np.mod(x + span, 2 * span) - span))  # reflect at the edges
      x = np.rint(xy[0]).astype(np.int64).reshape(-1)
      y = np.rint(xy[1]).astype(np.int64).reshape(-1)
      g = np.repeat(glyph_set[digit], t, axis=0)
      rows = y[:, None, None] + ar[None, :, None]
      cols_ = x[:, None, None] + ar[None, None, :]
      canvas[frame_idx, rows, cols_] = np.maximum(canvas[frame_idx, rows, cols_], g)
    frames = canvas.reshape(b, t, h, w, 1)
    if c > 1:
      frames = np.repeat(frames, c, axis=-1)
    return render.add_noise(np.ascontiguousarray(frames), cols, noise)

  return synthetic.SyntheticClips(
      name='moving_digits', split=split, class_names=names, frame_shape=(h, w, c),
      frames_per_clip=t, num_clips=num_clips, seed=seed, render_fn=render_fn,
      config=dict(resolution=resolution, num_digits=num_digits, noise=noise, seed=seed))
