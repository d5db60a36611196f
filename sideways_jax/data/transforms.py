"""Clip sampling and clip transforms, numpy only: where a clip starts, crop, flip, resize.

Shared by the real-video datasets and Moving MNIST. A clip transform applies one draw to
every frame (one crop, one flip), so motion stays consistent across the clip.
"""

import numpy as np

PAD_MODES = ('loop', 'pad')


def check_pad_mode(pad_mode):
  if pad_mode not in PAD_MODES:
    raise ValueError(f'pad_mode must be one of {PAD_MODES}, got {pad_mode!r}')


def clip_indices(num_frames, frames_per_clip, temporal_stride=1, *, rng=None,
                 view=0, num_views=1, pad_mode='loop'):
  """Frame indices of one clip: [frames_per_clip] int array.

  With `rng` the start is uniform (training); without it the start is the
  centre of the `view`-th of `num_views` equal segments of the valid starts, so
  one view is centred and several views are evenly spaced. A video shorter than
  the clip span is looped (`pad_mode='loop'`) or its last frame repeated
  (`pad_mode='pad'`).
  """
  if num_frames < 1:
    raise ValueError(f'num_frames must be >= 1, got {num_frames}')
  check_pad_mode(pad_mode)
  offsets = np.arange(frames_per_clip) * temporal_stride
  span = offsets[-1] + 1
  if num_frames < span:
    if pad_mode == 'loop':
      return offsets % num_frames
    return np.minimum(offsets, num_frames - 1)
  max_start = num_frames - span
  if rng is not None:
    start = int(rng.integers(0, max_start + 1))
  else:
    start = min(int((view + 0.5) * max_start / num_views), max_start)
  return start + offsets


def short_side_size(height, width, short_side):
  """(out_h, out_w) with the short side `short_side`, aspect ratio kept."""
  if height <= width:
    return short_side, max(short_side, int(round(width * short_side / height)))
  return max(short_side, int(round(height * short_side / width))), short_side


def crop_and_flip(clip, size, *, rng=None, flip=False):
  """Square crop of side `size`: random offsets with `rng`, else centred.

  The same crop (and horizontal flip, with probability 1/2 when `flip` and `rng`) applies
  to every frame so motion stays consistent. A flip mirrors motion too: 'left' becomes
  'right'. Frames smaller than `size` are edge-padded.
  """
  _, h, w, _ = clip.shape
  if h < size or w < size:
    ph, pw = max(0, size - h), max(0, size - w)
    clip = np.pad(clip, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2),
                         (0, 0)), mode='edge')
    _, h, w, _ = clip.shape
  y, x = crop_corner(h, w, size, rng)
  clip = clip[:, y:y + size, x:x + size]
  if flip and rng is not None:
    clip = random_flip(clip, rng)
  return clip


def crop_corner(height, width, size, rng=None):
  """(y, x) of a square crop of side `size` in a `height` x `width` frame (each at least
  `size`): uniform with `rng` (two draws: y, then x), else centred."""
  if rng is not None:
    return int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
  return (height - size) // 2, (width - size) // 2


def crop_and_flip_frames(frames, size, *, rng=None, flip=False):
  """`crop_and_flip(np.stack(frames), ...)`, the same draws and the same numbers, cropping
  each frame before stacking (only the crop is copied). Frames smaller than `size` take
  the stacked path (edge padding)."""
  h, w = frames[0].shape[:2]
  if h < size or w < size:
    return crop_and_flip(np.stack(frames), size, rng=rng, flip=flip)
  y, x = crop_corner(h, w, size, rng)
  clip = np.stack([f[y:y + size, x:x + size] for f in frames])
  if flip and rng is not None:
    clip = random_flip(clip, rng)
  return clip


def random_flip(clip, rng):
  """Mirrors the whole clip left-right with probability 1/2 (one draw from `rng`)."""
  return clip[:, :, ::-1] if rng.random() < 0.5 else clip


def resize_bilinear(frames, height, width):
  """Numpy bilinear resize of [T, H, W, C] frames (half-pixel centres)."""
  t, h, w, c = frames.shape
  if (h, w) == (height, width):
    return frames.astype(np.float32)
  ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
  xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
  y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
  y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
  wy, wx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
  f = frames.astype(np.float32)
  top = f[:, y0][:, :, x0] * (1 - wx) + f[:, y0][:, :, x1] * wx
  bot = f[:, y1][:, :, x0] * (1 - wx) + f[:, y1][:, :, x1] * wx
  return top * (1 - wy) + bot * wy


def to_float(clip, mean=None, std=None):
  """uint8 -> float32 in [0, 1], then optional (x - mean) / std per channel."""
  out = clip.astype(np.float32) * np.float32(1 / 255)
  if mean is not None:
    out -= np.asarray(mean, np.float32)
  if std is not None:
    out /= np.asarray(std, np.float32)
  return out
