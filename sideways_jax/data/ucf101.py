"""UCF101 from its official on-disk layout (see docs/REAL_DATASETS.md).

  <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
  <root>/ucfTrainTestlist/classInd.txt          "1 ApplyEyeMakeup" (1-based)
  <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt "Class/v_..._cYY.avi 1"
  <root>/ucfTrainTestlist/testlist0{1,2,3}.txt  "Class/v_..._cYY.avi"
"""

import os

from sideways_jax.data import video_io

_FIX = ('Download UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from '
        'https://www.crcv.ucf.edu/data/UCF101.php and extract both into root.')


def read_class_index(path):
  """classInd.txt -> list of class names, index = label (0-based)."""
  video_io.require_file(path, 'UCF101 class index', _FIX)
  names = {}
  with open(path) as f:
    for lineno, line in enumerate(f, 1):
      if not line.strip():
        continue
      parts = line.split()
      if len(parts) != 2 or not parts[0].isdigit():
        raise video_io.annotation_error(path, lineno, line,
                                        'expected "<1-based index> <ClassName>"')
      names[int(parts[0]) - 1] = parts[1]
  if sorted(names) != list(range(len(names))):
    raise video_io.AnnotationError(
        f'{path}: class indices must be 1..N without gaps, got {sorted(names)[:5]}... '
        f'{_FIX}')
  return [names[i] for i in range(len(names))]


def read_split_list(path, class_names, *, with_labels):
  """A train/test list -> [(relative video path, 0-based label)]."""
  video_io.require_file(path, 'UCF101 split file', _FIX)
  index = {c.lower(): i for i, c in enumerate(class_names)}
  out = []
  with open(path) as f:
    for lineno, line in enumerate(f, 1):
      if not line.strip():
        continue
      parts = line.split()
      if len(parts) not in ((2,) if with_labels else (1, 2)):
        raise video_io.annotation_error(
            path, lineno, line,
            'expected "<Class>/<video>.avi <label>"' if with_labels
            else 'expected "<Class>/<video>.avi"')
      rel = parts[0]
      cls = rel.split('/')[0].lower()
      if '/' not in rel or cls not in index:
        raise video_io.annotation_error(path, lineno, line,
                                        'unknown class directory (not in classInd.txt)')
      label = index[cls]
      if with_labels:
        if not parts[1].isdigit() or int(parts[1]) - 1 != label:
          raise video_io.annotation_error(
              path, lineno, line,
              f'label {parts[1]} does not match class {class_names[label]} '
              f'(index {label + 1})')
      out.append((rel, label))
  if not out:
    raise video_io.AnnotationError(f'{path}: empty split file. {_FIX}')
  return out


def ucf101(split='train', *, root, fold=1, frames_per_clip=16, temporal_stride=1,
           resolution=112, videos_dir=None, splits_dir=None, **kwargs):
  """UCF101 clips for `split` ('train'/'test') of official `fold` (1, 2, 3).

  Args:
    split: 'train' or 'test' (test uses centred crops and `num_views` clips).
    root: folder holding `UCF-101/` and `ucfTrainTestlist/`.
    fold: official train/test split number.
    frames_per_clip, temporal_stride, resolution: clip shape.
    videos_dir, splits_dir: override `<root>/UCF-101`, `<root>/ucfTrainTestlist`.
    **kwargs: passed to `video_io.VideoClipDataset` (num_views, mean, std,
      pad_mode, seed, max_bad_fraction, short_side, flip, probe, thread_type).
  """
  if split not in ('train', 'test'):
    raise ValueError(f"UCF101 split must be 'train' or 'test', got {split!r}")
  if fold not in (1, 2, 3):
    raise ValueError(f'UCF101 fold must be 1, 2 or 3, got {fold!r}')
  video_io.require_dir(root, 'UCF101 root directory', _FIX)
  videos_dir = videos_dir or os.path.join(root, 'UCF-101')
  splits_dir = splits_dir or os.path.join(root, 'ucfTrainTestlist')
  video_io.require_dir(videos_dir, 'UCF101 videos directory', _FIX)
  video_io.require_dir(splits_dir, 'UCF101 split directory', _FIX)
  classes = read_class_index(os.path.join(splits_dir, 'classInd.txt'))
  list_name = f'{split}list0{fold}.txt'
  rows = read_split_list(os.path.join(splits_dir, list_name), classes,
                         with_labels=split == 'train')
  entries = [(os.path.join(videos_dir, rel), label) for rel, label in rows]
  return video_io.VideoClipDataset(
      entries, class_names=classes, train=split == 'train',
      frames_per_clip=frames_per_clip, temporal_stride=temporal_stride,
      resolution=resolution, name=f'UCF101 {split} fold {fold}', fix=_FIX, **kwargs)
