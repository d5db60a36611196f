"""Tests of `video_stream`: whole videos back to back per lane, exact continuity across
chunks, visible video boundaries, per-seed determinism and argument checks."""

from absl.testing import parameterized
import numpy as np

from sideways_jax.data import get_dataset
from sideways_jax.data.streams import video_stream


class CountingClips:
  """Clip i has T frames whose every pixel is 1000 * i + t, and label i % 3: easy to trace."""

  def __init__(self, num_clips=7, frames=5):
    self.num_classes = 3
    self.class_names = ('a', 'b', 'c')
    self.frame_shape = (2, 2, 1)
    self.frames_per_clip = frames
    self._n = num_clips

  def __len__(self):
    return self._n

  def __getitem__(self, i):
    t = np.arange(self.frames_per_clip, dtype=np.float32)
    frames = np.broadcast_to((1000 * i + t)[:, None, None, None],
                             (self.frames_per_clip,) + self.frame_shape).copy()
    return dict(frames=frames, label=i % 3, video_id=i)

  def get_batch(self, indices, epoch=0):
    del epoch
    items = [self[int(i)] for i in indices]
    t = self.frames_per_clip
    return dict(frames=np.stack([x['frames'] for x in items]),
                labels=np.array([[x['label']] * t for x in items], np.int32),
                video_ids=np.array([[x['video_id']] * t for x in items], np.int32))


def _take(stream, n):
  chunks = [next(stream) for _ in range(n)]
  return {k: np.concatenate([c[k] for c in chunks], axis=1) for k in chunks[0]}, chunks


