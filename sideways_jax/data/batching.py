"""The dataset protocol, and resumable batching for any dataset that follows it.

`batches` draws one permutation per epoch from `(seed, epoch)` with numpy, so
the batch sequence is the same for any `num_workers`; workers only parallelise
loading (grain threads: PyAV decoding and swscale release the GIL).

Nothing here imports PyAV: batching synthetic sets never loads a video decoder.
"""

from typing import Protocol, Sequence

import grain
import numpy as np

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


def _epoch_batches(dataset, order, batch_size, epoch, num_workers, prefetch):
  if num_workers <= 0:
    for s in range(0, len(order), batch_size):
      yield dataset.get_batch(order[s:s + batch_size], epoch=epoch)
    return
  ds = (grain.MapDataset.source(order)
        .map(lambda i: dataset.get_batch([int(i)], epoch=epoch))
        .batch(batch_size, drop_remainder=False, batch_fn=concat))
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

  Example:
    train = sideways_jax.data.get_dataset('temporal_actions', 'train')
    for batch in batches(train, 16, seed=0):
      ...

  Args:
    dataset: follows the `Dataset` protocol; batch `b` of epoch `e` is
      `dataset.get_batch(indices, epoch=e)`, so augmentation changes per epoch.
    batch_size: items per batch.
    seed: seeds the per-epoch permutation.
    shuffle: permute items each epoch (else dataset order).
    num_epochs: number of passes; None repeats forever.
    drop_remainder: drop each epoch's last, smaller batch (batches never
      span epochs).
    num_workers: 0 loads whole batches in this thread; > 0 loads items
      (`get_batch([i], epoch)`) on that many grain threads.
    prefetch: batches read ahead (at least num_workers); memory is about
      prefetch whole batches.
    state: a `get_state()` of an earlier iterator with the same arguments: start where it
      was (resuming a run).

  Returns:
    A `Batches` iterator (`get_state()` / `set_state()`).

  Raises:
    TypeError: if the dataset does not follow the protocol (naming what it lacks).
    ValueError: if batch_size < 1 or the dataset has fewer items than one
      batch while drop_remainder is set (it would yield nothing forever).
  """
  check_dataset(dataset)
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
