"""Seeking decode (video_io.read_clip), picklable datasets, process workers and per-host
shards in `batching.batches`."""

import itertools
import os
import pickle

import av
import cloudpickle
import jax
import numpy as np
import pytest

from sideways_jax import data as data_lib
from sideways_jax.data import batching
from sideways_jax.data import errors
from sideways_jax.data import transforms
from sideways_jax.data import ucf101 as ucf101_lib
from sideways_jax.data import video_io

import test_data_batching
import test_data_real as fakes


def write_moving(path, num_frames, codec, *, gop=12, width=64, height=48):
  """Noise scrolling sideways (so inter-frame codecs use P/B frames), GOP `gop`."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  base = np.random.default_rng(0).integers(0, 256, (height, 2 * width, 3), np.uint8)
  with av.open(path, 'w') as c:
    s = c.add_stream(codec, rate=25)
    s.width, s.height = width, height
    s.pix_fmt = 'yuvj420p' if codec == 'mjpeg' else 'yuv420p'
    s.codec_context.gop_size = gop
    for i in range(num_frames):
      img = np.ascontiguousarray(np.roll(base, 3 * i, axis=1)[:, :width])
      for p in s.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
        c.mux(p)
    for p in s.encode():
      c.mux(p)


def keyframes(path):
  with av.open(path) as c:
    return [i for i, p in enumerate(c.demux(video=0)) if p.size and p.is_keyframe]


@pytest.fixture
def count_sequential(monkeypatch):
  """Counts the decodes that start from the beginning of the file."""
  calls = []
  original = video_io._decode_from_start  # pylint: disable=protected-access

  def counted(*args):
    calls.append(1)
    return original(*args)

  monkeypatch.setattr(video_io, '_decode_from_start', counted)
  return calls


@pytest.mark.parametrize('codec,ext', [('mpeg4', 'avi'), ('libx264', 'mp4'),
                                       ('mjpeg', 'avi')])
def test_seeking_gives_the_sequential_frames(tmp_path, codec, ext, count_sequential):
  n = 40
  path = str(tmp_path / f'v.{ext}')
  write_moving(path, n, codec)
  if codec != 'mjpeg':
    assert len(keyframes(path)) < n / 3  # A real GOP: seeking has to decode forward.
  whole = video_io.read_clip(path, np.arange, seek=False)
  assert len(whole) == n and len({f.tobytes() for f in whole}) == n
  for stride, length in ((1, 5), (2, 4), (3, 3)):
    for start in range(n - (length - 1) * stride):
      select = lambda _, s=start: np.arange(s, s + length * stride, stride)
      del count_sequential[:]
      got = video_io.read_clip(path, select, short_side=24, thread_type='NONE')
      want = video_io.read_clip(path, select, short_side=24, thread_type='NONE',
                                seek=False)
      np.testing.assert_array_equal(got, want, err_msg=f'{codec} start {start}')
      assert len(count_sequential) == (1 if start == 0 else 0) + 1, (codec, start)
      np.testing.assert_array_equal(
          video_io.read_clip(path, select, thread_type='AUTO'), whole[select(n)])


def test_seeking_short_videos_loop_or_pad(tmp_path):
  path = str(tmp_path / 'short.avi')
  write_moving(path, 7, 'mpeg4', gop=3)
  for pad_mode in ('loop', 'pad'):
    for seed in range(6):
      for clip in ((10, 1), (4, 2), (3, 1)):
        select = lambda n: transforms.clip_indices(
            n, clip[0], clip[1], rng=np.random.default_rng(seed), pad_mode=pad_mode)
        np.testing.assert_array_equal(video_io.read_clip(path, select),
                                      video_io.read_clip(path, select, seek=False))


class _LateSeek:
  """A container whose seeks land 8 frames (one pts tick each) after the target."""

  def __init__(self, container):
    self._c = container

  def seek(self, offset, **kw):
    self._c.seek(offset + 8, stream=kw['stream'], backward=False, any_frame=False)

  def __getattr__(self, name):
    return getattr(self._c, name)


def test_seek_falls_back_where_it_cannot_be_trusted(tmp_path, monkeypatch,
                                                    count_sequential):
  path = str(tmp_path / 'v.avi')
  write_moving(path, 30, 'mpeg4', gop=6)
  select = lambda n: np.arange(13, 17)
  want = video_io.read_clip(path, select, seek=False)
  # A seek that lands after the first wanted frame: decoded again from the start.
  real_open = av.open
  monkeypatch.setattr(av, 'open', lambda p: _LateSeek(real_open(p)))
  del count_sequential[:]
  np.testing.assert_array_equal(video_io.read_clip(path, select), want)
  assert len(count_sequential) == 1
  monkeypatch.setattr(av, 'open', real_open)
  # No frame count in the container (Matroska): decoded from the start.
  mkv = str(tmp_path / 'v.mkv')
  write_moving(mkv, 30, 'libx264', gop=6)
  del count_sequential[:]
  np.testing.assert_array_equal(video_io.read_clip(mkv, select),
                                video_io.read_clip(mkv, select, seek=False))
  assert len(count_sequential) == 2
  # A truncated tail keeps what decoded, seeking or not.
  cut = str(tmp_path / 'cut.avi')
  with open(path, 'rb') as f:
    blob = f.read()
  with open(cut, 'wb') as f:
    f.write(blob[:len(blob) * 2 // 3])
  late = lambda n: np.arange(n - 4, n)
  a = video_io.read_clip(cut, late)
  b = video_io.read_clip(cut, late, seek=False)
  np.testing.assert_array_equal(a, b)
  full = video_io.read_clip(path, np.arange, seek=False)
  got = video_io.read_clip(cut, np.arange)
  assert 0 < len(got) < 30
  np.testing.assert_array_equal(got[:-1], full[:len(got) - 1])


# ------------------------------------------------------------ Pickling, labels.
SYNTHETIC = ('temporal_actions', 'appearance', 'moving_digits')


def test_every_dataset_pickles(tmp_path):
  ucf = str(tmp_path / 'ucf')
  fakes.make_ucf(ucf)
  hmdb = str(tmp_path / 'hmdb')
  fakes.make_hmdb(hmdb, os.path.join(hmdb, 'testTrainMulti_7030_splits'))
  k600 = str(tmp_path / 'k600')
  fakes.make_kinetics(k600)
  arr = np.zeros((20, 3, 64, 64), np.uint8)
  np.save(tmp_path / 'mnist_test_seq.npy', arr)
  kwargs = {
      'temporal_actions': dict(num_clips=4), 'appearance': dict(num_clips=4),
      'moving_digits': dict(num_clips=4), 'ucf101': dict(root=ucf),
      'hmdb51': dict(root=hmdb), 'kinetics600': dict(root=k600),
      'moving_mnist': dict(root=str(tmp_path)),
  }
  assert sorted(kwargs) == data_lib.dataset_names()
  for name, kw in kwargs.items():
    ds = data_lib.get_dataset(name, 'train', frames_per_clip=6, **kw)
    # Process workers get the dataset through cloudpickle (grain's); the synthetic sets
    # hold local render functions that only cloudpickle can write.
    copy = cloudpickle.loads(cloudpickle.dumps(ds))
    if name not in SYNTHETIC:
      copy = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(copy.get_batch([0, 1])['frames'],
                                  ds.get_batch([0, 1])['frames'], err_msg=name)
    if hasattr(ds, 'bad_videos'):
      with copy._lock:  # pylint: disable=protected-access
        assert copy.num_bad == 0


def test_item_labels_without_decoding(tmp_path, monkeypatch):
  root = str(tmp_path / 'ucf')
  fakes.make_ucf(root)
  ds = ucf101_lib.ucf101('test', root=root, num_views=3, frames_per_clip=4,
                         resolution=32)
  want = [ds[i]['label'] for i in range(len(ds))]
  monkeypatch.setattr(video_io, 'read_clip', None)  # Any decode would fail.
  labels = ds.item_labels
  assert labels.dtype == np.int32 and labels.shape == (len(ds),) == (6,)
  assert labels.tolist() == want == [0, 0, 0, 1, 1, 1]


# ------------------------------------------------------------- Process workers.
def ids(batches):
  return [b['video_ids'][:, 0].tolist() for b in batches]


def test_process_workers_give_the_same_batches_and_resume():
  jax.numpy.zeros(2).block_until_ready()  # Workers start after JAX has.
  ds = test_data_batching.ToyDataset(10)
  kw = dict(seed=5, num_epochs=3, drop_remainder=False)
  want = list(batching.batches(ds, 4, **kw))
  got = list(batching.batches(ds, 4, num_workers=2, worker_type='process', **kw))
  assert ids(got) == ids(want) and len(want) == 9
  for a, b in zip(got, want):
    np.testing.assert_array_equal(a['frames'], b['frames'])  # Epoch-aware items.
  # Resume mid-epoch (epoch 1, batch 1) with one worker process.
  state = {'epoch': 1, 'batch': 1}
  it = batching.batches(ds, 4, num_workers=1, worker_type='process', state=state, **kw)
  assert ids(it) == ids(want[4:])
  assert it.get_state() == {'epoch': 3, 'batch': 0}


def test_corrupt_video_in_a_worker_process_is_warned_skipped_and_replaced(tmp_path):
  root = str(tmp_path / 'ucf')
  rels = fakes.make_ucf(root)
  corrupt = os.path.join(root, 'UCF-101', rels[(0, 2)])
  with open(corrupt, 'wb') as f:
    f.write(b'RIFF garbage, not a video' * 10)
  ds = ucf101_lib.ucf101('train', root=root, fold=1, max_bad_fraction=0.5,
                         frames_per_clip=4, resolution=32)
  with pytest.warns(errors.BadVideoWarning, match='v_ApplyEyeMakeup_g02_c01.avi'):
    got = list(batching.batches(ds, 2, num_epochs=1, num_workers=2,
                                worker_type='process'))
  assert len(got) == 2 and got[0]['frames'].shape == (2, 4, 32, 32, 3)
  assert corrupt in ds.bad_videos  # Relayed from the worker.
  assert corrupt not in [ds.paths[i] for b in got for i in b['video_ids'][:, 0]]


def test_bad_worker_type():
  with pytest.raises(ValueError, match="worker_type must be one of 'process', 'thread'"):
    batching.batches(test_data_batching.ToyDataset(4), 2, worker_type='fork')


# ---------------------------------------------------------------------- Shards.
def test_shards_are_disjoint_deterministic_slices_of_each_epoch():
  ds = test_data_batching.ToyDataset(14)
  one = ids(itertools.islice(batching.batches(ds, 2, seed=1), 14))
  assert one == ids(itertools.islice(batching.batches(ds, 2, seed=1, shard_index=0,
                                                      shard_count=1), 14))
  per_epoch = []
  for shard in range(3):  # 14 // 3 = 4 items per host: 2 batches of 2 per epoch.
    got = ids(batching.batches(ds, 2, seed=1, num_epochs=2, shard_index=shard,
                               shard_count=3))
    assert got == ids(batching.batches(ds, 2, seed=1, num_epochs=2, shard_index=shard,
                                       shard_count=3, num_workers=2))
    assert len(got) == 4
    per_epoch.append((sum(got[:2], []), sum(got[2:], [])))
  for e in (0, 1):
    items = [i for shard in per_epoch for i in shard[e]]
    assert len(items) == len(set(items)) == 12
    order = batching.epoch_order(14, e, seed=1)
    assert items == order[:12].tolist()
  with pytest.raises(ValueError, match='shard_index must be in'):
    batching.batches(ds, 2, shard_index=3, shard_count=3)
  with pytest.raises(ValueError, match='both shard_index and shard_count'):
    batching.batches(ds, 2, shard_index=1)
  with pytest.raises(ValueError, match=r'14 items \(3 per host of 4\).*too few'):
    batching.batches(ds, 4, shard_index=0, shard_count=4)


@pytest.mark.parametrize('loader', [dict(), dict(num_workers=2, worker_type='thread'),
                                    dict(num_workers=1, worker_type='process')])
def test_uint8_batches_are_the_float_batches_before_to_float(tmp_path, loader):
  jax.numpy.zeros(2).block_until_ready()  # Workers start after JAX has.
  root = str(tmp_path / 'ucf')
  fakes.make_ucf(root)
  ds = ucf101_lib.ucf101('train', root=root, frames_per_clip=4, resolution=32,
                         mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3))
  kw = dict(seed=3, num_epochs=1, **loader)
  floats = list(batching.batches(ds, 2, **kw))
  raw = list(batching.batches(ds, 2, uint8=True, **kw))
  assert len(raw) == len(floats) == 2
  for r, f in zip(raw, floats):
    assert r['frames'].dtype == np.uint8 and f['frames'].dtype == np.float32
    np.testing.assert_array_equal(ds.to_float(r['frames']), f['frames'])
    np.testing.assert_array_equal(r['video_ids'], f['video_ids'])
  # A dataset without to_float gives its frames as they are.
  toy = test_data_batching.ToyDataset(4)
  np.testing.assert_array_equal(next(batching.batches(toy, 2, uint8=True))['frames'],
                                next(batching.batches(toy, 2))['frames'])
