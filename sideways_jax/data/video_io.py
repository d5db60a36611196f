"""Video files through PyAV (the FFmpeg bundled with `av`): decode clips, probe, write.

The only module of the package that imports PyAV. Every FFmpeg failure comes out as a
`DataError` naming the file, so callers need not know PyAV's exception types.

`read_clip` seeks to the keyframe at or before a clip's first frame and decodes forward
to its last, so a clip late in a long video costs about what one at its start does. Where
seeking cannot be trusted (no timestamps or frame count, a variable frame rate, a seek
that lands after the clip or a gap in the timestamps) it decodes from the start instead;
both give the same frames. Only the selected frames are converted to RGB and resized (by
FFmpeg's swscale through `VideoFrame.reformat`), which is the expensive step.
"""

import fractions
import os

import av
import numpy as np

from sideways_jax.data.errors import DataError
from sideways_jax.data.transforms import short_side_size

# codec -> (pixel format, encoder options): the codecs `write_video` knows.
CODECS = {
    'mjpeg': ('yuvj444p', {'qmin': '1', 'qmax': '1'}),  # best JPEG quality, full chroma
    'ffv1': ('bgr0', {}),                                # lossless
    'mpeg4': ('yuv420p', {'qmin': '1', 'qmax': '2'}),    # like UCF101's xvid; 4:2:0 chroma
}


def read_clip(path, select, *, short_side=None, thread_type='AUTO', seek=True):
  """Decodes the frames `select(num_frames)` picks: uint8 [T, H, W, 3].

  Args:
    path: video file.
    select: function num_frames -> int indices; called with the container's
      frame count, and again with the decoded count if that was wrong.
    short_side: resize so the short side has this size (None: keep).
    thread_type: PyAV decoder threading ('AUTO', 'FRAME', 'SLICE', 'NONE').
    seek: seek to the keyframe at or before the first selected frame (where the
      file allows it; see the module docstring) instead of decoding from the start.
      Both give the same frames; False is for comparisons.

  Raises:
    DataError: if the file cannot be opened, has no video stream or no decodable frame.
  """
  container, stream = _open(path, thread_type)
  try:
    n_meta = stream.frames or 0
    idx = select(n_meta) if n_meta > 0 else None
    frames, first = None, 0
    if seek and idx is not None and int(idx.min()) > 0:
      first = int(idx.min())
      frames = _decode_by_seeking(container, stream, n_meta, first, int(idx.max()))
    if frames is None:
      if first:  # Seeking failed: decode a fresh container from the start.
        container.close()
        container, stream = _open(path, thread_type)
      first = 0
      frames, idx = _decode_from_start(path, container, stream, idx, select)
    h, w = frames[0].height, frames[0].width
    if short_side:
      h, w = short_side_size(h, w, short_side)
    converted = {}
    out = np.empty((len(idx), h, w, 3), np.uint8)
    try:
      for k, j in enumerate(idx):
        j = int(j)
        if j not in converted:
          converted[j] = frames[j - first].reformat(
              width=w, height=h, format='rgb24', interpolation='BILINEAR').to_ndarray()
        out[k] = converted[j]
    except av.error.FFmpegError as e:
      raise DataError(f'Cannot convert the frames of {path!r} to RGB: {e}') from e
    return out
  finally:
    container.close()


def _open(path, thread_type):
  """(container, its first video stream) with `thread_type` decoding; DataError if not."""
  try:
    container = av.open(path)
  except (av.error.FFmpegError, OSError) as e:
    raise DataError(f'Cannot open video {path!r}: {e}') from e
  if not container.streams.video:
    container.close()
    raise DataError(f'No video stream in {path!r}.')
  stream = container.streams.video[0]
  if thread_type and thread_type != 'NONE':
    stream.thread_type = thread_type
  return container, stream


def _decode_from_start(path, container, stream, idx, select):
  """Decodes frames 0.. up to the last of `idx` -> (frames, idx for the decoded count)."""
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
  return frames, idx


