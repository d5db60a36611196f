"""Batching for any dataset that follows the dataset API.

`batches` draws one permutation per epoch from `(seed, epoch)` with numpy, so
the batch sequence is the same for any `num_workers`; workers only parallelise
loading (grain threads: PyAV decoding and swscale release the GIL).
"""

import inspect

import grain
import numpy as np

from sideways_jax.data import video_io


def _accepts_epoch(fn):
  try:
    return 'epoch' in inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return False


def _item_loader(dataset, epoch):
  if hasattr(dataset, 'get') and _accepts_epoch(dataset.get):
    return lambda i: dataset.get(int(i), epoch=epoch)
  return lambda i: dataset[int(i)]


def epoch_order(num_items, epoch, *, seed=0, shuffle=True):
  """Item order of one epoch: a permutation seeded by (seed, epoch)."""
  if not shuffle:
    return np.arange(num_items)
  return np.random.default_rng([seed, epoch]).permutation(num_items)


def _epoch_batches(dataset, order, batch_size, epoch, num_workers, prefetch):
  if num_workers <= 0:
    get_batch = getattr(dataset, 'get_batch', None)
    load = _item_loader(dataset, epoch)
    for s in range(0, len(order), batch_size):
      idx = order[s:s + batch_size]
      if get_batch is not None:
        yield get_batch(idx, epoch=epoch) if _accepts_epoch(get_batch) else get_batch(idx)
      else:
        yield video_io.collate([load(i) for i in idx])
    return
  ds = (grain.MapDataset.source(order)
        .map(_item_loader(dataset, epoch))
        .batch(batch_size, drop_remainder=False, batch_fn=video_io.collate))
  opts = grain.ReadOptions(num_threads=num_workers,
                           prefetch_buffer_size=max(prefetch, num_workers))
  yield from ds.to_iter_dataset(opts)


class Batches:
  """An iterator of batch dicts that can say where it is and restart there.

  `get_state()` is a small JSON-able dict (epoch, batch within the epoch); a new iterator
  built with the same arguments and `set_state(state)` (or `batches(..., state=state)`)
  yields exactly the batches that would have come next, without loading the skipped ones.
  """

  def __init__(self, dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers,
               prefetch):
    self._args = (dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers,
                  prefetch)
    self._epoch, self._batch = 0, 0
    self._it = None

  def get_state(self):
    batch_size, usable = self._args[1], self._args[5]
    if self._batch * batch_size >= usable:  # the epoch is done: the next one's start
      return {'epoch': self._epoch + 1, 'batch': 0}
    return {'epoch': self._epoch, 'batch': self._batch}

  def set_state(self, state):
    epoch, batch = int(state['epoch']), int(state['batch'])
    if epoch < 0 or batch < 0:
      raise ValueError(f'bad batches state {state!r}: epoch and batch must be >= 0.')
    self._epoch, self._batch = epoch, batch
    self._it = None

  def __iter__(self):
    return self

  def __next__(self):
    dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers, prefetch = self._args
    while True:
      if num_epochs is not None and self._epoch >= num_epochs:
        raise StopIteration
      if self._it is None:
        order = epoch_order(len(dataset), self._epoch, seed=seed, shuffle=shuffle)[:usable]
        order = order[self._batch * batch_size:]
        self._it = _epoch_batches(dataset, order, batch_size, self._epoch, num_workers,
                                  prefetch)
      try:
        batch = next(self._it)
      except StopIteration:
        self._epoch, self._batch, self._it = self._epoch + 1, 0, None
        continue
      self._batch += 1
      return batch


def batches(dataset, batch_size, *, seed=0, shuffle=True, num_epochs=None,
            drop_remainder=True, num_workers=0, prefetch=2, state=None):
  """Iterates batch dicts: frames [B,T,H,W,C], labels/video_ids int32 [B,T].

  Args:
    dataset: has `__len__` and `__getitem__` (-> frames/label/video_id dict);
      `get_batch(indices[, epoch])` is used when there are no workers and
      `get(i, epoch=...)` when present, so augmentation changes per epoch.
    batch_size: items per batch.
    seed: seeds the per-epoch permutation.
    shuffle: permute items each epoch (else dataset order).
    num_epochs: number of passes; None repeats forever.
    drop_remainder: drop each epoch's last, smaller batch (batches never
      span epochs).
    num_workers: 0 loads in this thread; > 0 uses that many grain threads.
    prefetch: batches read ahead (at least num_workers); memory is about
      prefetch whole batches.
    state: a `get_state()` of an earlier iterator with the same arguments: start where it
      was (resuming a run).

  Returns:
    A `Batches` iterator (`get_state()` / `set_state()`).

  Raises:
    ValueError: if batch_size < 1 or the dataset has fewer items than one
      batch while drop_remainder is set (it would yield nothing forever).
  """
  if batch_size < 1:
    raise ValueError(f'batch_size must be >= 1, got {batch_size}')
  n = len(dataset)
  if n == 0 or (drop_remainder and n < batch_size):
    raise ValueError(f'Dataset has {n} items: too few for one batch of {batch_size}'
                     ' (lower batch_size or pass drop_remainder=False).')
  usable = n - n % batch_size if drop_remainder else n
  it = Batches(dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers, prefetch)
  if state is not None:
    it.set_state(state)
  return it
