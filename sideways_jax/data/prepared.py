"""Prepared video sets: decode once, then read any clip without decoding a video again.

`python -m sideways_jax.data.prepare` turns a local UCF101 / HMDB51 / Kinetics-600 copy
into one folder (docs/REAL_DATASETS.md, "Prepare once"):

  <out>/prepared.json                      what was prepared: dataset, frame size and format,
                                           class names, every split's (video, label) list,
                                           each video's first record, frame count and size,
                                           the videos skipped
  <out>/prepared_videos/1.0.0/...          a tensorflow-datasets folder (array_record), one
                                           record per frame, a video's frames in a row

Every video is stored once, whichever folds list it, its frames resized so the short side is
`short_side`, each frame a record of its own ('jpeg' through libjpeg-turbo (simplejpeg),
quality 90, 4:2:0 chroma like the source videos; or 'raw' uint8 bytes, ~6x larger and
faster to read), so a clip reads and decodes its own frames and nothing else. The folder is
written by a `tfds.core.GeneratorBasedBuilder` whose one feature is a plain `Tensor`, and
read with `as_data_source` (random access; no TensorFlow either way).

Preparing resumes: each decoded video is first kept in `<out>/_work/` (written atomically),
so a rerun of an interrupted command decodes only what is missing. `prepared.json` is
written last; a folder without it is refused, with the command that finishes it.

`load(out, dataset, split)` (what `ucf101(..., prepared=out)` and the others call) gives a
`PreparedClipDataset`: the same clips as `VideoClipDataset` (same sampling, crop, flip and
seeds; with format 'raw' the same numbers), picklable for grain's process workers.
"""

import io
import json
import os

import numpy as np

from sideways_jax.data import clips
from sideways_jax.data import transforms
from sideways_jax.data.errors import DataError

INDEX = 'prepared.json'
WORK = '_work'
BUILDER_NAME = 'prepared_videos'
FORMATS = ('jpeg', 'raw')
DATASETS = ('ucf101', 'hmdb51', 'kinetics600')
VERSION = '1.0.0'


def _tfds():
  """tensorflow_datasets (the `[tfds]` extra; no TensorFlow), or one line saying how to
  install it."""
  try:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  except ImportError as err:
    raise DataError('prepared datasets need tensorflow-datasets (no TensorFlow): pip '
                    "install -e '.[tfds]' (or pip install tensorflow-datasets "
                    f'importlib_resources array-record); import failed: {err}') from err
  return tfds


def _simplejpeg():
  try:
    import simplejpeg  # pylint: disable=g-import-not-at-top
  except ImportError as err:
    raise DataError("prepared datasets need simplejpeg: pip install -e '.[tfds]' (or pip "
                    f'install simplejpeg); import failed: {err}') from err
  return simplejpeg


def encode_frames(frames, fmt='jpeg', quality=90):
  """uint8 [N, H, W, 3] -> list of N byte strings, one frame each."""
  if fmt == 'raw':
    return [np.ascontiguousarray(f).tobytes() for f in frames]
  jpeg = _simplejpeg()
  return [jpeg.encode_jpeg(np.ascontiguousarray(f), quality=quality, colorspace='RGB',
                           colorsubsampling='420') for f in frames]


def decode_frame(blob, fmt, height, width):
  """One stored frame -> uint8 [height, width, 3]."""
  if fmt == 'raw':
    return np.frombuffer(blob, np.uint8).reshape(height, width, 3)
  return _simplejpeg().decode_jpeg(blob, colorspace='RGB')


