"""`ClipDataset`: what every dataset of clips cut from stored videos shares.

Item `i` is view `i % num_views` of video `i // num_views`. Training clips start at random
and get a random square crop and (with `flip`) a random horizontal flip of the whole clip;
test clips are centred, `num_views` of them evenly spaced in time, never flipped. Every
draw is seeded by `(seed, epoch, i)`, so a clip is a function of the item and the epoch
only, and the same clip whichever store it is read from (`VideoClipDataset` decodes video
files, `PreparedClipDataset` reads a prepared folder): a subclass only reads frames.
"""

import warnings

import numpy as np

from sideways_jax.data import batching
from sideways_jax.data import transforms
from sideways_jax.data.errors import ShortVideoWarning


class ClipDataset:
  """The sampling, crop, flip and protocol members of a clip dataset (see the module).

  A subclass sets `labels` (int32, one per video) and `num_videos`, and reads frames with
  `draw(i, epoch)`'s `select` and hands them to `finish`.

  Args:
    class_names: label -> name.
    train: random clips, crops and flips (else centred, `num_views` per video).
    frames_per_clip, temporal_stride: clip length and frame spacing.
    resolution: side of the square output crop.
    short_side: frames are first resized to this short side (default
      round(resolution * 8 / 7)); pass `resolution` to keep the whole frame.
    num_views: test clips per video, evenly spaced in time.
    flip: random horizontal flips in training (default True; None also means True).
    mean, std: per-channel normalisation after scaling to [0, 1].
    pad_mode: 'loop' or 'pad' for videos shorter than the clip.
    seed: seeds every random choice, with the epoch and the item.
    name: how error messages name the set.
  """

  labels = np.zeros(0, np.int32)
  num_videos = 0

  def __init__(self, *, class_names, train, frames_per_clip=16, temporal_stride=1,
               resolution=112, short_side=None, num_views=1, flip=True, mean=None,
               std=None, pad_mode='loop', seed=0, name='videos'):
    transforms.check_pad_mode(pad_mode)
    if flip is None:  # what a config passes when it leaves flip unset: the default
      flip = True
    if not isinstance(flip, (bool, np.bool_)):
      raise ValueError(f'{name}: flip must be True, False or None (the default, True); '
                       f'got {flip!r}.')
    self.name = name
    self.class_names = list(class_names)
    self.num_classes = len(self.class_names)
    self.train = train
    self.frames_per_clip = frames_per_clip
    self.temporal_stride = temporal_stride
    self.resolution = resolution
    self.short_side = short_side or int(round(resolution * 8 / 7))
    self.num_views = 1 if train else num_views
    self.flip = bool(flip)
    self.mean, self.std = mean, std
    self.pad_mode = pad_mode
    self.seed = seed
    self.frame_shape = (resolution, resolution, 3)
    self.short_videos = set()  # videos found shorter than a clip (warned about once each)

  def video_name(self, v):
    """How messages name video v."""
    return f'#{v}'

  @property
  def item_labels(self):
    """int32 [len(self)]: the label of every item (item i is video i // num_views), read
    from the lists, nothing decoded."""
    return np.repeat(self.labels, self.num_views).astype(np.int32)

  def __len__(self):
    return self.num_videos * self.num_views

  def draw(self, i, epoch):
    """Item i's video v, its random generator (None in test) and `select`: a video's frame
    count -> the clip's frame indices."""
    if not 0 <= i < len(self):
      raise IndexError(f'index {i} out of range for {len(self)} items')
    v, view = divmod(i, self.num_views)
    rng = np.random.default_rng([self.seed, epoch, i]) if self.train else None
    def select(n):
      span = (self.frames_per_clip - 1) * self.temporal_stride + 1
      if n < span and v not in self.short_videos:
        self.short_videos.add(v)
        how = 'loop it' if self.pad_mode == 'loop' else 'repeat its last frame'
        warnings.warn(f'{self.name}: video {self.video_name(v)} has {n} frames, fewer than '
                      f'a clip spans ({span}: frames_per_clip={self.frames_per_clip}, '
                      f'temporal_stride={self.temporal_stride}); its clips {how} '
                      f"(pad_mode={self.pad_mode!r}). Said once per video.",
                      ShortVideoWarning, stacklevel=2)
      return transforms.clip_indices(
          n, self.frames_per_clip, self.temporal_stride, rng=rng, view=view,
          num_views=self.num_views, pad_mode=self.pad_mode)
    return v, rng, select

  def finish(self, clip, rng, v, uint8=False):
    """uint8 frames [T, H, W, 3] of video v -> the item: cropped, flipped, as floats (as
    uint8 with `uint8`: `to_float` makes them the floats)."""
    clip = transforms.crop_and_flip(clip, self.resolution, rng=rng, flip=self.flip)
    return dict(frames=clip if uint8 else self.to_float(clip), label=int(self.labels[v]),
                video_id=v)

  def finish_frames(self, frames, rng, v, uint8=False):
    """`finish` of the clip `np.stack(frames)` (uint8 [H, W, 3] each), cropping every frame
    before it is stacked: the same item, less copying."""
    clip = transforms.crop_and_flip_frames(frames, self.resolution, rng=rng, flip=self.flip)
    return dict(frames=clip if uint8 else self.to_float(clip), label=int(self.labels[v]),
                video_id=v)

  def to_float(self, frames):
    """uint8 frames (any leading axes) -> float32 in [0, 1], then (x - mean) / std."""
    return transforms.to_float(frames, self.mean, self.std)

  def __getitem__(self, i):
    return self.get(int(i))

  def get(self, i, epoch=0, uint8=False):
    raise NotImplementedError

  def get_batch(self, indices, epoch=0, uint8=False):
    """The batch of items `indices`; with `uint8`, its frames before `to_float` (a quarter
    of the bytes: what worker processes send, `batching.batches` converts them here)."""
    return batching.collate([self.get(int(i), epoch, uint8=uint8) for i in indices])
