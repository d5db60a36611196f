"""`python -m sideways_jax.data.export`: a synthetic set written as UCF101 video files reads
back through the UCF101 loader as the clips that were rendered (within codec tolerance),
with the same labels and splits."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from sideways_jax.data import export
from sideways_jax.data import get_dataset

_SET = dict(level='motion', resolution=16, frames_per_clip=4)
_READ = dict(frames_per_clip=4, resolution=16, short_side=16)


def _manifest(root):
  with open(os.path.join(root, 'synthetic_export.json')) as f:
    return json.load(f)


def _check_read_back(root, name, set_kwargs, max_mean_error, max_error):
  """Every exported clip reads back as its rendered clip, label and split."""
  files = _manifest(root)['files']
  for split in ('train', 'test'):
    src = get_dataset(name, split, num_clips=sum(f['split'] == split for f in files),
                      **set_kwargs)
    back = get_dataset('ucf101', split, root=root, flip=False, **_READ)
    rows = [f for f in files if f['split'] == split]
    assert len(back) == len(src) == len(rows)
    assert back.class_names == [export.ucf_class_name(c) for c in src.class_names]
    for i, row in enumerate(rows):
      assert back.paths[i].endswith(row['path'])
      got, want = back[i], src[row['index']]
      assert got['label'] == want['label'] == row['label']
      want_rgb = np.broadcast_to(want['frames'], want['frames'].shape[:-1] + (3,))
      err = np.abs(got['frames'] - want_rgb)
      assert err.mean() <= max_mean_error and err.max() <= max_error, (err.mean(), err.max())


def test_export_reads_back_as_ucf101(tmp_path):
  root = str(tmp_path / 'ucf')
  files = export.export('temporal_actions', root, train_clips=10, test_clips=5, **_SET)
  assert len(files) == 15
  _check_read_back(root, 'temporal_actions', _SET, max_mean_error=3 / 255,
                   max_error=24 / 255)
  lists = os.path.join(root, 'ucfTrainTestlist')
  with open(os.path.join(lists, 'classInd.txt')) as f:
    assert f.read().split('\n')[:4] == ['1 MoveRight', '2 MoveUp', '3 MoveLeft', '4 MoveDown']
  groups = {}
  for split in ('train', 'test'):
    with open(os.path.join(lists, f'{split}list01.txt')) as f:
      lines = f.read().splitlines()
    for line in lines:
      m = re.fullmatch(r'(\w+)/v_\1_g(\d\d)_c(\d\d)\.avi' + (r' \d' if split == 'train'
                                                             else ''), line)
      assert m, line
      assert os.path.isfile(os.path.join(root, 'UCF-101', line.split()[0]))
      groups.setdefault(split, set()).add(int(m[2]))
  assert max(groups['test']) < min(groups['train'])  # a group never spans the splits
  # Every class has its folder, as in UCF101, even with no clip in it.
  assert len(os.listdir(os.path.join(root, 'UCF-101'))) == 8


def test_lossless_export_is_exact_and_default_flip_mirrors(tmp_path):
  root = str(tmp_path / 'ucf')
  files = export.export('temporal_actions', root, train_clips=6, test_clips=2,
                        codec='ffv1', **_SET)
  _check_read_back(root, 'temporal_actions', _SET, max_mean_error=0.5 / 255,
                   max_error=0.6 / 255)  # uint8 rounding only
  # With UCF101's default flip=True, some training clips come back mirrored: 'left'
  # looks like 'right' but keeps its label (why an export is read with flip=False).
  src = get_dataset('temporal_actions', 'train', num_clips=6, **_SET)
  flipping = get_dataset('ucf101', 'train', root=root, **_READ)
  rows = [f for f in files if f['split'] == 'train']
  mirrored = 0
  for epoch in range(4):
    for i, row in enumerate(rows):
      got = flipping.get_batch([i], epoch=epoch)['frames'][0]
      want = src[row['index']]['frames']
      same = np.abs(got - want).max() < 1 / 255
      flipped = np.abs(got - want[:, :, ::-1]).max() < 1 / 255
      assert same or flipped
      mirrored += flipped
  assert 0 < mirrored < 4 * len(rows)


def test_command_line_exports_grey_digits(tmp_path):
  root = str(tmp_path / 'digits')
  repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  out = subprocess.run(
      [sys.executable, '-m', 'sideways_jax.data.export', '--dataset=moving_digits',
       f'--root={root}', '--layout=ucf101', '--train_clips=3', '--test_clips=2',
       '--resolution=16', '--frames=4', '--codec=ffv1'],
      cwd=repo, check=True, capture_output=True, text=True,
      env=dict(os.environ, JAX_PLATFORMS='cpu')).stdout
  assert 'Wrote 5 clips' in out and 'short_side=16, flip=False' in out
  assert _manifest(root)['codec'] == 'ffv1'
  assert get_dataset('ucf101', 'test', root=root, **_READ).class_names[3] == 'Digit3'
  _check_read_back(root, 'moving_digits', dict(resolution=16, frames_per_clip=4),
                   max_mean_error=0.5 / 255, max_error=0.6 / 255)  # uint8 rounding only


def test_bad_export_requests(tmp_path):
  root = str(tmp_path / 'ucf')
  export.export('appearance', root, train_clips=1, test_clips=1, resolution=16,
                frames_per_clip=2)
  with pytest.raises(ValueError, match='UCF-101 already exists.*new or empty --root'):
    export.export('appearance', root, train_clips=1, test_clips=1)
  other = str(tmp_path / 'other')
  with pytest.raises(ValueError, match="synthetic set.*got 'ucf101'"):
    export.export('ucf101', other)
  with pytest.raises(ValueError, match='--layout must be one of ucf101'):
    export.export('appearance', other, layout='kinetics')
  with pytest.raises(ValueError, match='--codec must be one of'):
    export.export('appearance', other, codec='h264')
  with pytest.raises(ValueError, match='mpeg4 needs an even frame size'):
    export.export('appearance', other, codec='mpeg4', resolution=17)
  with pytest.raises(ValueError, match='--test_clips must be an integer >= 1'):
    export.export('appearance', other, test_clips=0)
  with pytest.raises(ValueError, match='--level applies to --dataset=temporal_actions'):
    export.export('appearance', other, level='motion')
  assert not os.path.exists(other)
  assert export.ucf_class_name('rotate_ccw') == 'RotateCcw'
  assert export.ucf_class_name('left') == 'MoveLeft'
