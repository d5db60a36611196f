"""Writes a synthetic set as video files in UCF101's on-disk layout, to read back as UCF101.

Settings tuned on an embedded set should carry over to real video files; this makes the
check possible without a download: the same clips, encoded and decoded as video.

  python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \\
      --root=/tmp/motion_ucf --train_clips=1024 --test_clips=256

writes

  <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi    one file per clip (25 fps, --codec)
  <root>/ucfTrainTestlist/classInd.txt            "1 MoveRight" ...
  <root>/ucfTrainTestlist/trainlist01.txt         the set's 'train' split, with labels
  <root>/ucfTrainTestlist/testlist01.txt          the set's 'test' split
  <root>/synthetic_export.json                    settings, and each file's source clip

(fold 1 only), and prints the call that reads it back with the frames as rendered:

  get_dataset('ucf101', 'train', root=<root>, frames_per_clip=T, resolution=R,
              short_side=R, flip=False)

`short_side=R` keeps the whole frame (UCF101's default resizes to 8/7 and crops) and
`flip=False` keeps directions ('left' stays 'left'). Class names become UCF-style
CamelCase: 'right' -> 'MoveRight', 'rotate_ccw' -> 'RotateCcw', digit '3' -> 'Digit3'.
Groups gXX hold up to 7 clips; the test clips take the first groups, as in UCF101's fold 1.
Frames are rounded to uint8; 1-channel sets are written as grey RGB. The default codec
'mjpeg' (full-resolution chroma, best quality) decodes within a few levels of the uint8
frames; 'ffv1' is lossless; 'mpeg4' is UCF101's own codec family (4:2:0 chroma smears
colours at 32x32).
"""

import collections
import json
import os
import sys

from absl import app
from absl import flags
from absl import logging
import numpy as np

from sideways_jax import data
from sideways_jax.data import video_io

SYNTHETIC = ('temporal_actions', 'appearance', 'moving_digits')
LAYOUTS = ('ucf101',)
CLIPS_PER_GROUP = 7
_UCF_NAMES = {'right': 'MoveRight', 'up': 'MoveUp', 'left': 'MoveLeft', 'down': 'MoveDown'}
_CHUNK = 64  # clips rendered at once


def ucf_class_name(name):
  """A UCF101-style class folder name (CamelCase letters and digits) for a class name."""
  if name in _UCF_NAMES:
    return _UCF_NAMES[name]
  if name.isdigit():
    return f'Digit{name}'
  return ''.join(word.capitalize() for word in name.split('_'))


def _uint8_rgb(frames):
  """float [B, T, H, W, C] in [0, 1] -> uint8 [B, T, H, W, 3]."""
  out = np.clip(np.round(frames * 255), 0, 255).astype(np.uint8)
  return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def _write_split(split_set, videos, class_dirs, group_offset, codec, fps):
  """Renders and writes every clip of a split; returns [(relative path, label, group, clip)]
  in index order, and the most clips any class has."""
  seen = collections.Counter()
  rows = []
  for s in range(0, len(split_set), _CHUNK):
    batch = split_set.get_batch(np.arange(s, min(s + _CHUNK, len(split_set))))
    for clip, label in zip(_uint8_rgb(batch['frames']), batch['labels'][:, 0]):
      cls, n = class_dirs[label], seen[label]
      seen[label] += 1
      group, number = group_offset + n // CLIPS_PER_GROUP + 1, n % CLIPS_PER_GROUP + 1
      rel = f'{cls}/v_{cls}_g{group:02d}_c{number:02d}.avi'
      video_io.write_video(os.path.join(videos, rel), clip, fps=fps, codec=codec)
      rows.append((rel, int(label), group, number))
    logging.log_every_n_seconds(logging.INFO, 'wrote %d %s clips', 10, len(rows),
                                split_set.split)
  return rows, max(seen.values(), default=0)


