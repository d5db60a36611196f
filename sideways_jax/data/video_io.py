"""Video decoding (PyAV), clip sampling and clip transforms for real datasets.

`VideoClipDataset` is the shared engine behind UCF101, HMDB51 and Kinetics: the
dataset modules only parse their on-disk layout into `(path, label)` entries.

Decoding is seek-free: frames are decoded from the start up to the last frame a
clip needs, and only the selected frames are converted to RGB and resized (by
FFmpeg's swscale through `VideoFrame.reformat`), which is the expensive step.
"""

import os
import threading
import warnings

import av
import numpy as np

PAD_MODES = ('loop', 'pad')


class DataError(ValueError):
  """Bad dataset input: the message names the file and says how to fix it."""


class AnnotationError(DataError):
  """A malformed annotation / split file (message has file name and line)."""


class BadVideoWarning(UserWarning):
  """A video could not be read and was skipped (a valid one is substituted)."""


def annotation_error(path, lineno, line, why):
  return AnnotationError(
      f'{path}:{lineno}: {why} (line: {line.rstrip()!r}). Fix or delete this '
      'line, or re-download the official annotation files.')


def require_dir(path, what, fix):
  """Raises DataError naming `path` when the directory is missing."""
  if not os.path.isdir(path):
    raise DataError(f'{what} not found: {path!r}. {fix}')


def require_file(path, what, fix):
  if not os.path.isfile(path):
    raise DataError(f'{what} not found: {path!r}. {fix}')


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
  if pad_mode not in PAD_MODES:
    raise ValueError(f'pad_mode must be one of {PAD_MODES}, got {pad_mode!r}')
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


def read_clip(path, select, *, short_side=None, thread_type='AUTO'):
  """Decodes the frames `select(num_frames)` picks: uint8 [T, H, W, 3].

  Args:
    path: video file.
    select: function num_frames -> int indices; called with the container's
      frame count, and again with the decoded count if that was wrong.
    short_side: resize so the short side has this size (None: keep).
    thread_type: PyAV decoder threading ('AUTO', 'FRAME', 'SLICE', 'NONE').

  Raises:
    DataError: if the file has no video stream or no decodable frame.
  """
  try:
    container = av.open(path)
  except (av.error.FFmpegError, OSError) as e:
    raise DataError(f'Cannot open video {path!r}: {e}') from e
  with container:
    if not container.streams.video:
      raise DataError(f'No video stream in {path!r}.')
    stream = container.streams.video[0]
    if thread_type and thread_type != 'NONE':
      stream.thread_type = thread_type
    n_meta = stream.frames or 0
    idx = select(n_meta) if n_meta > 0 else None
    stop = int(idx.max()) + 1 if idx is not None else None
    frames = []
    try:
      for frame in container.decode(stream):
        frames.append(frame)
        if stop is not None and len(frames) >= stop:
          break
    except av.error.FFmpegError as e:
      if not frames:
        raise DataError(f'Cannot decode video {path!r}: {e}') from e
      # A truncated tail: keep what decoded, like most video loaders do.
    if not frames:
      raise DataError(f'No decodable frames in {path!r}.')
    if idx is None or len(frames) < stop:
      idx = select(len(frames))
    h, w = frames[0].height, frames[0].width
    if short_side:
      h, w = short_side_size(h, w, short_side)
    converted = {}
    out = np.empty((len(idx), h, w, 3), np.uint8)
    for k, j in enumerate(idx):
      j = int(j)
      if j not in converted:
        converted[j] = frames[j].reformat(
            width=w, height=h, format='rgb24',
            interpolation='BILINEAR').to_ndarray()
      out[k] = converted[j]
    return out


def decode_video(path, *, short_side=None, thread_type='AUTO'):
  """All frames of a video, uint8 [N, H, W, 3] (for inspection and tests)."""
  return read_clip(path, np.arange, short_side=short_side, thread_type=thread_type)


def crop_and_flip(clip, size, *, rng=None, flip=False):
  """Square crop of side `size`: random offsets with `rng`, else centred.

  The same crop (and flip, with probability 1/2 when `flip`) applies to every
  frame so motion stays consistent. Frames smaller than `size` are edge-padded.
  """
  _, h, w, _ = clip.shape
  if h < size or w < size:
    ph, pw = max(0, size - h), max(0, size - w)
    clip = np.pad(clip, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2),
                         (0, 0)), mode='edge')
    _, h, w, _ = clip.shape
  if rng is not None:
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
  else:
    y, x = (h - size) // 2, (w - size) // 2
  clip = clip[:, y:y + size, x:x + size]
  if flip and rng is not None and rng.random() < 0.5:
    clip = clip[:, :, ::-1]
  return clip


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


