"""Moving MNIST from the official `mnist_test_seq.npy`.

The file (http://www.cs.toronto.edu/~nitish/unsupervised_video/) is uint8 of
shape [20, 10000, 64, 64], time-major. It has no official split; ours: the
last `round(N * test_fraction)` sequences (1000 of 10000 by default) are
'test', the others 'train'. Label is 0 for every sequence (one class); frames
are [T, 64, 64, 1]. The file is memory-mapped, never read whole. No PyAV needed.
"""

import os

import numpy as np

from sideways_jax.data import batching
from sideways_jax.data import errors
from sideways_jax.data import transforms

FILENAME = 'mnist_test_seq.npy'
_FIX = ('Download mnist_test_seq.npy from '
        'http://www.cs.toronto.edu/~nitish/unsupervised_video/ (uint8, shape '
        '[20, 10000, 64, 64], time-major) and pass its folder or path as root.')


class MovingMNIST:
  """Clips of Moving MNIST sequences, per the dataset protocol."""

  def __init__(self, data, seq_ids, *, train, frames_per_clip, temporal_stride,
               resolution, flip, mean, std, seed, pad_mode):
    self._data = data  # [T, N, 64, 64] uint8 memmap.
    self._ids = seq_ids
    self.train = train
    self.frames_per_clip = frames_per_clip
    self.temporal_stride = temporal_stride
    self.resolution = resolution
    self.flip = flip
    self.mean, self.std = mean, std
    self.seed = seed
    self.pad_mode = pad_mode
    self.num_classes = 1
    self.class_names = ['moving_mnist']
    self.frame_shape = (resolution, resolution, 1)

  def __len__(self):
    return len(self._ids)

  def get(self, i, epoch=0):
    """Item i as dict(frames float32 [T, R, R, 1], label 0, video_id = sequence index)."""
    if not 0 <= i < len(self):
      raise IndexError(f'index {i} out of range for {len(self)} items')
    rng = np.random.default_rng([self.seed, epoch, i]) if self.train else None
    idx = transforms.clip_indices(self._data.shape[0], self.frames_per_clip,
                                  self.temporal_stride, rng=rng, pad_mode=self.pad_mode)
    seq = int(self._ids[i])
    clip = np.asarray(self._data[idx, seq])[..., None]  # [T, 64, 64, 1]
    if self.flip and rng is not None:
      clip = transforms.random_flip(clip, rng)
    if self.resolution != clip.shape[1]:
      clip = transforms.resize_bilinear(clip, self.resolution, self.resolution)
      clip = np.clip(np.round(clip), 0, 255).astype(np.uint8)
    return dict(frames=transforms.to_float(clip, self.mean, self.std), label=0,
                video_id=seq)

  def __getitem__(self, i):
    return self.get(int(i))

  def get_batch(self, indices, epoch=0):
    return batching.collate([self.get(int(i), epoch) for i in indices])


def load_array(path):
  """Memory-maps and validates the .npy: uint8 [T, N, 64, 64]."""
  errors.require_file(path, 'Moving MNIST file', _FIX)
  try:
    data = np.load(path, mmap_mode='r', allow_pickle=False)
  except ValueError as e:
    raise errors.DataError(f'{path!r} is not a readable .npy file ({e}). {_FIX}') from e
  if data.dtype != np.uint8 or data.ndim != 4 or data.shape[2:] != (64, 64):
    raise errors.DataError(
        f'{path!r} has dtype {data.dtype} and shape {data.shape}; expected uint8 '
        f'[T, N, 64, 64] (time-major, official [20, 10000, 64, 64]). {_FIX}')
  return data


def moving_mnist(split='train', *, root, frames_per_clip=20, temporal_stride=1,
                 resolution=64, flip=False, test_fraction=0.1, mean=None, std=None,
                 seed=0, pad_mode='loop'):
  """Moving MNIST clips for `split` ('train' / 'test').

  Args:
    split: 'train' (first sequences) or 'test' (last `test_fraction`).
    root: folder holding mnist_test_seq.npy, or the .npy path itself.
    frames_per_clip, temporal_stride: clip length (sequences have 20 frames;
      train clips start at random, test clips are centred).
    resolution: output side (64 = native; otherwise bilinear resize).
    flip: random horizontal flips of training clips (default False: Moving MNIST is
      usually trained unflipped; a flip mirrors the digits' glyphs and their motion;
      None also means False). Test clips are never flipped.
    test_fraction: share of sequences held out for 'test'.
    mean, std, seed, pad_mode: as in `video_folder.VideoClipDataset`.
  """
  if split not in ('train', 'test'):
    raise ValueError(f"Moving MNIST split must be 'train' or 'test', got {split!r}")
  flip = False if flip is None else flip  # None (a config leaving flip unset): default
  if not isinstance(flip, (bool, np.bool_)):
    raise ValueError('Moving MNIST: flip must be True, False or None (the default, False); '
                     f'got {flip!r}.')
  transforms.check_pad_mode(pad_mode)
  path = root if root.endswith('.npy') else os.path.join(root, FILENAME)
  if not root.endswith('.npy'):
    errors.require_dir(root, 'Moving MNIST root directory', _FIX)
  data = load_array(path)
  n = data.shape[1]
  num_test = max(1, int(round(n * test_fraction)))
  if num_test >= n:
    raise errors.DataError(f'{path!r} has only {n} sequences; need more than '
                           f'{num_test} test ones. {_FIX}')
  ids = np.arange(n - num_test) if split == 'train' else np.arange(n - num_test, n)
  return MovingMNIST(data, ids, train=split == 'train',
                     frames_per_clip=frames_per_clip, temporal_stride=temporal_stride,
                     resolution=resolution, flip=bool(flip), mean=mean, std=std, seed=seed,
                     pad_mode=pad_mode)
