"""Endless video streams for online training: B lanes, each playing whole videos back to back.

Sideways trains on a continuous stream of frames rather than on isolated clips. A stream
cuts each lane's sequence of videos into chunks of `chunk_frames` frames; a chunk continues
exactly where the previous one ended, so a video can span chunk boundaries. Video ids are
stream positions (unique per lane and across lanes), so a model always sees where one video
ends and the next begins, even when the same clip is replayed in a later epoch.
"""

import numpy as np

from sideways_jax.data import batching

_MAX_ID = 2**31 - 1


def _check_int(name, value, lo):
  ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= lo
  if not ok:
    raise ValueError(f'{name} must be an integer >= {lo}; got {value!r}.')


class _VideoOrder:
  """Maps a stream position n to a dataset index: epoch n // N, shuffled per epoch."""

  def __init__(self, num_videos, seed, shuffle):
    self._n = num_videos
    self._seed = seed
    self._shuffle = shuffle
    self._epoch = -1
    self._perm = None

  def __call__(self, position):
    epoch, offset = divmod(position, self._n)
    if not self._shuffle:
      return offset
    if epoch != self._epoch:
      rng = np.random.default_rng([self._seed & 0xFFFFFFFF, epoch])
      self._perm = rng.permutation(self._n)
      self._epoch = epoch
    return int(self._perm[offset])


def _fetch(dataset, indices):
  """Frames [B, T, ...] and labels [B] of `indices` (epoch 0: streams replay clips as-is)."""
  batch = dataset.get_batch(np.asarray(indices))
  return list(batch['frames']), [int(l[0]) for l in batch['labels']]


def video_stream(dataset, batch_size, chunk_frames, *, seed=0, shuffle=True, state=None):
  """Yields endless chunks of B parallel video streams.

  Lane b plays the videos at stream positions b, b + B, b + 2B, ... of an endless sequence
  that visits every clip of `dataset` once per epoch (in a fresh random order per epoch when
  `shuffle`), so lanes never play the same clip in the same epoch.

  Args:
    dataset: follows the dataset protocol (`sideways_jax.data.Dataset`); clips are read
      with `get_batch(indices)`, at epoch 0.
    batch_size: number of lanes B.
    chunk_frames: frames per chunk; may be shorter or longer than a video.
    seed: seeds the per-epoch order; the stream is a function of (dataset, arguments).
    shuffle: False plays clips in index order.
    state: a `get_state()` of an earlier stream with the same arguments: continue exactly
      where it was (resuming a run mid-stream).

  Returns:
    A `VideoStream` iterator (`get_state()` / `set_state()`) yielding
    dict(frames=float32 [B, chunk_frames, H, W, C], labels=int32 [B, chunk_frames],
    video_ids=int32 [B, chunk_frames]); video_ids are stream positions (wrapping at 2**31).

  Raises:
    TypeError: the dataset does not follow the protocol (naming what it lacks).
    ValueError: bad batch_size / chunk_frames, or an empty dataset.
  """
  batching.check_dataset(dataset)
  _check_int('batch_size', batch_size, 1)
  _check_int('chunk_frames', chunk_frames, 1)
  _check_int('seed', seed, 0)
  if len(dataset) < 1:
    raise ValueError('dataset is empty; a video stream needs at least one clip.')
  stream = VideoStream(dataset, batch_size, chunk_frames, seed, shuffle)
  if state is not None:
    stream.set_state(state)
  return stream


class VideoStream:
  """The endless chunk iterator of `video_stream`, with a resumable position.

  The position is, per lane, how many videos it has started and how many frames of the
  current one it has played: `set_state` refetches each lane's current video and continues
  from that frame, so a resumed stream yields exactly the chunks that would have come next.
  """

  def __init__(self, dataset, batch_size, chunk_frames, seed, shuffle):
    self._dataset = dataset
    self._batch_size = batch_size
    self._chunk_frames = chunk_frames
    self._order = _VideoOrder(len(dataset), seed, shuffle)
    self._frame_shape = tuple(dataset.frame_shape)
    self._current = [None] * batch_size  # (frames [T, ...], label, video id) per lane
    self._played = [0] * batch_size      # frames of the current video already emitted
    self._next_video = [0] * batch_size  # how many videos each lane has started

  def get_state(self):
    return {'next_video': list(self._next_video), 'played': list(self._played)}

  def set_state(self, state):
    next_video, played = list(state['next_video']), list(state['played'])
    if len(next_video) != self._batch_size or len(played) != self._batch_size:
      raise ValueError(f'bad stream state {state!r}: it has lanes for another batch size '
                       f'than {self._batch_size}.')
    self._next_video = [int(n) for n in next_video]
    self._played = [int(p) for p in played]
    self._current = [None] * self._batch_size
    lanes = [b for b in range(self._batch_size) if self._next_video[b] > 0]
    if lanes:
      positions = [b + self._batch_size * (self._next_video[b] - 1) for b in lanes]
      clips, labels = _fetch(self._dataset, [self._order(p) for p in positions])
      for b, p, clip, label in zip(lanes, positions, clips, labels):
        if not 0 <= self._played[b] <= len(clip):
          raise ValueError(f'bad stream state: lane {b} played {self._played[b]} frames of '
                           f'a {len(clip)}-frame video.')
        self._current[b] = (clip, label, p % (_MAX_ID + 1))

  def __iter__(self):
    return self

  def __next__(self):
    batch_size, chunk_frames = self._batch_size, self._chunk_frames
    current, played, next_video = self._current, self._played, self._next_video
    frames = np.empty((batch_size, chunk_frames) + self._frame_shape, np.float32)
    labels = np.empty((batch_size, chunk_frames), np.int32)
    ids = np.empty((batch_size, chunk_frames), np.int32)
    filled = [0] * batch_size
    while True:
      # Lanes that finished their video (or have none) start the next one, fetched together.
      starting = [b for b in range(batch_size) if filled[b] < chunk_frames and
                  (current[b] is None or played[b] == len(current[b][0]))]
      if starting:
        positions = [b + batch_size * next_video[b] for b in starting]
        clips, clip_labels = _fetch(self._dataset, [self._order(p) for p in positions])
        for b, p, clip, label in zip(starting, positions, clips, clip_labels):
          if len(clip) < 1:
            raise ValueError(f'clip {self._order(p)} of the dataset has no frames.')
          current[b] = (clip, label, p % (_MAX_ID + 1))
          played[b] = 0
          next_video[b] += 1
      if all(f == chunk_frames for f in filled):
        break
      for b in range(batch_size):
        clip, label, vid = current[b]
        n = min(chunk_frames - filled[b], len(clip) - played[b])
        frames[b, filled[b]:filled[b] + n] = clip[played[b]:played[b] + n]
        labels[b, filled[b]:filled[b] + n] = label
        ids[b, filled[b]:filled[b] + n] = vid
        filled[b] += n
        played[b] += n
    return dict(frames=frames, labels=labels, video_ids=ids)
