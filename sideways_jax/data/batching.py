"""The dataset protocol, and resumable batching for any dataset that follows it.

`batches` draws one permutation per epoch from `(seed, epoch)` with numpy, so
the batch sequence is the same for any `num_workers` and `worker_type`; workers only
parallelise loading (grain worker processes, or grain threads: PyAV decoding and swscale
release the GIL). With several hosts each takes a disjoint slice of every permutation.

Nothing here imports PyAV: batching synthetic sets never loads a video decoder.
"""

import sys
from typing import Protocol, Sequence
import warnings

from absl import flags
import grain
import numpy as np

WORKER_TYPES = ('process', 'thread')
# See `batches`. Threads, by measurement (benchmarks/data_decode.py decode_workers and
# data_prepared.py, 2 cores, load 0.3-1.6): raw files 193 clips/s on 2 threads, 160 on 2
# processes; prepared jpeg 358 and 246. Processes take 2-4 s to start (each imports
# sideways_jax and JAX) and send every clip through shared memory (as uint8 when the
# dataset has `to_float`).
DEFAULT_WORKER_TYPE = 'thread'

# What every dataset has (see `Dataset`); checked by name, never by signature.
PROTOCOL = ('__len__', '__getitem__', 'get_batch', 'num_classes', 'frame_shape',
            'frames_per_clip')


class Dataset(Protocol):
  """The one protocol every dataset follows (synthetic sets, real videos, your own).

  Items are clips; a clip is a function of `(index, epoch)` only (augmentation may change
  with the epoch, nothing else does), so batches are reproducible and resumable.

  Attributes:
    num_classes: labels are in [0, num_classes) (-1 for an unlabelled clip).
    class_names: `class_names[label]` names a label.
    frame_shape: (H, W, C) of every frame.
    frames_per_clip: T, frames of every clip.
  """

  num_classes: int
  class_names: Sequence[str]
  frame_shape: tuple
  frames_per_clip: int

  def __len__(self) -> int:
    """Number of clips."""

  def __getitem__(self, index) -> dict:
    """Clip `index` at epoch 0: dict(frames float32 [T, H, W, C], label int, video_id int)."""

  def get_batch(self, indices, epoch=0) -> dict:
    """Clips `indices` at `epoch`: dict(frames float32 [B, T, H, W, C],
    labels int32 [B, T], video_ids int32 [B, T]) (label and id repeated per frame)."""


def check_dataset(dataset):
  """Raises TypeError naming what `dataset` lacks of the `Dataset` protocol."""
  missing = [name for name in PROTOCOL if not hasattr(dataset, name)]
  if missing:
    raise TypeError(
        f'{type(dataset).__name__} does not follow the dataset protocol: it has no '
        f'{", ".join(missing)}. Give it every member of sideways_jax.data.Dataset: '
        f'{", ".join(PROTOCOL)} (get_batch(indices, epoch=0) returns the batch dict).')


def collate(items):
  """Stacks per-item dicts (frames, label, video_id) into the batch layout."""
  frames = np.stack([it['frames'] for it in items])
  t = frames.shape[1]
  labels = np.array([it['label'] for it in items], np.int32)
  ids = np.array([it['video_id'] for it in items], np.int32)
  return dict(frames=frames,
              labels=np.repeat(labels[:, None], t, axis=1),
              video_ids=np.repeat(ids[:, None], t, axis=1))


def concat(batch_dicts):
  """Joins batch dicts along the batch axis."""
  return {k: np.concatenate([b[k] for b in batch_dicts]) for k in batch_dicts[0]}


def epoch_order(num_items, epoch, *, seed=0, shuffle=True):
  """Item order of one epoch: a permutation seeded by (seed, epoch)."""
  if not shuffle:
    return np.arange(num_items)
  return np.random.default_rng([seed, epoch]).permutation(num_items)


def shard_order(order, shard_index, shard_count):
  """Host `shard_index`'s contiguous 1/shard_count of `order` (the tail that does not
  divide evenly is dropped, so every host gets as many items)."""
  per_host = len(order) // shard_count
  return order[shard_index * per_host:(shard_index + 1) * per_host]


class _ItemOrder:
  """Position k of the loading stream -> (epoch, item); picklable for process workers.

  The stream starts at item `start` of epoch `first_epoch` and runs through the epochs in
  order (`usable` items each; `num_epochs` None: without end).
  """

  def __init__(self, num_items, seed, shuffle, shard, usable, first_epoch, start,
               num_epochs):
    self._args = (num_items, seed, shuffle, shard)
    self._usable, self._first_epoch, self._start = usable, first_epoch, start
    if num_epochs is None:
      self._len = 2 ** 62  # Without end (grain needs a length).
    else:
      self._len = max(0, (num_epochs - first_epoch) * usable - start)
    self._cached = (None, None)

  def __len__(self):
    return self._len

  def __getitem__(self, k):
    num_items, seed, shuffle, shard = self._args
    epoch, pos = divmod(int(k) + self._start, self._usable)
    epoch += self._first_epoch
    if self._cached[0] != epoch:
      order = shard_order(epoch_order(num_items, epoch, seed=seed, shuffle=shuffle), *shard)
      self._cached = (epoch, order)
    return epoch, int(self._cached[1][pos])