class VideoStreamTest(parameterized.TestCase):

  @parameterized.product(chunk_frames=[1, 3, 5, 12], shuffle=[True, False])
  def test_lanes_play_whole_videos_back_to_back(self, chunk_frames, shuffle):
    ds = CountingClips()
    t = ds.frames_per_clip
    stream = video_stream(ds, 3, chunk_frames, seed=4, shuffle=shuffle)
    total = 4 * 7 * t  # a few epochs per lane
    joined, chunks = _take(stream, -(-total // chunk_frames))
    for c in chunks:
      self.assertEqual(c['frames'].shape, (3, chunk_frames, 2, 2, 1))
      self.assertEqual(c['frames'].dtype, np.float32)
      self.assertEqual(c['labels'].dtype, np.int32)
      self.assertEqual(c['video_ids'].dtype, np.int32)
    values = joined['frames'][:, :, 0, 0, 0].astype(np.int64)
    clip, step = values // 1000, values % 1000
    for lane in range(3):
      # Each video is played whole and in order: steps run 0..T-1, then restart at 0.
      np.testing.assert_array_equal(step[lane], np.arange(values.shape[1]) % t)
      ids = joined['video_ids'][lane]
      boundary = np.flatnonzero(np.diff(ids) != 0) + 1
      np.testing.assert_array_equal(boundary, np.arange(t, values.shape[1], t))
      # Within a video, clip and label are constant and the label is the clip's.
      for start in np.concatenate([[0], boundary]):
        seg = slice(start, start + t)
        self.assertLen(set(clip[lane, seg]), 1)
        self.assertLen(set(ids[seg]), 1)
        np.testing.assert_array_equal(joined['labels'][lane, seg], clip[lane, start] % 3)
    # Video ids never repeat, across lanes or epochs, even when clips do.
    starts = joined['video_ids'][:, ::t]
    self.assertLen(np.unique(starts), starts.size)
    # Each epoch (7 consecutive stream positions) plays every clip exactly once.
    order = np.empty(starts.size, np.int64)
    order[starts.reshape(-1)] = clip[:, ::t].reshape(-1)
    for e in range(len(order) // 7):
      self.assertCountEqual(order[7 * e:7 * e + 7], range(7))
    if not shuffle:
      np.testing.assert_array_equal(order, np.arange(len(order)) % 7)

  def test_chunks_continue_exactly(self):
    """A long chunking and a short chunking of the same stream give the same frames."""
    ds = CountingClips()
    long, _ = _take(video_stream(ds, 2, 35, seed=1), 2)
    short, _ = _take(video_stream(ds, 2, 7, seed=1), 10)
    for k in long:
      np.testing.assert_array_equal(long[k], short[k])

  def test_deterministic_per_seed(self):
    ds = CountingClips(num_clips=20)
    a, _ = _take(video_stream(ds, 4, 6, seed=3), 5)
    b, _ = _take(video_stream(ds, 4, 6, seed=3), 5)
    c, _ = _take(video_stream(ds, 4, 6, seed=5), 5)
    np.testing.assert_array_equal(a['frames'], b['frames'])
    self.assertFalse(np.array_equal(a['frames'], c['frames']))

  def test_synthetic_dataset(self):
    ds = get_dataset('temporal_actions', 'train', num_clips=6)
    stream = video_stream(ds, 2, 10, seed=0)
    joined, _ = _take(stream, 4)
    self.assertEqual(joined['frames'].shape, (2, 40, 32, 32, 3))
    # Lane 0's first video is the dataset clip at the first shuffled position.
    first = joined['frames'][0, :16]
    matches = [np.array_equal(first, ds[i]['frames']) for i in range(len(ds))]
    self.assertEqual(sum(matches), 1)
    self.assertEqual(joined['labels'][0, 0], ds[int(np.argmax(matches))]['label'])
    np.testing.assert_array_equal(joined['frames'][0, 16:32],
                                  ds[_clip_of(ds, joined['frames'][0, 16:32])]['frames'])

  @parameterized.parameters(
      (dict(batch_size=0), 'batch_size'),
      (dict(batch_size=2.5), 'batch_size'),
      (dict(chunk_frames=0), 'chunk_frames'),
      (dict(chunk_frames=-3), 'chunk_frames'),
      (dict(seed=-1), 'seed'),
  )
  def test_bad_arguments(self, kwargs, argument):
    args = dict(batch_size=2, chunk_frames=4) | kwargs
    with self.assertRaisesRegex(ValueError, argument):
      video_stream(CountingClips(), args.pop('batch_size'), args.pop('chunk_frames'), **args)

  @parameterized.parameters((3, 1), (7, 4), (5, 9))
  def test_resumes_exactly_where_it_was(self, chunk_frames, stop):
    ds = CountingClips(frames=5)
    whole, _ = _take(video_stream(ds, 3, chunk_frames, seed=2), stop + 4)
    first = video_stream(ds, 3, chunk_frames, seed=2)
    _take(first, stop)
    resumed = video_stream(ds, 3, chunk_frames, seed=2, state=first.get_state())
    rest, _ = _take(resumed, 4)
    for key in whole:
      np.testing.assert_array_equal(rest[key], whole[key][:, stop * chunk_frames:])

  def test_bad_state(self):
    with self.assertRaisesRegex(ValueError, 'batch size'):
      video_stream(CountingClips(), 2, 4, state={'next_video': [1], 'played': [0]})

  def test_a_dataset_outside_the_protocol_is_refused(self):
    class NoBatch:  # pylint: disable=missing-class-docstring
      num_classes, frames_per_clip, frame_shape = 3, 5, (2, 2, 1)

      def __len__(self):
        return 7

    with self.assertRaisesRegex(TypeError, 'NoBatch.*no __getitem__, get_batch'):
      video_stream(NoBatch(), 2, 4)

  def test_empty_dataset(self):
    with self.assertRaisesRegex(ValueError, 'empty'):
      video_stream(CountingClips(num_clips=0), 2, 4)


def _clip_of(ds, frames):
  for i in range(len(ds)):
    if np.array_equal(ds[i]['frames'], frames):
      return i
  raise AssertionError('no clip matches')
