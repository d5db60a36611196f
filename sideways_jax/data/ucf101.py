"""UCF101 from its official on-disk layout (see docs/REAL_DATASETS.md).

  <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
  <root>/ucfTrainTestlist/classInd.txt          "1 ApplyEyeMakeup" (1-based)
  <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt "Class/v_..._cYY.avi 1"
  <root>/ucfTrainTestlist/testlist0{1,2,3}.txt  "Class/v_..._cYY.avi"

`python -m sideways_jax.data.export` writes a synthetic set in this layout.
"""

import os

from sideways_jax.data import annotations
from sideways_jax.data import errors
from sideways_jax.data import video_folder

_FIX = ('Download UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from '
        'https://www.crcv.ucf.edu/data/UCF101.php and extract both into root.')


def read_class_index(path):
  """classInd.txt -> list of class names, index = label (0-based)."""
  return annotations.read_class_index(path, what='UCF101 class index', fix=_FIX)


def read_split_list(path, class_names, *, with_labels):
  """A train/test list -> [(relative video path, 0-based label)]."""
  index = {c.lower(): i for i, c in enumerate(class_names)}

  def parse(fields):
    if len(fields) not in ((2,) if with_labels else (1, 2)):
      raise annotations.BadLine('expected "<Class>/<video>.avi <label>"' if with_labels
                                else 'expected "<Class>/<video>.avi"')
    rel = fields[0]
    cls = rel.split('/')[0].lower()
    if '/' not in rel or cls not in index:
      raise annotations.BadLine('unknown class directory (not in classInd.txt)')
    label = index[cls]
    if with_labels and (not fields[1].isdigit() or int(fields[1]) - 1 != label):
      raise annotations.BadLine(f'label {fields[1]} does not match class '
                                f'{class_names[label]} (index {label + 1})')
    return rel, label

  return annotations.read_split(path, parse, what='UCF101 split file', fix=_FIX)


def entries(split, *, root, fold=1, videos_dir=None, splits_dir=None):
  """(class names, [(video path, label)]) of `split` ('train'/'test') of `fold`, in list
  order: what `ucf101` reads, and what `python -m sideways_jax.data.prepare` stores."""
  if split not in ('train', 'test'):
    raise ValueError(f"UCF101 split must be 'train' or 'test', got {split!r}")
  if fold not in (1, 2, 3):
    raise ValueError(f'UCF101 fold must be 1, 2 or 3, got {fold!r}')
  errors.require_dir(root, 'UCF101 root directory', _FIX)
  videos_dir = videos_dir or os.path.join(root, 'UCF-101')
  splits_dir = splits_dir or os.path.join(root, 'ucfTrainTestlist')
  errors.require_dir(videos_dir, 'UCF101 videos directory', _FIX)
  errors.require_dir(splits_dir, 'UCF101 split directory', _FIX)
  classes = read_class_index(os.path.join(splits_dir, 'classInd.txt'))
  rows = read_split_list(os.path.join(splits_dir, f'{split}list0{fold}.txt'), classes,
                         with_labels=split == 'train')
  return classes, [(os.path.join(videos_dir, rel), label) for rel, label in rows]


def ucf101(split='train', *, root=None, fold=1, frames_per_clip=16, temporal_stride=1,
           resolution=112, flip=True, videos_dir=None, splits_dir=None, prepared=None,
           **kwargs):
  """UCF101 clips for `split` ('train'/'test') of official `fold` (1, 2, 3).

  Args:
    split: 'train' or 'test' (test uses centred crops and `num_views` clips).
    root: folder holding `UCF-101/` and `ucfTrainTestlist/` (not needed with `prepared`).
    fold: official train/test split number.
    frames_per_clip, temporal_stride, resolution: clip shape.
    flip: random horizontal flips of training clips (default True, the usual UCF101
      augmentation). A flip turns left-moving into right-moving: pass False when a class
      depends on direction (e.g. a `python -m sideways_jax.data.export` of the 'motion'
      level). None also means True. Test clips are never flipped.
    videos_dir, splits_dir: override `<root>/UCF-101`, `<root>/ucfTrainTestlist`.
    prepared: a folder `python -m sideways_jax.data.prepare --dataset=ucf101` wrote: read
      the clips from it (random frame access, no video decoding) instead of `root`.
    **kwargs: passed to `video_folder.VideoClipDataset` (num_views, mean, std,
      pad_mode, seed, max_bad_fraction, short_side, probe, thread_type), or to
      `prepared.PreparedClipDataset` with `prepared`.
  """
  common = dict(train=split == 'train', frames_per_clip=frames_per_clip,
                temporal_stride=temporal_stride, resolution=resolution, flip=flip,
                name=f'UCF101 {split} fold {fold}', **kwargs)
  if prepared is not None:
    from sideways_jax.data import prepared as prepared_lib  # pylint: disable=g-import-not-at-top
    if fold not in (1, 2, 3):
      raise ValueError(f'UCF101 fold must be 1, 2 or 3, got {fold!r}')
    return prepared_lib.load(prepared, 'ucf101', f'{split}{fold}', **common)
  if root is None:
    raise ValueError('UCF101 needs root= (the folder holding UCF-101/ and '
                     'ucfTrainTestlist/) or prepared= (a folder python -m '
                     'sideways_jax.data.prepare wrote).')
  classes, listed = entries(split, root=root, fold=fold, videos_dir=videos_dir,
                            splits_dir=splits_dir)
  return video_folder.VideoClipDataset(listed, class_names=classes, fix=_FIX, **common)
