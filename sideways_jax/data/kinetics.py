"""Kinetics-600 from the common downloader layout (see docs/REAL_DATASETS.md).

Kinetics has no official disk layout; this follows the one the usual download
scripts produce:

  <root>/<split>.csv     header label,youtube_id,time_start,time_end,split
  <root>/<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4

Our split 'test' reads the on-disk 'val' split (the labelled held-out set);
pass `test_split='test'` to read `<root>/test` instead. Label folders with
spaces replaced by '_' are accepted too. Videos listed but not on disk (taken
down on YouTube) are dropped up to `max_bad_fraction` (default 0.1). Rows with
an empty label (an unlabelled test CSV) get label -1, files `<root>/test/<name>`.
"""

import csv
import os

from sideways_jax.data import errors
from sideways_jax.data import video_folder

_FIX = ('Download Kinetics-600 with a downloader that writes '
        '<root>/<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4 and put the '
        'annotation CSVs at <root>/<split>.csv.')
_COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end')


def read_csv(path):
  """Annotation CSV -> [(label, youtube_id, start, end)]."""
  errors.require_file(path, 'Kinetics annotation CSV', _FIX)
  rows = []
  with open(path, newline='') as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if header is None or any(c not in header for c in _COLUMNS):
      raise errors.annotation_error(
          path, 1, ','.join(header or []),
          f'header must contain {",".join(_COLUMNS)}')
    col = {c: header.index(c) for c in _COLUMNS}
    for lineno, row in enumerate(reader, 2):
      if not row:
        continue
      try:
        label, yid = row[col['label']], row[col['youtube_id']]
        start, end = int(float(row[col['time_start']])), int(float(row[col['time_end']]))
      except (IndexError, ValueError):
        raise errors.annotation_error(
            path, lineno, ','.join(row),
            'expected label,youtube_id,<int time_start>,<int time_end>') from None
      if not yid:
        raise errors.annotation_error(path, lineno, ','.join(row), 'empty youtube_id')
      rows.append((label, yid, start, end))
  return rows


def video_path(root, split_dir, label, yid, start, end):
  """Path of one clip; accepts label folders with spaces or underscores."""
  name = f'{yid}_{start:06d}_{end:06d}.mp4'
  path = os.path.join(root, split_dir, label, name)
  if not os.path.exists(path):
    alt = os.path.join(root, split_dir, label.replace(' ', '_'), name)
    if os.path.exists(alt):
      return alt
  return path


def entries(split, *, root, test_split='val', classes=None):
  """(class names, [(video path, label)]) of `split` ('train' / 'test' / 'val'): what
  `kinetics600` reads, and what `python -m sideways_jax.data.prepare` stores."""
  if split not in ('train', 'test', 'val'):
    raise ValueError(f"Kinetics split must be 'train', 'test' or 'val', got {split!r}")
  errors.require_dir(root, 'Kinetics root directory', _FIX)
  disk_split = test_split if split == 'test' else split
  rows = read_csv(os.path.join(root, f'{disk_split}.csv'))
  errors.require_dir(os.path.join(root, disk_split), 'Kinetics split video folder',
                     _FIX)
  if classes is None:
    train_csv = os.path.join(root, 'train.csv')
    source = read_csv(train_csv) if disk_split != 'train' and os.path.isfile(
        train_csv) else rows
    classes = sorted({r[0] for r in source if r[0]})
  index = {c: i for i, c in enumerate(classes)}
  listed = []
  for label, yid, start, end in rows:
    if not label:  # Unlabelled on-disk test set: files sit in <root>/test/.
      listed.append((video_path(root, disk_split, '', yid, start, end), -1))
      continue
    if label not in index:
      raise errors.DataError(
          f'{os.path.join(root, disk_split + ".csv")}: label {label!r} of {yid} is '
          f'not among the {len(classes)} classes (from train.csv). Pass classes= '
          'or fix the CSV.')
    listed.append((video_path(root, disk_split, label, yid, start, end), index[label]))
  return list(classes), listed


def kinetics600(split='train', *, root=None, frames_per_clip=16, temporal_stride=1,
                resolution=112, flip=True, test_split='val', classes=None, prepared=None,
                **kwargs):
  """Kinetics-600 clips for `split` ('train' / 'test' / 'val').

  Args:
    split: 'train', 'test' (reads on-disk `test_split`) or 'val'.
    root: folder with `<split>.csv` and `<split>/` folders (not needed with `prepared`).
    frames_per_clip, temporal_stride, resolution: clip shape.
    flip: random horizontal flips of training clips (default True, the usual Kinetics
      augmentation); pass False when a class depends on left/right direction. None also means
      True. Test clips are never flipped.
    test_split: on-disk split our 'test' reads: 'val' (default) or 'test'.
    classes: class names in label order; default the sorted labels of
      `train.csv` (or of this split's CSV when there is no train.csv).
    prepared: a folder `python -m sideways_jax.data.prepare --dataset=kinetics600` wrote:
      read the clips from it (random frame access, no video decoding) instead of `root`.
    **kwargs: passed to `video_folder.VideoClipDataset` (or `prepared.PreparedClipDataset`).
  """
  if split not in ('train', 'test', 'val'):
    raise ValueError(f"Kinetics split must be 'train', 'test' or 'val', got {split!r}")
  disk_split = test_split if split == 'test' else split
  common = dict(train=split == 'train', frames_per_clip=frames_per_clip,
                temporal_stride=temporal_stride, resolution=resolution, flip=flip,
                name=f'Kinetics-600 {disk_split}', **kwargs)
  if prepared is not None:
    from sideways_jax.data import prepared as prepared_lib  # pylint: disable=g-import-not-at-top
    return prepared_lib.load(prepared, 'kinetics600', disk_split, **common)
  if root is None:
    raise ValueError('Kinetics-600 needs root= (the folder with <split>.csv and <split>/) '
                     'or prepared= (a folder python -m sideways_jax.data.prepare wrote).')
  classes, listed = entries(split, root=root, test_split=test_split, classes=classes)
  return video_folder.VideoClipDataset(listed, class_names=classes, fix=_FIX, **common)