class _LoadItem:
  """Loads one item as a 1-item batch; in a worker process, also records its warnings.

  Returns the batch, or (batch, [(warning category, message)], {new bad_videos entries})
  with `relay`, so the parent process can re-issue the warnings and keep the count.
  """

  def __init__(self, dataset, relay, uint8=False):
    self.dataset, self.relay, self.uint8 = dataset, relay, uint8

  def __call__(self, epoch_and_item):
    epoch, i = epoch_and_item
    if not self.relay:
      return self.dataset.get_batch([i], epoch=epoch, **({'uint8': True} if self.uint8 else {}))
    bad = getattr(self.dataset, 'bad_videos', None)
    bad = bad if isinstance(bad, dict) else {}
    known = set(bad)
    # A dataset with `to_float` sends its frames as uint8, a quarter of float32's bytes
    # (sending is what a worker process costs most: ~6 ms for a float32 16x112x112 clip).
    kwargs = {'uint8': True} if hasattr(self.dataset, 'to_float') else {}
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always')
      batch = self.dataset.get_batch([i], epoch=epoch, **kwargs)
    new_bad = {k: v for k, v in bad.items() if k not in known}
    return batch, [(w.category, str(w.message)) for w in caught], new_bad


def _item_iterator(dataset, items, num_workers, worker_type, buffer_items, uint8=False):
  """A grain iterator of loaded 1-item batches, in `items` order."""
  relay = worker_type == 'process'
  ds = grain.MapDataset.source(items).map(_LoadItem(dataset, relay, uint8))
  if worker_type == 'thread':
    return iter(ds.to_iter_dataset(grain.ReadOptions(
        num_threads=num_workers, prefetch_buffer_size=max(buffer_items, num_workers))))
  # grain reads absl flags when it starts workers (with JAX imported): outside an absl
  # app they are unparsed, and reading them would raise. Their defaults are what we want.
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  # Each worker process loads its items one at a time (no threads inside it); grain
  # starts the workers with the 'spawn' method, safe after JAX has started threads.
  ds = ds.to_iter_dataset(grain.ReadOptions(num_threads=0, prefetch_buffer_size=0))
  per_worker = max(1, -(-buffer_items // num_workers))
  return iter(ds.mp_prefetch(grain.MultiprocessingOptions(
      num_workers=num_workers, per_worker_buffer_size=per_worker)))


class Batches:
  """An iterator of batch dicts that can say where it is and restart there.

  `get_state()` is a small JSON-able dict (epoch, batch within the epoch); a new iterator
  built with the same arguments and `set_state(state)` (or `batches(..., state=state)`)
  yields exactly the batches that would have come next, without loading the skipped ones.
  With process workers, `close()` (or the end of the last epoch) stops them.
  """

  def __init__(self, dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers,
               prefetch, worker_type='thread', shard=(0, 1), uint8=False):
    self._args = (dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers,
                  prefetch)
    self._worker_type, self._shard = worker_type, shard
    self._uint8 = bool(uint8) and hasattr(dataset, 'to_float')
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
    self.close()
    self._epoch, self._batch = epoch, batch

  def close(self):
    """Stops the loading (worker processes and threads); iterating again restarts it."""
    it, self._it = self._it, None
    if it is not None and hasattr(it, 'close'):
      it.close()

  def __del__(self):
    try:
      self.close()
    except Exception:  # pylint: disable=broad-except
      pass  # At interpreter exit grain may already be gone.

  def __iter__(self):
    return self

  def _order(self, epoch):
    dataset, _, seed, shuffle, _, usable, _, _ = self._args
    order = epoch_order(len(dataset), epoch, seed=seed, shuffle=shuffle)
    return shard_order(order, *self._shard)[:usable]

  def __next__(self):
    dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers, prefetch = self._args
    if self._batch * batch_size >= usable:
      self._epoch, self._batch = self._epoch + 1, 0
    if num_epochs is not None and self._epoch >= num_epochs:
      self.close()
      raise StopIteration
    start = self._batch * batch_size
    if num_workers <= 0:
      batch = dataset.get_batch(self._order(self._epoch)[start:start + batch_size],
                                epoch=self._epoch, **({'uint8': True} if self._uint8 else {}))
    else:
      if self._it is None:
        items = _ItemOrder(len(dataset), seed, shuffle, self._shard, usable, self._epoch,
                           start, num_epochs)
        self._it = _item_iterator(dataset, items, num_workers, self._worker_type,
                                  prefetch * batch_size, self._uint8)
      batch = concat([self._take() for _ in range(min(batch_size, usable - start))])
    self._batch += 1
    return batch

  def _take(self):
    got = next(self._it)
    if self._worker_type != 'process':
      return got
    batch, caught, new_bad = got
    bad = getattr(self._args[0], 'bad_videos', None)
    if isinstance(bad, dict):
      for path, reason in new_bad.items():
        bad.setdefault(path, reason)
    for category, message in caught:
      warnings.warn(message, category, stacklevel=3)
    if hasattr(self._args[0], 'to_float') and not self._uint8:  # sent as uint8 (`_LoadItem`)
      batch = {**batch, 'frames': self._args[0].to_float(batch['frames'])}
    return batch


def _default_shard():
  """(jax.process_index(), jax.process_count()) if JAX is imported, else (0, 1)."""
  jax = sys.modules.get('jax')
  if jax is None:
    return 0, 1
  return jax.process_index(), jax.process_count()


def batches(dataset, batch_size, *, seed=0, shuffle=True, num_epochs=None,
            drop_remainder=True, num_workers=0, worker_type=DEFAULT_WORKER_TYPE,
            prefetch=2, state=None, shard_index=None, shard_count=None, uint8=False):
  """Iterates batch dicts: frames [B,T,H,W,C], labels/video_ids int32 [B,T].

  Example:
    train = sideways_jax.data.get_dataset('temporal_actions', 'train')
    for batch in batches(train, 16, seed=0):
      ...

  Args:
    dataset: follows the `Dataset` protocol; batch `b` of epoch `e` is
      `dataset.get_batch(indices, epoch=e)`, so augmentation changes per epoch.
    batch_size: items per batch (per host when sharded).
    seed: seeds the per-epoch permutation.
    shuffle: permute items each epoch (else dataset order).
    num_epochs: number of passes; None repeats forever.
    drop_remainder: drop each epoch's last, smaller batch (batches never
      span epochs).
    num_workers: 0 loads whole batches in this thread; > 0 loads items
      (`get_batch([i], epoch)`) on that many grain workers. The batches are the same.
    worker_type: 'process' (grain worker processes, started with 'spawn' once per
      iterator; the dataset must pickle; warnings and `bad_videos` found in a worker are
      relayed here) or 'thread' (grain threads; PyAV decoding and swscale release the
      GIL). Default: DEFAULT_WORKER_TYPE, measured in benchmarks/data_decode.py.
    prefetch: batches read ahead (at least num_workers items); memory is about
      prefetch whole batches.
    state: a `get_state()` of an earlier iterator with the same arguments: start where it
      was (resuming a run).
    shard_index, shard_count: this host takes the `shard_index`-th contiguous
      1/shard_count of every epoch's permutation (the same permutation on every host,
      so the hosts' items are disjoint; the last len % shard_count items are dropped).
      Default: jax.process_index() and jax.process_count() if JAX is imported, else
      one shard.
    uint8: a dataset with `to_float` (the real-video clip sets) gives its frames as uint8
      [0, 255], before `to_float`: a quarter of the bytes to move, converted where it is
      cheapest (the launcher converts them on the device, fused with centring). Datasets
      without `to_float` give their frames as they are.

  Returns:
    A `Batches` iterator (`get_state()` / `set_state()` / `close()`).

  Raises:
    TypeError: if the dataset does not follow the protocol (naming what it lacks).
    ValueError: if batch_size < 1, worker_type or the shard are unknown, or this host's
      share of the dataset has fewer items than one batch while drop_remainder is set
      (it would yield nothing forever).
  """
  check_dataset(dataset)
  if batch_size < 1:
    raise ValueError(f'batch_size must be >= 1, got {batch_size}')
  if worker_type not in WORKER_TYPES:
    raise ValueError(f'worker_type must be one of {", ".join(map(repr, WORKER_TYPES))}; '
                     f'got {worker_type!r}.')
  if (shard_index is None) != (shard_count is None):
    raise ValueError('Pass both shard_index and shard_count, or neither (one shard per '
                     f'JAX process); got shard_index={shard_index}, '
                     f'shard_count={shard_count}.')
  if shard_index is None:
    shard_index, shard_count = _default_shard()
  if not 0 <= shard_index < shard_count:
    raise ValueError(f'shard_index must be in [0, shard_count); got shard_index='
                     f'{shard_index}, shard_count={shard_count}.')
  n = len(dataset)
  per_host = n // shard_count
  if per_host == 0 or (drop_remainder and per_host < batch_size):
    shards = f' ({per_host} per host of {shard_count})' if shard_count > 1 else ''
    raise ValueError(f'Dataset has {n} items{shards}: too few for one batch of '
                     f'{batch_size} (lower batch_size or pass drop_remainder=False).')
  usable = per_host - per_host % batch_size if drop_remainder else per_host
  it = Batches(dataset, batch_size, seed, shuffle, num_epochs, usable, num_workers, prefetch,
               worker_type, (shard_index, shard_count), uint8)
  if state is not None:
    it.set_state(state)
  return it
