"""`VideoClipDataset`: clips from a list of (video file, label), and its bad-file handling.

The shared engine behind UCF101, HMDB51 and Kinetics: those modules only parse their
on-disk layout into `(path, label)` entries and hand them here.
"""

import os
import threading
import warnings

import numpy as np

from sideways_jax.data import clips
from sideways_jax.data import video_io
from sideways_jax.data.errors import BadVideoWarning, DataError


class VideoClipDataset(clips.ClipDataset):
  """Clips from a list of (video path, label) entries, per the dataset protocol.

  Item `i` is view `i % num_views` of video `i // num_views`. Items are
  deterministic given `(seed, epoch, i)`; `get(i, epoch)` and
  `get_batch(indices, epoch)` vary augmentation across epochs and `ds[i]` is epoch 0.

  Training clips start at random and get a random square crop and, with `flip=True` (the
  default), a random horizontal flip of the whole clip (p = 1/2). A flip mirrors the
  motion: a class that depends on direction ('move left' vs 'move right') gets the wrong
  label half the time, so pass `flip=False` for such classes. Test clips are centred and
  never flipped.

  Missing and zero-length files are dropped when the dataset is built;
  undecodable ones are found when read, warned about (`BadVideoWarning`),
  counted in `bad_videos` and replaced by the next valid video, so an epoch
  never crashes. More than `max_bad_fraction` bad files raises DataError. The dataset
  pickles (its lock is re-created; it holds no open file), so process workers can load it;
  each worker finds bad files in its own copy (`batching.batches` relays their warnings
  and `bad_videos` entries to this process).

  Decoder threading defaults to 'NONE': parallelism comes from the loader
  workers, and on 2 cores frame threading was slower (benchmarks/data_decode.py).

  Args:
    entries: [(video path, label)].
    class_names, train, frames_per_clip, temporal_stride, resolution, short_side,
      num_views, flip, mean, std, pad_mode, seed: the clips (`clips.ClipDataset`).
    max_bad_fraction: more bad videos than this share raises DataError.
    thread_type: PyAV decoder threading.
    probe: decode the first frame of every file when built (finds bad files early).
    name, fix: how error messages name the set and say how to fix it.
  """

  def __init__(self, entries, *, class_names, train, frames_per_clip=16,
               temporal_stride=1, resolution=112, short_side=None, num_views=1,
               flip=True, mean=None, std=None, pad_mode='loop', seed=0,
               max_bad_fraction=0.1, thread_type='NONE', probe=False, name='videos',
               fix='Re-download or re-extract the dataset.'):
    super().__init__(class_names=class_names, train=train, frames_per_clip=frames_per_clip,
                     temporal_stride=temporal_stride, resolution=resolution,
                     short_side=short_side, num_views=num_views, flip=flip, mean=mean,
                     std=std, pad_mode=pad_mode, seed=seed, name=name)
    self.max_bad_fraction = max_bad_fraction
    self.thread_type = thread_type
    self._fix = fix
    self._lock = threading.Lock()
    self.bad_videos = {}  # path -> reason
    total = len(entries)
    if total == 0:
      raise DataError(f'{name}: no videos listed. {fix}')
    kept = []
    for path, label in entries:
      if not os.path.isfile(path):
        self.bad_videos[path] = 'missing'
      elif os.path.getsize(path) == 0:
        self.bad_videos[path] = 'zero-length'
      elif probe and not video_io.can_decode(path):
        self.bad_videos[path] = 'undecodable'
      else:
        kept.append((path, label))
    self._num_listed = total
    if self.bad_videos:
      self._report_bad(initial=True)
    if not kept:
      raise DataError(f'{name}: none of the {total} listed videos is readable. {fix}')
    self.paths = [p for p, _ in kept]
    self.labels = np.array([l for _, l in kept], np.int32)
    self.num_videos = len(kept)

  def _report_bad(self, initial=False):
    bad = len(self.bad_videos)
    examples = ', '.join(f'{p} ({r})' for p, r in list(self.bad_videos.items())[:3])
    msg = (f'{self.name}: {bad} of {self._num_listed} videos unusable, e.g. '
           f'{examples}.')
    if bad > self.max_bad_fraction * self._num_listed:
      raise DataError(f'{msg} That is more than max_bad_fraction='
                      f'{self.max_bad_fraction}. {self._fix}')
    if initial:
      warnings.warn(f'{msg} Skipping them. {self._fix}', BadVideoWarning, stacklevel=3)

  def __getstate__(self):
    """Pickles without the lock (process workers get a copy of the dataset)."""
    state = self.__dict__.copy()
    del state['_lock']
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._lock = threading.Lock()

  def video_name(self, v):
    return repr(self.paths[v])

  @property
  def num_bad(self):
    return len(self.bad_videos)

  def __repr__(self):
    return (f'VideoClipDataset({self.name!r}, videos={self.num_videos}, '
            f'classes={self.num_classes}, frames={self.frames_per_clip}, '
            f'frame_shape={self.frame_shape}, flip={self.flip})')

  def get(self, i, epoch=0, uint8=False):
    """Item i as dict(frames float32 [T,H,W,C] (uint8 with `uint8`), label, video_id)."""
    v = self.draw(i, epoch)[0]
    for attempt in range(self.num_videos):
      vid = (v + attempt) % self.num_videos
      path = self.paths[vid]
      if path in self.bad_videos:
        continue
      # Drawn afresh for each video tried: a replacement clip is the same whether the bad
      # video was known before (skipped) or found now (its draws spent).
      _, rng, select = self.draw(i, epoch)
      try:
        clip = video_io.read_clip(path, select, short_side=self.short_side,
                                  thread_type=self.thread_type)
      except (DataError, OSError) as e:
        with self._lock:
          self.bad_videos[path] = str(e)
        warnings.warn(f'{self.name}: skipping unreadable video {path!r} ({e}); '
                      f'using the next valid one. {self._fix}', BadVideoWarning)
        with self._lock:
          self._report_bad()
        continue
      return self.finish(clip, rng, vid, uint8)
    raise DataError(f'{self.name}: no readable video left. {self._fix}')
