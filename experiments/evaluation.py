"""Which held-out clips a run is scored on, how they are loaded, and the mean metrics.

A periodic evaluation scores a fixed sample of `eval_clips` clips of the test split; the
last one of a run, and `experiments.evaluate`, score the whole split. The sample is a
function of the test set alone (its `item_labels`, or only its length), never of the
training seed or the step, so every evaluation of a run (and every run on the same test
set) scores the same clips:

  * classification on a dataset with `item_labels` (int [N], every item's label, read
    without decoding): a class-stratified sample. Clips are dealt round-robin over the
    classes in label order (one per class per round, skipping a class with none left), so
    with `eval_clips` >= the number of classes every class is scored and class counts
    differ by at most one where the split allows; within a class, its items are taken
    evenly spaced over the split's order (not its first ones: UCF101 lists a class by
    group, i.e. by actor).
  * otherwise (prediction, or a dataset without `item_labels`): items evenly spaced over
    the whole split.

Never a prefix: UCF101's and HMDB51's test lists are ordered by class, so their first
1024 items hold about two thirds of the classes.

Batches come from `sideways_jax.data.batching.batches` in split order (no shuffling, one
epoch, a smaller last batch), on `dataset.num_workers` grain workers (0: in this thread),
so video decoding overlaps the network; the batches, and so the numbers, are the same for
any number of workers.

Nothing here imports `experiments.builders` (which builds on it).
"""

import jax
import numpy as np

from sideways_jax.data import batching

# Metrics averaged over clips rather than over the outputs a loss would use.
PER_CLIP = ('clip_accuracy',)


def evenly_spaced(num_items, num_clips):
  """`num_clips` distinct indices evenly spaced over `range(num_items)` (sorted): the
  middles of `num_clips` equal parts; all of them when `num_clips >= num_items`."""
  if num_clips >= num_items:
    return np.arange(num_items)
  return ((np.arange(num_clips) + 0.5) * num_items / num_clips).astype(np.int64)


def stratified(labels, num_clips):
  """`num_clips` item indices (sorted) dealt round-robin over the classes of `labels`
  (one per class per round, lowest label first, a class with no item left skipped), each
  class's share evenly spaced over its items in split order."""
  labels = np.asarray(labels).reshape(-1)
  if num_clips >= len(labels):
    return np.arange(len(labels))
  _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
  quota, left = np.zeros(len(sizes), np.int64), num_clips
  while left:  # one round: one more clip for each class that has one left
    open_classes = np.flatnonzero(quota < sizes)[:left]
    quota[open_classes] += 1
    left -= len(open_classes)
  by_class = np.argsort(inverse, kind='stable')  # each class's items, in split order
  starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
  picks = [by_class[starts[c] + evenly_spaced(sizes[c], quota[c])]
           for c in np.flatnonzero(quota)]
  return np.sort(np.concatenate(picks))


def sample_indices(test_set, num_clips, task='classification'):
  """The test items an evaluation of `num_clips` clips scores (sorted): the whole split if
  it has no more, else a class-stratified sample (classification on a dataset with
  `item_labels`) or items evenly spaced over the split (see the module docstring)."""
  n = len(test_set)
  if num_clips >= n:
    return np.arange(n)
  labels = getattr(test_set, 'item_labels', None) if task == 'classification' else None
  if labels is None:
    return evenly_spaced(n, num_clips)
  labels = np.asarray(labels)
  if labels.shape != (n,):
    raise ValueError(f'{type(test_set).__name__}.item_labels has shape {labels.shape}; it '
                     f'must hold one label per item ({n},).')
  return stratified(labels, num_clips)


class Subset:
  """Items `indices` of `dataset`, in that order, per the dataset protocol (what
  `batching.batches` reads): item `j` is the dataset's item `indices[j]`."""

  def __init__(self, dataset, indices):
    self.dataset = dataset
    self.indices = np.asarray(indices, np.int64)
    for name in ('num_classes', 'class_names', 'frame_shape', 'frames_per_clip'):
      setattr(self, name, getattr(dataset, name, None))

  def __len__(self):
    return len(self.indices)

  def __getitem__(self, j):
    return self.dataset[int(self.indices[j])]

  def get_batch(self, indices, epoch=0):
    return self.dataset.get_batch(self.indices[np.asarray(indices, np.int64)], epoch=epoch)