def _resize(frames, height, width):
  """uint8 [N, H, W, 3] -> uint8 [N, height, width, 3], bilinear (PIL)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.BILINEAR))
                   for f in frames])


_BUILDER_CLASS = []  # made once, on first use: tensorflow-datasets loads only when needed


def builder(out, videos=None):
  """The tfds builder of `<out>/prepared_videos`: when `download_and_prepare` runs it writes
  the frames `videos()` yields (lists of encoded frames, one list a video), one record each."""
  if not _BUILDER_CLASS:
    tfds = _tfds()

    class PreparedVideos(tfds.core.GeneratorBasedBuilder, skip_registration=True):
      """Videos as per-frame encoded records (see the module docstring)."""
      name = BUILDER_NAME
      VERSION = tfds.core.Version(VERSION)

      def __init__(self, *, videos, **kwargs):
        self._videos = videos
        super().__init__(**kwargs)

      def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, disable_shuffling=True,  # record i is the i-th frame written
            description='Video frames, each encoded alone, for random clip access.',
            features=tfds.features.FeaturesDict({
                'frame': tfds.features.Tensor(shape=(), dtype=np.object_)}))

      def _split_generators(self, dl_manager):
        del dl_manager
        return {'frames': self._generate_examples()}

      def _generate_examples(self):
        key = 0
        for frames in self._videos():
          for frame in frames:
            yield key, {'frame': frame}
            key += 1

    tfds.disable_progress_bar()
    _BUILDER_CLASS.append(PreparedVideos)
  return _BUILDER_CLASS[0](videos=videos, data_dir=out, file_format='array_record')


def read_index(out, dataset=None):
  """`<out>/prepared.json` as a dict; one DataError naming what is wrong and the fix."""
  index_path = os.path.join(out, INDEX)
  if not os.path.isdir(out):
    raise DataError(f'prepared dataset folder not found: {out!r}. Make it with python -m '
                    'sideways_jax.data.prepare --dataset=NAME --root=RAW_COPY --out=' + out)
  if not os.path.isfile(index_path):
    if os.path.isdir(os.path.join(out, WORK)):
      raise DataError(f'{out!r} is a half-written prepared dataset (its prepare command was '
                      'interrupted): rerun that same command to finish it (it resumes), or '
                      'delete the folder.')
    raise DataError(f'{out!r} is not a prepared dataset (no {INDEX}). Make one with python '
                    f'-m sideways_jax.data.prepare --dataset=NAME --root=RAW_COPY --out={out}')
  try:
    with open(index_path) as f:
      index = json.load(f)
  except (OSError, ValueError) as err:
    raise DataError(f'{index_path} is unreadable ({err}): delete {out!r} and prepare the '
                    'dataset again.') from err
  if dataset is not None and index.get('dataset') != dataset:
    raise DataError(f'{out!r} holds a prepared {index.get("dataset")!r}, not {dataset!r}: '
                    'give the folder prepared from this dataset.')
  return index


def load(out, dataset, split, **kwargs):
  """The `PreparedClipDataset` of `split` ('train1', 'test1', ... for UCF101 / HMDB51;
  'train', 'val', 'test' for Kinetics) of the prepared folder `out`."""
  index = read_index(out, dataset)
  if split not in index['splits']:
    raise DataError(f'{out!r} has no split {split!r}; it has '
                    f'{", ".join(sorted(index["splits"]))} (the split lists found in the raw '
                    'copy when it was prepared).')
  rows = index['splits'][split]
  if not rows:
    raise DataError(f'{out!r}: split {split!r} has no readable video. Prepare it again from '
                    'a complete copy.')
  videos = np.asarray([index['records'][v] for v, _ in rows], np.int64).reshape(-1, 4)
  return PreparedClipDataset(
      os.path.join(out, BUILDER_NAME, VERSION), videos=videos,
      labels=[l for _, l in rows], names=[index['videos'][v] for v, _ in rows],
      class_names=index['class_names'], fmt=index['format'],
      stored_short_side=index['short_side'], **kwargs)


class PreparedClipDataset(clips.ClipDataset):
  """Clips read from a prepared folder, per the dataset protocol: `VideoClipDataset`'s clips
  (the same sampling, crop, flip and seeds: `clips.ClipDataset`) without decoding video.
  Frames stored at another short side than `short_side` are resized on read.

  Opens its records lazily, in the process that reads them first: it pickles without open
  handles (grain's process workers). Bad videos were found and skipped when the folder was
  prepared (`prepared.json` names them), so `num_bad` is 0 here.

  Args:
    directory: the tfds folder (`<out>/prepared_videos/1.0.0`).
    videos: int [V, 4]: each video's first record, frame count, stored height and width.
    labels: each video's label.
    names: each video's file, relative to the raw copy (for messages).
    fmt, stored_short_side: how the frames are stored (`prepared.json`).
    **kwargs: the clips (`clips.ClipDataset`); max_bad_fraction, thread_type and probe,
      the raw-file path's decoding options, are accepted and unused.
  """

  def __init__(self, directory, *, videos, labels, fmt, stored_short_side, names=None,
               max_bad_fraction=None, thread_type=None, probe=None, **kwargs):
    del max_bad_fraction, thread_type, probe  # decoding options of the raw-file path
    super().__init__(**kwargs)
    if fmt not in FORMATS:
      raise DataError(f'{directory}: unknown stored format {fmt!r}; prepare it again.')
    self.directory = directory
    self.fmt = fmt
    self.stored_short_side = stored_short_side
    # Per video: first record, frame count, height, width of its stored frames.
    self.videos = np.asarray(videos, np.int64).reshape(-1, 4)
    self.num_frames = self.videos[:, 1]
    self.labels = np.asarray(labels, np.int32)
    self.num_videos = len(self.videos)
    self.names = list(names) if names is not None else None
    self.bad_videos = {}
    self._source = None

  def video_name(self, v):
    return repr(self.names[v]) if self.names else f'#{v}'

  def __getstate__(self):
    state = dict(self.__dict__)
    state['_source'] = None  # reopened in the process that unpickles it
    return state

  @property
  def num_bad(self):
    return 0

  def __repr__(self):
    return (f'PreparedClipDataset({self.name!r}, videos={self.num_videos}, '
            f'classes={self.num_classes}, frames={self.frames_per_clip}, '
            f'frame_shape={self.frame_shape}, flip={self.flip}, format={self.fmt!r})')

  def _frames(self, v, which):
    """The stored frames `which` (distinct, ascending) of video v: {index: uint8 image}."""
    if self._source is None:
      tfds = _tfds()
      try:
        self._source = tfds.builder_from_directory(self.directory).as_data_source(
            split='frames')
      except Exception as err:  # pylint: disable=broad-except
        raise DataError(f'{self.name}: cannot open the prepared records in '
                        f'{self.directory!r} ({str(err).splitlines()[0]}); prepare the '
                        'dataset again.') from err
    first, _, height, width = (int(x) for x in self.videos[v])
    records = [self._source[first + int(j)] for j in which]  # (__getitems__ starts threads)
    return {int(j): decode_frame(r['frame'], self.fmt, height, width)
            for j, r in zip(which, records)}

  def get(self, i, epoch=0, uint8=False):
    """Item i as dict(frames float32 [T,H,W,C] (uint8 with `uint8`), label, video_id)."""
    v, rng, select = self.draw(i, epoch)
    idx = select(int(self.num_frames[v]))
    decoded = self._frames(v, np.unique(idx))
    if self.short_side == self.stored_short_side:
      return self.finish_frames([decoded[int(j)] for j in idx], rng, v, uint8)
    clip = np.stack([decoded[int(j)] for j in idx])
    clip = _resize(clip, *transforms.short_side_size(*clip.shape[1:3], self.short_side))
    return self.finish(clip, rng, v, uint8)