def _frame_clock(stream, num_frames):
  """(start pts, frames per pts tick) if frame indices follow from pts, else None.

  Needs a constant frame rate (average rate == base rate), a time base, a start time and
  a duration that agrees with the frame count `num_frames` (to one frame).
  """
  rate, base, tb = stream.average_rate, stream.base_rate, stream.time_base
  if not rate or not tb or rate <= 0 or (base and base != rate):
    return None
  start, duration = stream.start_time, stream.duration
  if start is None or not duration:
    return None
  per_tick = fractions.Fraction(tb) * fractions.Fraction(rate)
  if abs(duration * per_tick - num_frames) > 1:
    return None
  return start, per_tick


def _decode_by_seeking(container, stream, num_frames, first, last):
  """Frames `first..last` (inclusive) found by seeking, or None where that cannot be trusted.

  Seeks to the keyframe at or before `first`, decodes forward, numbers each frame from its
  pts and keeps `first..last`. None (decode from the start instead) if the stream has no
  constant frame rate, timestamps or a duration matching `num_frames`, the seek lands
  after `first`, the numbers are not whole or not consecutive, or decoding fails or ends
  before `last`.
  """
  clock = _frame_clock(stream, num_frames)
  if clock is None:
    return None
  start, per_tick = clock
  target = start + int(fractions.Fraction(first) / per_tick)
  frames = []
  try:
    container.seek(target, stream=stream, backward=True, any_frame=False)
    for frame in container.decode(stream):
      if frame.pts is None:
        return None
      pos = (frame.pts - start) * per_tick
      j = round(pos)
      if abs(pos - j) > 0.01:  # Not on the frame grid: timestamps cannot be trusted.
        return None
      if not frames:
        if j < first:
          continue
        if j != first:  # Landed after the clip start (or a frame is missing).
          return None
      elif j != first + len(frames):
        return None
      frames.append(frame)
      if j >= last:
        return frames
  except av.error.FFmpegError:
    return None
  return None  # The stream ended before `last`: let the sequential decode count it.


def decode_video(path, *, short_side=None, thread_type='AUTO'):
  """All frames of a video, uint8 [N, H, W, 3] (for inspection and tests)."""
  return read_clip(path, np.arange, short_side=short_side, thread_type=thread_type)


def can_decode(path):
  """Whether `path` opens and its first video frame decodes (a quick probe)."""
  try:
    with av.open(path) as c:
      if not c.streams.video:
        return False
      for _ in c.decode(video=0):
        return True
  except (av.error.FFmpegError, OSError):
    return False
  return False


def write_video(path, frames, *, fps=25, codec='mjpeg'):
  """Writes uint8 RGB frames [T, H, W, 3] as a video file (container from the extension).

  Args:
    path: output file, e.g. `clip.avi`; its folder is created.
    frames: uint8 [T, H, W, 3].
    fps: frame rate.
    codec: one of `CODECS`: 'mjpeg' (default: near-lossless, full colour resolution),
      'ffv1' (lossless) or 'mpeg4' (UCF101-like, 4:2:0 chroma; needs even H and W).

  Raises:
    ValueError: for another codec, or frames that are not uint8 [T, H, W, 3].
  """
  if codec not in CODECS:
    raise ValueError(f'codec must be one of {", ".join(CODECS)}; got {codec!r}.')
  frames = np.asarray(frames)
  if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
    raise ValueError(f'frames must be uint8 [T, H, W, 3] with T >= 1; got {frames.dtype} '
                     f'{frames.shape}.')
  if codec == 'mpeg4' and (frames.shape[1] % 2 or frames.shape[2] % 2):
    raise ValueError(f'mpeg4 needs an even frame height and width; got {frames.shape[1:3]}. '
                     "Use codec='mjpeg' or 'ffv1' for odd sizes.")
  pix_fmt, options = CODECS[codec]
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with av.open(path, 'w') as container:
    stream = container.add_stream(codec, rate=fps, options=dict(options))
    stream.height, stream.width = frames.shape[1:3]
    stream.pix_fmt = pix_fmt
    for image in frames:
      for packet in stream.encode(av.VideoFrame.from_ndarray(image, format='rgb24')):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)
