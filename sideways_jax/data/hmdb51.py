"""HMDB51 from its official on-disk layout (see docs/REAL_DATASETS.md).

  <videos_dir>/<class>/<video>.avi                  (51 class folders)
  <splits_dir>/<class>_test_split{1,2,3}.txt        "<video>.avi <0|1|2>"

with 1 = train, 2 = test, 0 = unused in that split. By default
`videos_dir = root` and `splits_dir = <root>/testTrainMulti_7030_splits`.
Labels are the sorted class names' indices.
"""

import os
import re

from sideways_jax.data import annotations
from sideways_jax.data import errors
from sideways_jax.data import video_folder

_FIX = ('Download hmdb51_org.rar and test_train_splits.rar from '
        'https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/,'
        ' extract the per-class .rar files into root and the splits into '
        'root/testTrainMulti_7030_splits (or pass videos_dir= / splits_dir=).')
_SPLIT_FILE = re.compile(r'^(?P<cls>.+)_test_split(?P<fold>[123])\.txt$')
_CODES = {'train': '1', 'test': '2'}


def read_split_file(path, class_name, label, split):
  """One `<class>_test_splitN.txt` -> [(relative video path, label)] of `split`'s videos."""

  def parse(fields):
    if len(fields) != 2 or fields[1] not in ('0', '1', '2'):
      raise annotations.BadLine('expected "<video>.avi <0|1|2>"')
    return (f'{class_name}/{fields[0]}', label) if fields[1] == _CODES[split] else None

  return annotations.read_split(path, parse, what='HMDB51 split file', fix=_FIX)


def entries(split, *, root, fold=1, videos_dir=None, splits_dir=None):
  """(class names, [(video path, label)]) of `split` ('train'/'test') of `fold`: what
  `hmdb51` reads, and what `python -m sideways_jax.data.prepare` stores."""
  if split not in _CODES:
    raise ValueError(f"HMDB51 split must be 'train' or 'test', got {split!r}")
  if fold not in (1, 2, 3):
    raise ValueError(f'HMDB51 fold must be 1, 2 or 3, got {fold!r}')
  errors.require_dir(root, 'HMDB51 root directory', _FIX)
  videos_dir = videos_dir or root
  splits_dir = splits_dir or os.path.join(root, 'testTrainMulti_7030_splits')
  errors.require_dir(videos_dir, 'HMDB51 videos directory', _FIX)
  errors.require_dir(splits_dir, 'HMDB51 split directory', _FIX)
  files = {}
  for name in os.listdir(splits_dir):
    m = _SPLIT_FILE.match(name)
    if m and int(m['fold']) == fold:
      files[m['cls']] = os.path.join(splits_dir, name)
  if not files:
    raise errors.DataError(
        f'No HMDB51 split files <class>_test_split{fold}.txt in {splits_dir!r}. '
        f'{_FIX}')
  classes = sorted(files)
  listed = []
  for label, cls in enumerate(classes):
    listed += [(os.path.join(videos_dir, rel), label)
               for rel, label in read_split_file(files[cls], cls, label, split)]
  return classes, listed


def hmdb51(split='train', *, root=None, fold=1, frames_per_clip=16, temporal_stride=1,
           resolution=112, flip=True, videos_dir=None, splits_dir=None, prepared=None,
           **kwargs):
  """HMDB51 clips for `split` ('train'/'test') of official `fold` (1, 2, 3).

  Args:
    split: 'train' (code 1) or 'test' (code 2); code 0 videos are unused.
    root: dataset folder (not needed with `prepared`).
    fold: official split number.
    frames_per_clip, temporal_stride, resolution: clip shape.
    flip: random horizontal flips of training clips (default True, the usual HMDB51
      augmentation); pass False when a class depends on left/right direction. None also
      means True. Test clips are never flipped.
    videos_dir: folder with the class folders (default root).
    splits_dir: folder with the 153 split files
      (default <root>/testTrainMulti_7030_splits).
    prepared: a folder `python -m sideways_jax.data.prepare --dataset=hmdb51` wrote: read
      the clips from it (random frame access, no video decoding) instead of `root`.
    **kwargs: passed to `video_folder.VideoClipDataset` (or `prepared.PreparedClipDataset`).
  """
  common = dict(train=split == 'train', frames_per_clip=frames_per_clip,
                temporal_stride=temporal_stride, resolution=resolution, flip=flip,
                name=f'HMDB51 {split} fold {fold}', **kwargs)
  if prepared is not None:
    from sideways_jax.data import prepared as prepared_lib  # pylint: disable=g-import-not-at-top
    if split not in _CODES or fold not in (1, 2, 3):
      raise ValueError(f"HMDB51 needs split 'train' or 'test' and fold 1, 2 or 3; got "
                       f'{split!r}, {fold!r}')
    return prepared_lib.load(prepared, 'hmdb51', f'{split}{fold}', **common)
  if root is None:
    raise ValueError('HMDB51 needs root= (the dataset folder) or prepared= (a folder '
                     'python -m sideways_jax.data.prepare wrote).')
  classes, listed = entries(split, root=root, fold=fold, videos_dir=videos_dir,
                            splits_dir=splits_dir)
  return video_folder.VideoClipDataset(listed, class_names=classes, fix=_FIX, **common)
