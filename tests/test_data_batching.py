"""`batching.batches` (old name `pipeline.batches`) on a toy dataset that follows the
dataset protocol and on real decoded videos; the protocol check; and that batching and the
synthetic sets never import PyAV."""

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from sideways_jax.data import batching
from sideways_jax.data import pipeline
from sideways_jax.data import ucf101 as ucf101_lib

import test_data_real as fakes


class ToyDataset:
  """Item i's frames hold i + 1000 * epoch; records each get_batch call."""

  num_classes = 3
  class_names = ('a', 'b', 'c')
  frames_per_clip = 2
  frame_shape = (2, 2, 1)

  def __init__(self, n):
    self.n = n
    self.calls = []

  def __len__(self):
    return self.n

  def _item(self, i, epoch):
    return dict(frames=np.full((2, 2, 2, 1), i + 1000 * epoch, np.float32),
                label=i % 3, video_id=i)

  def __getitem__(self, i):
    return self._item(int(i), 0)

  def get_batch(self, indices, epoch=0):
    self.calls.append(([int(i) for i in indices], epoch))
    return batching.collate([self._item(int(i), epoch) for i in indices])


def ids(batch):
  return batch['video_ids'][:, 0].tolist()


@pytest.mark.parametrize('num_workers', [0, 2])
def test_shapes_epochs_and_determinism(num_workers):
  ds = ToyDataset(10)
  it = batching.batches(ds, 4, seed=1, num_epochs=2, num_workers=num_workers)
  out = list(it)
  assert len(out) == 4  # 2 full batches per epoch, remainder of 2 dropped.
  b = out[0]
  assert b['frames'].shape == (4, 2, 2, 2, 1) and b['frames'].dtype == np.float32
  assert b['labels'].shape == (4, 2) and b['labels'].dtype == np.int32
  np.testing.assert_array_equal(b['labels'][:, 0], np.array(ids(b)) % 3)
  np.testing.assert_array_equal(b['frames'][:, 0, 0, 0, 0], ids(b))
  assert (out[2]['frames'][:, 0, 0, 0, 0] >= 1000).all()  # Epoch-aware items.
  e0, e1 = ids(out[0]) + ids(out[1]), ids(out[2]) + ids(out[3])
  assert len(set(e0)) == 8 and len(set(e1)) == 8 and e0 != e1
  again = list(batching.batches(ds, 4, seed=1, num_epochs=2, num_workers=num_workers))
  assert [ids(x) for x in again] == [ids(x) for x in out]
  other = list(batching.batches(ds, 4, seed=2, num_epochs=2, num_workers=num_workers))
  assert [ids(x) for x in other] != [ids(x) for x in out]


def test_workers_match_single_thread_and_remainder():
  ds = ToyDataset(10)
  a = list(batching.batches(ds, 4, seed=5, num_epochs=3, drop_remainder=False))
  b = list(batching.batches(ds, 4, seed=5, num_epochs=3, drop_remainder=False,
                            num_workers=2))
  assert [len(ids(x)) for x in a] == [4, 4, 2] * 3
  assert [ids(x) for x in a] == [ids(x) for x in b]
  for e in range(3):
    assert sorted(sum((ids(x) for x in a[3 * e:3 * e + 3]), [])) == list(range(10))
  plain = list(batching.batches(ds, 5, shuffle=False, num_epochs=1))
  assert [ids(x) for x in plain] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
  forever = batching.batches(ds, 3, num_epochs=None)
  assert len(list(itertools.islice(forever, 50))) == 50
  with pytest.raises(ValueError, match='too few'):
    next(batching.batches(ToyDataset(2), 4))


