"""`pipeline.batches` on a toy in-memory dataset and on real decoded videos."""

import itertools
import os

import numpy as np
import pytest

from sideways_jax.data import pipeline
from sideways_jax.data import ucf101 as ucf101_lib

import test_data_real as fakes


class ToyDataset:
  """Item i's frames hold i (+ 1000 * epoch when loaded with an epoch)."""

  num_classes = 3
  frames_per_clip = 2
  frame_shape = (2, 2, 1)

  def __init__(self, n, with_get=True):
    self.n = n
    if with_get:
      self.get = self._get

  def __len__(self):
    return self.n

  def _get(self, i, epoch=0):
    return dict(frames=np.full((2, 2, 2, 1), i + 1000 * epoch, np.float32),
                label=i % 3, video_id=i)

  def __getitem__(self, i):
    return self._get(int(i))


def ids(batch):
  return batch['video_ids'][:, 0].tolist()


@pytest.mark.parametrize('num_workers', [0, 2])
def test_shapes_epochs_and_determinism(num_workers):
  ds = ToyDataset(10)
  it = pipeline.batches(ds, 4, seed=1, num_epochs=2, num_workers=num_workers)
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
  again = list(pipeline.batches(ds, 4, seed=1, num_epochs=2, num_workers=num_workers))
  assert [ids(x) for x in again] == [ids(x) for x in out]
  other = list(pipeline.batches(ds, 4, seed=2, num_epochs=2, num_workers=num_workers))
  assert [ids(x) for x in other] != [ids(x) for x in out]


def test_workers_match_single_thread_and_remainder():
  ds = ToyDataset(10, with_get=False)
  a = list(pipeline.batches(ds, 4, seed=5, num_epochs=3, drop_remainder=False))
  b = list(pipeline.batches(ds, 4, seed=5, num_epochs=3, drop_remainder=False,
                            num_workers=2))
  assert [len(ids(x)) for x in a] == [4, 4, 2] * 3
  assert [ids(x) for x in a] == [ids(x) for x in b]
  for e in range(3):
    assert sorted(sum((ids(x) for x in a[3 * e:3 * e + 3]), [])) == list(range(10))
  plain = list(pipeline.batches(ds, 5, shuffle=False, num_epochs=1))
  assert [ids(x) for x in plain] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
  forever = pipeline.batches(ds, 3, num_epochs=None)
  assert len(list(itertools.islice(forever, 50))) == 50
  with pytest.raises(ValueError, match='too few'):
    next(pipeline.batches(ToyDataset(2), 4))


def test_uses_get_batch_fast_path():
  calls = []

  class WithBatch(ToyDataset):

    def get_batch(self, indices):
      calls.append(list(indices))
      return {'frames': np.zeros((len(indices), 1)), 'labels': None,
              'video_ids': np.asarray(indices)[:, None]}

  out = list(pipeline.batches(WithBatch(6), 3, num_epochs=1))
  assert len(out) == 2 and len(calls) == 2
  assert sorted(sum(calls, [])) == list(range(6))


def test_real_videos_through_workers(tmp_path):
  root = str(tmp_path / 'ucf')
  fakes.make_ucf(root)
  ds = ucf101_lib.ucf101('train', root=root, frames_per_clip=4, resolution=32)
  a = list(pipeline.batches(ds, 2, seed=0, num_epochs=2, num_workers=2))
  b = list(pipeline.batches(ds, 2, seed=0, num_epochs=2, num_workers=0))
  assert len(a) == 4 and a[0]['frames'].shape == (2, 4, 32, 32, 3)
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x['frames'], y['frames'])
    np.testing.assert_array_equal(x['labels'], y['labels'])
  assert os.path.isdir(root)


@pytest.mark.parametrize('num_workers', [0, 2])
@pytest.mark.parametrize('stop', [0, 1, 2, 5])
def test_resumes_exactly_where_it_was(num_workers, stop):
  ds = ToyDataset(10)
  whole = list(itertools.islice(pipeline.batches(ds, 4, seed=3, num_workers=num_workers),
                                stop + 4))
  first = pipeline.batches(ds, 4, seed=3, num_workers=num_workers)
  for _ in range(stop):
    next(first)
  state = first.get_state()
  assert state == {'epoch': stop // 2, 'batch': stop % 2}
  rest = list(itertools.islice(
      pipeline.batches(ds, 4, seed=3, num_workers=num_workers, state=state), 4))
  for got, want in zip(rest, whole[stop:]):
    np.testing.assert_array_equal(got['frames'], want['frames'])
    np.testing.assert_array_equal(got['video_ids'], want['video_ids'])


def test_bad_state():
  with pytest.raises(ValueError, match='epoch and batch'):
    pipeline.batches(ToyDataset(10), 4, state={'epoch': -1, 'batch': 0})