def held_out_batches(test_set, indices, batch_size, num_workers=0):
  """Batches of test items `indices` in that order (the last one smaller), loaded on
  `num_workers` grain workers (0: in this thread). Every process reads them all (one
  shard): each scores the same clips."""
  if len(indices) == len(test_set) and np.array_equal(indices, np.arange(len(test_set))):
    source = test_set
  else:
    source = Subset(test_set, indices)
  return batching.batches(source, batch_size, shuffle=False, num_epochs=1,
                          drop_remainder=False, num_workers=num_workers or 0,
                          shard_index=0, shard_count=1)


def score(trainer, params_by_prefix, batches, num_classes=None, per_class=False,
          class_names=None):
  """Mean metrics of every parameter set over the same batches (loaded once).

  Args:
    trainer: has `evaluate(params, batch)` -> metrics (scalars, a `num_outputs` weight, and
      count arrays such as `clip_confusion`).
    params_by_prefix: {prefix: params}; the metrics of `params` are named `prefix + name`
      (one entry with prefix '' gives the plain names).
    batches: preprocessed batch dicts.
    num_classes: for classification, the dataset's classes: adds `num_classes` and
      `num_classes_scored` (the classes with at least one scored clip).
    per_class: with `clip_confusion` in the metrics, adds `per_class_clip_accuracy`
      {class name: accuracy, None for a class with no clip} and `clip_confusion` (clip
      counts, row = true class, column = predicted) of the '' entry.
    class_names: names for per_class (default the class numbers).

  Returns:
    The metrics, each averaged over the outputs each batch scored (over clips for clip
    accuracy), plus `num_clips`, the number of clips scored.
  """
  totals, weights, counts, scored, num_clips = {}, {}, {}, set(), 0
  for batch in batches:
    clips = len(batch['labels'])
    num_clips += clips
    scored.update(int(label) for label in np.asarray(batch['labels'])[:, 0])
    for prefix, params in params_by_prefix.items():
      metrics = jax.device_get(trainer.evaluate(params, batch))
      outputs = float(metrics.pop('num_outputs', clips))
      for key, value in metrics.items():
        key = prefix + key
        if np.ndim(value):  # counts (the confusion matrix) add up
          counts[key] = counts.get(key, 0) + np.asarray(value)
          continue
        w = clips if key[len(prefix):] in PER_CLIP else outputs
        totals[key] = totals.get(key, 0.) + float(value) * w
        weights[key] = weights.get(key, 0.) + w
  out = {k: totals[k] / weights[k] if weights[k] else 0. for k in totals}
  out['num_clips'] = num_clips
  if num_classes is not None:
    out['num_classes_scored'] = len(scored & set(range(num_classes)))
    out['num_classes'] = int(num_classes)
  if per_class and 'clip_confusion' in counts:
    confusion = counts['clip_confusion']
    names = list(class_names if class_names is not None else range(len(confusion)))
    out['per_class_clip_accuracy'] = {
        str(name): (float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else None)
        for i, name in enumerate(names)}
    out['clip_confusion'] = confusion.tolist()
  return out


def summary(metrics) -> str:
  """`name=value` pairs, with the copy-last-frame baseline beside each prediction metric,
  then what was scored: `on 512 clips, 8 of 8 classes` (`on 512 clips` for prediction)."""
  parts = []
  for key, value in metrics.items():
    if key.startswith('copy_last_') or not isinstance(value, float):
      continue
    text = f'{key}={value:.4g}'
    if f'copy_last_{key}' in metrics:
      text += f' (copy-last {metrics[f"copy_last_{key}"]:.4g})'
    parts.append(text)
  if 'num_clips' in metrics:
    text = f'on {metrics["num_clips"]} clips'
    if 'num_classes' in metrics:
      text += f', {metrics["num_classes_scored"]} of {metrics["num_classes"]} classes'
    parts.append(text)
  return ' '.join(parts)