@pytest.mark.parametrize('num_workers', [0, 2])
def test_calls_get_batch_with_the_epoch(num_workers):
  ds = ToyDataset(6)
  out = list(batching.batches(ds, 3, num_epochs=2, num_workers=num_workers))
  assert len(out) == 4
  epochs = sorted({epoch for _, epoch in ds.calls})
  assert epochs == [0, 1]
  for e in (0, 1):
    loaded = sorted(i for idx, epoch in ds.calls if epoch == e for i in idx)
    assert loaded == list(range(6))
  if num_workers == 0:  # whole batches in one call; workers load one item per call
    assert [len(idx) for idx, _ in ds.calls] == [3, 3, 3, 3]
  else:
    assert {len(idx) for idx, _ in ds.calls} == {1}


def test_pipeline_is_the_old_name_of_batching():
  assert pipeline.batches is batching.batches
  assert pipeline.Batches is batching.Batches
  assert pipeline.epoch_order is batching.epoch_order


class _NoGetBatch:
  num_classes, frames_per_clip, frame_shape = 2, 2, (2, 2, 1)

  def __len__(self):
    return 4

  def __getitem__(self, i):
    return {}


def test_a_dataset_outside_the_protocol_is_refused():
  with pytest.raises(TypeError, match='_NoGetBatch.*no get_batch.*sideways_jax.data.Dataset'):
    batching.batches(_NoGetBatch(), 2)
  with pytest.raises(TypeError, match='no __len__, __getitem__, get_batch, num_classes'):
    batching.batches(object(), 2)


def test_batching_and_synthetic_sets_do_not_import_pyav():
  code = ('import sys\n'
          'from sideways_jax import data\n'
          'from sideways_jax.data import batching, pipeline, streams, synthetic, digits\n'
          'from sideways_jax.data import transforms, moving_mnist, errors, annotations\n'
          'for name in ("temporal_actions", "appearance", "moving_digits"):\n'
          '  ds = data.get_dataset(name, "train", num_clips=4)\n'
          '  next(batching.batches(ds, 2, num_workers=2))\n'
          '  next(streams.video_stream(ds, 2, 3))\n'
          'assert "av" not in sys.modules, "PyAV was imported"\n'
          'from sideways_jax.data import ucf101\n'
          'assert "av" in sys.modules  # the check can fail\n')
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  subprocess.run([sys.executable, '-c', code], check=True, cwd=root,
                 env=dict(os.environ, JAX_PLATFORMS='cpu'))


def test_real_videos_through_workers(tmp_path):
  root = str(tmp_path / 'ucf')
  fakes.make_ucf(root)
  ds = ucf101_lib.ucf101('train', root=root, frames_per_clip=4, resolution=32)
  a = list(batching.batches(ds, 2, seed=0, num_epochs=2, num_workers=2))
  b = list(batching.batches(ds, 2, seed=0, num_epochs=2, num_workers=0))
  assert len(a) == 4 and a[0]['frames'].shape == (2, 4, 32, 32, 3)
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x['frames'], y['frames'])
    np.testing.assert_array_equal(x['labels'], y['labels'])
  assert os.path.isdir(root)


@pytest.mark.parametrize('num_workers', [0, 2])
@pytest.mark.parametrize('stop', [0, 1, 2, 5])
def test_resumes_exactly_where_it_was(num_workers, stop):
  ds = ToyDataset(10)
  whole = list(itertools.islice(batching.batches(ds, 4, seed=3, num_workers=num_workers),
                                stop + 4))
  first = batching.batches(ds, 4, seed=3, num_workers=num_workers)
  for _ in range(stop):
    next(first)
  state = first.get_state()
  assert state == {'epoch': stop // 2, 'batch': stop % 2}
  rest = list(itertools.islice(
      batching.batches(ds, 4, seed=3, num_workers=num_workers, state=state), 4))
  for got, want in zip(rest, whole[stop:]):
    np.testing.assert_array_equal(got['frames'], want['frames'])
    np.testing.assert_array_equal(got['video_ids'], want['video_ids'])


def test_bad_state():
  with pytest.raises(ValueError, match='epoch and batch'):
    batching.batches(ToyDataset(10), 4, state={'epoch': -1, 'batch': 0})
