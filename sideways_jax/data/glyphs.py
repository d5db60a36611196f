"""A 5x7 bitmap font for the digits 0-9, so moving digits need no download or font library.

The bitmaps are rendered once per size into anti-aliased float glyphs (bilinear upsampling),
which gives MNIST-like thick strokes that are still clearly distinct per digit.
"""

import functools

import numpy as np

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