def collate(items):
  """Stacks per-item dicts into the batch layout (labels/ids per frame)."""
  frames = np.stack([it['frames'] for it in items])
  t = frames.shape[1]
  labels = np.array([it['label'] for it in items], np.int32)
  ids = np.array([it['video_id'] for it in items], np.int32)
  return dict(frames=frames,
              labels=np.repeat(labels[:, None], t, axis=1),
              video_ids=np.repeat(ids[:, None], t, axis=1))


class VideoClipDataset:
  """Clips from a list of (video path, label) entries, per the dataset API.

  Item `i` is view `i % num_views` of video `i // num_views`. Items are
  deterministic given `(seed, epoch, i)`; `get(i, epoch)` varies augmentation
  across epochs and `__getitem__(i)` is epoch 0.

  Missing and zero-length files are dropped when the dataset is built;
  undecodable ones are found when read, warned about (`BadVideoWarning`),
  counted in `bad_videos` and replaced by the next valid video, so an epoch
  never crashes. More than `max_bad_fraction` bad files raises DataError.

  Decoder threading defaults to 'NONE': parallelism comes from the loader
  workers, and on 2 cores frame threading was slower (benchmarks/data_decode.py).
  """

  def __init__(self, entries, *, class_names, train, frames_per_clip=16,
               temporal_stride=1, resolution=112, short_side=None, num_views=1,
               flip=True, mean=None, std=None, pad_mode='loop', seed=0,
               max_bad_fraction=0.1, thread_type='NONE', probe=False, name='videos',
               fix='Re-download or re-extract the dataset.'):
    if pad_mode not in PAD_MODES:
      raise ValueError(f'pad_mode must be one of {PAD_MODES}, got {pad_mode!r}')
    self.name = name
    self.class_names = list(class_names)
    self.num_classes = len(self.class_names)
    self.train = train
    self.frames_per_clip = frames_per_clip
    self.temporal_stride = temporal_stride
    self.resolution = resolution
    self.short_side = short_side or int(round(resolution * 8 / 7))
    self.num_views = 1 if train else num_views
    self.flip = flip
    self.mean, self.std = mean, std
    self.pad_mode = pad_mode
    self.seed = seed
    self.max_bad_fraction = max_bad_fraction
    self.thread_type = thread_type
    self._fix = fix
    self.frame_shape = (resolution, resolution, 3)
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
      elif probe and not _probe(path):
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

  @property
  def num_bad(self):
    return len(self.bad_videos)

  def __len__(self):
    return self.num_videos * self.num_views

  def _rng(self, i, epoch):
    return np.random.default_rng([self.seed, epoch, i])

  def get(self, i, epoch=0):
    """Item i as dict(frames float32 [T,H,W,C], label int, video_id int)."""
    if not 0 <= i < len(self):
      raise IndexError(f'index {i} out of range for {len(self)} items')
    v, view = divmod(i, self.num_views)
    for attempt in range(self.num_videos):
      vid = (v + attempt) % self.num_videos
      path = self.paths[vid]
      if path in self.bad_videos:
        continue
      rng = self._rng(i, epoch) if self.train else None
      select = lambda n: clip_indices(
          n, self.frames_per_clip, self.temporal_stride, rng=rng, view=view,
          num_views=self.num_views, pad_mode=self.pad_mode)
      try:
        clip = read_clip(path, select, short_side=self.short_side,
                         thread_type=self.thread_type)
      except (DataError, av.error.FFmpegError, OSError) as e:
        with self._lock:
          self.bad_videos[path] = str(e)
        warnings.warn(f'{self.name}: skipping unreadable video {path!r} ({e}); '
                      f'using the next valid one. {self._fix}', BadVideoWarning)
        with self._lock:
          self._report_bad()
        continue
      clip = crop_and_flip(clip, self.resolution, rng=rng, flip=self.flip)
      return dict(frames=to_float(clip, self.mean, self.std),
                  label=int(self.labels[vid]), video_id=vid)
    raise DataError(f'{self.name}: no readable video left. {self._fix}')

  def __getitem__(self, i):
    return self.get(int(i))

  def get_batch(self, indices, epoch=0):
    return collate([self.get(int(i), epoch) for i in indices])


def _probe(path):
  try:
    with av.open(path) as c:
      if not c.streams.video:
        return False
      for _ in c.decode(video=0):
        return True
  except (av.error.FFmpegError, OSError):
    return False
  return False