def export_ucf101(train_set, test_set, root, *, codec='mjpeg', fps=25):
  """Writes `train_set` and `test_set` as UCF101 fold 1 under `root`.

  Args:
    train_set, test_set: synthetic sets of one kind (same classes).
    root: output folder; must not hold `UCF-101/` or `ucfTrainTestlist/` yet.
    codec: a `video_io.CODECS` codec.
    fps: frame rate of the files.

  Returns:
    [dict(path=relative path, split, index, label)] for every file, in list order.

  Raises:
    ValueError: the sets' classes differ, the codec cannot take the frame size, or `root`
      already holds an export (checked before anything is written).
  """
  if list(train_set.class_names) != list(test_set.class_names):
    raise ValueError('train and test sets must have the same classes; got '
                     f'{train_set.class_names} and {test_set.class_names}.')
  class_dirs = [ucf_class_name(c) for c in train_set.class_names]
  if len(set(class_dirs)) != len(class_dirs):
    raise ValueError(f'class names {train_set.class_names} map to repeated UCF names '
                     f'{class_dirs}.')
  if codec == 'mpeg4' and any(d % 2 for d in train_set.frame_shape[:2]):
    raise ValueError(f'mpeg4 needs an even frame size; got {train_set.frame_shape[:2]}. '
                     'Use --codec=mjpeg or ffv1, or an even --resolution.')
  videos, lists = os.path.join(root, 'UCF-101'), os.path.join(root, 'ucfTrainTestlist')
  for path in (videos, lists):
    if os.path.exists(path):
      raise ValueError(f'{path} already exists: export into a new or empty --root, or '
                       'delete it first, so clips of two exports cannot mix.')
  for cls in class_dirs:  # every class has its folder, as in UCF101, even if empty
    os.makedirs(os.path.join(videos, cls), exist_ok=True)
  test_rows, test_max = _write_split(test_set, videos, class_dirs, 0, codec, fps)
  train_rows, _ = _write_split(train_set, videos, class_dirs,
                               -(-test_max // CLIPS_PER_GROUP), codec, fps)
  os.makedirs(lists)
  with open(os.path.join(lists, 'classInd.txt'), 'w') as f:
    f.writelines(f'{i + 1} {c}\n' for i, c in enumerate(class_dirs))
  order = lambda rows: sorted(range(len(rows)), key=lambda i: (rows[i][1],) + rows[i][2:])
  train_order, test_order = order(train_rows), order(test_rows)
  with open(os.path.join(lists, 'trainlist01.txt'), 'w') as f:
    f.writelines(f'{train_rows[i][0]} {train_rows[i][1] + 1}\n' for i in train_order)
  with open(os.path.join(lists, 'testlist01.txt'), 'w') as f:
    f.writelines(f'{test_rows[i][0]}\n' for i in test_order)
  files = [dict(path=train_rows[i][0], split='train', index=i, label=train_rows[i][1])
           for i in train_order]
  files += [dict(path=test_rows[i][0], split='test', index=i, label=test_rows[i][1])
            for i in test_order]
  with open(os.path.join(root, 'synthetic_export.json'), 'w') as f:
    json.dump(dict(layout='ucf101', codec=codec, fps=fps, set=repr(train_set),
                   config=getattr(train_set, 'config', {}),
                   class_names=dict(zip(class_dirs, train_set.class_names)), files=files),
              f, indent=1)
  return files


def export(name, root, *, layout='ucf101', train_clips=None, test_clips=None, codec='mjpeg',
           fps=25, **kwargs):
  """Builds the synthetic set `name` (both splits) and writes it under `root` in `layout`.

  Example:
    export('temporal_actions', '/tmp/motion_ucf', level='motion', train_clips=64,
           test_clips=16, resolution=32)

  Args:
    name: one of SYNTHETIC.
    root: output folder.
    layout: one of LAYOUTS ('ucf101').
    train_clips, test_clips: clips per split (None: the set's defaults, 8192 / 1024).
    codec, fps: as in `video_io.write_video`.
    **kwargs: the set's options (level, resolution, frames_per_clip, seed, ...).

  Returns:
    The rows `export_ucf101` returns.
  """
  if name not in SYNTHETIC:
    raise ValueError(f'--dataset must be a synthetic set, one of {", ".join(SYNTHETIC)}; '
                     f'got {name!r} (real datasets are video files already).')
  if layout not in LAYOUTS:
    raise ValueError(f'--layout must be one of {", ".join(LAYOUTS)}; got {layout!r}.')
  if codec not in video_io.CODECS:
    raise ValueError(f'--codec must be one of {", ".join(video_io.CODECS)}; got {codec!r}.')
  for flag, clips in (('train_clips', train_clips), ('test_clips', test_clips)):
    if clips is not None and (not isinstance(clips, int) or clips < 1):
      raise ValueError(f'--{flag} must be an integer >= 1 (or unset for the default); '
                       f'got {clips!r}.')
  if 'level' in kwargs and name != 'temporal_actions':
    raise ValueError(f'--level applies to --dataset=temporal_actions only, not {name!r}.')
  train = data.get_dataset(name, 'train', num_clips=train_clips, **kwargs)
  test = data.get_dataset(name, 'test', num_clips=test_clips, **kwargs)
  return export_ucf101(train, test, root, codec=codec, fps=fps)


def define_flags():
  """The command's flags; defined only when run as a command, so importing this module
  never adds flags (such as --root) to the process's flag registry."""
  flags.DEFINE_enum('dataset', 'temporal_actions', SYNTHETIC, 'Synthetic set.')
  flags.DEFINE_enum('level', None, ('motion', 'dynamics'),
                    "temporal_actions level (default: the set's, dynamics).")
  flags.DEFINE_string('root', None, 'Output folder (new or empty).', required=True)
  flags.DEFINE_enum('layout', 'ucf101', LAYOUTS, 'On-disk layout to write.')
  flags.DEFINE_integer('train_clips', None, 'Train clips (default 8192).')
  flags.DEFINE_integer('test_clips', None, 'Test clips (default 1024).')
  flags.DEFINE_integer('resolution', None, "Frame side (default: the set's).")
  flags.DEFINE_integer('frames', None, "Frames per clip (default: the set's).")
  flags.DEFINE_integer('seed', 0, "The set's seed.")
  flags.DEFINE_enum('codec', 'mjpeg', tuple(video_io.CODECS), 'Video codec.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  f = flags.FLAGS
  options = dict(level=f.level, resolution=f.resolution, frames_per_clip=f.frames)
  kwargs = {k: v for k, v in options.items() if v is not None}
  try:
    files = export(f.dataset, f.root, layout=f.layout, train_clips=f.train_clips,
                   test_clips=f.test_clips, codec=f.codec, seed=f.seed, **kwargs)
  except ValueError as e:  # bad settings: one line, no traceback
    sys.exit(f'sideways_jax.data.export: {e}')
  train = data.get_dataset(f.dataset, 'train', num_clips=1, seed=f.seed, **kwargs)
  r = train.frame_shape[0]
  print(f'Wrote {len(files)} clips to {f.root}. Read them back with\n'
        f"  get_dataset('ucf101', 'train', root={f.root!r}, "
        f'frames_per_clip={train.frames_per_clip}, resolution={r}, short_side={r}, '
        'flip=False)')


if __name__ == '__main__':
  define_flags()
  app.run(main)
