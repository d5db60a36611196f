"""Prepared video sets (`python -m sideways_jax.data.prepare`): the same clips as the raw
files, every split stored once, resume after an interruption, refusals, bad videos.

Fakes come from test_data_real: each frame is a flat grey of 10 * (frame index), so a clip
shows which frames it holds.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from sideways_jax import data as data_lib
from sideways_jax.data import batching
from sideways_jax.data import errors
from sideways_jax.data import prepare as prepare_lib
from sideways_jax.data import prepared as prepared_lib

from tests.test_data_real import frame_numbers, make_hmdb, make_kinetics, make_ucf

CLIP = dict(frames_per_clip=4, temporal_stride=2, resolution=32, short_side=36)
QUIET = lambda line: None


@pytest.fixture(scope='module')
def ucf(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('ucf_raw'))
  make_ucf(root, {'Basketball/v_Basketball_g03_c01.avi': 5})
  out = str(tmp_path_factory.mktemp('ucf_prepared') / 'raw')
  index = prepare_lib.prepare('ucf101', root, out, short_side=36, fmt='raw', log=QUIET)
  return root, out, index


def test_raw_format_gives_the_raw_files_clips_in_every_fold(ucf):
  root, out, index = ucf
  assert sorted(index['splits']) == ['test1', 'test2', 'test3', 'train1', 'train2', 'train3']
  assert len(index['videos']) == 6  # every video once, whichever folds list it
  for fold in (1, 2, 3):
    for split in ('train', 'test'):
      raw = data_lib.get_dataset('ucf101', split, root=root, fold=fold, **CLIP)
      prep = data_lib.get_dataset('ucf101', split, prepared=out, fold=fold, **CLIP)
      assert len(raw) == len(prep) and prep.class_names == raw.class_names
      for i in range(len(raw)):
        a, b = raw.get(i, epoch=3), prep.get(i, epoch=3)
        np.testing.assert_array_equal(a['frames'], b['frames'])  # crop, flip, start too
        assert (a['label'], a['video_id']) == (b['label'], b['video_id'])
      np.testing.assert_array_equal(prep.item_labels, raw.labels)


def test_short_video_loops_and_pickles(ucf):
  _, out, _ = ucf
  test = data_lib.get_dataset('ucf101', 'test', prepared=out, fold=3, frames_per_clip=8,
                              resolution=32, flip=False)
  short = [i for i in range(len(test)) if test.num_frames[i] == 5][0]
  with pytest.warns(errors.ShortVideoWarning, match='v_Basketball_g03_c01.avi. has 5'):
    np.testing.assert_array_equal(frame_numbers(test[short]['frames']),
                                  [0, 1, 2, 3, 4, 0, 1, 2])
  test[0]  # opens the records; a pickled copy must not carry them
  again = pickle.loads(pickle.dumps(test))
  assert again._source is None  # pylint: disable=protected-access
  np.testing.assert_array_equal(again[1]['frames'], test[1]['frames'])


def test_jpeg_format_close_to_raw(ucf, tmp_path):
  root, raw_out, _ = ucf
  out = str(tmp_path / 'jpeg')
  index = prepare_lib.prepare('ucf101', root, out, short_side=36, log=QUIET)
  assert index['format'] == 'jpeg'  # (sizes: benchmarks/data_prepared.py, on camera-like
                                   # frames; these flat ones compress to nothing either way)
  raw = data_lib.get_dataset('ucf101', 'train', prepared=raw_out, **CLIP)
  jpeg = data_lib.get_dataset('ucf101', 'train', prepared=out, **CLIP)
  for i in range(len(raw)):
    a, b = raw.get(i, epoch=1)['frames'], jpeg.get(i, epoch=1)['frames']
    assert np.abs(a - b).max() < 4 / 255
    np.testing.assert_array_equal(frame_numbers(b), frame_numbers(a))
  # Read at another short side: resized on read.
  small = data_lib.get_dataset('ucf101', 'test', prepared=out, frames_per_clip=4,
                               resolution=16, short_side=16)
  assert small[0]['frames'].shape == (4, 16, 16, 3)


def test_interrupted_prepare_is_refused_then_resumes(ucf, tmp_path, monkeypatch):
  root, whole, whole_index = ucf
  out = str(tmp_path / 'out')
  real_one, calls = prepare_lib._prepare_one, []  # pylint: disable=protected-access

  def dies_on_the_third(args):
    calls.append(args[1])
    if len(calls) == 3:
      raise KeyboardInterrupt
    return real_one(args)

  monkeypatch.setattr(prepare_lib, '_prepare_one', dies_on_the_third)
  with pytest.raises(KeyboardInterrupt):
    prepare_lib.prepare('ucf101', root, out, short_side=36, fmt='raw', log=QUIET)
  with pytest.raises(errors.DataError, match='half-written.*rerun that same command'):
    data_lib.get_dataset('ucf101', 'train', prepared=out)
  with pytest.raises(errors.DataError, match='short_side differ'):
    prepare_lib.prepare('ucf101', root, out, short_side=40, fmt='raw', log=QUIET)
  monkeypatch.setattr(prepare_lib, '_prepare_one', real_one)
  lines = []
  index = prepare_lib.prepare('ucf101', root, out, short_side=36, fmt='raw',
                              log=lines.append)
  assert lines[0].startswith('resuming: 4 of 6 videos to decode')
  for key in ('splits', 'records', 'videos', 'class_names', 'bytes'):
    assert index[key] == whole_index[key], key
  assert not os.path.exists(os.path.join(out, prepared_lib.WORK))
  a = data_lib.get_dataset('ucf101', 'train', prepared=out, **CLIP)
  b = data_lib.get_dataset('ucf101', 'train', prepared=whole, **CLIP)
  np.testing.assert_array_equal(a.get_batch(range(4))['frames'],
                                b.get_batch(range(4))['frames'])
  with pytest.raises(errors.DataError, match='finished prepared dataset already'):
    prepare_lib.prepare('ucf101', root, out, log=QUIET)


def test_refusals(ucf, tmp_path):
  root, out, _ = ucf
  busy = tmp_path / 'busy'
  busy.mkdir()
  (busy / 'notes.txt').write_text('mine')
  with pytest.raises(errors.DataError, match='not empty'):
    prepare_lib.prepare('ucf101', root, str(busy), log=QUIET)
  with pytest.raises(errors.DataError, match='not a prepared dataset'):
    data_lib.get_dataset('ucf101', 'train', prepared=str(busy))
  with pytest.raises(errors.DataError, match="prepared 'ucf101', not 'hmdb51'"):
    data_lib.get_dataset('hmdb51', 'train', prepared=out)
  with pytest.raises(errors.DataError, match='--format'):
    prepare_lib.prepare('ucf101', root, str(tmp_path / 'x'), fmt='png', log=QUIET)
  with pytest.raises(ValueError, match='root= .* or prepared='):
    data_lib.get_dataset('ucf101', 'train')


def test_bad_videos_named_skipped_counted(tmp_path):
  root = str(tmp_path / 'ucf')
  rels = make_ucf(root)
  corrupt = os.path.join(root, 'UCF-101', rels[(0, 2)])
  with open(corrupt, 'wb') as f:
    f.write(b'RIFF garbage, not a video' * 10)
  with pytest.raises(errors.DataError, match='1 of 6 videos cannot be decoded'):
    prepare_lib.prepare('ucf101', root, str(tmp_path / 'strict'), log=QUIET)
  lines = []
  index = prepare_lib.prepare('ucf101', root, str(tmp_path / 'out'), max_bad_fraction=0.5,
                              log=lines.append)
  assert list(index['bad_videos']) == [corrupt]
  assert any(rels[(0, 2)] in line and 'skipped' in line for line in lines)
  train = data_lib.get_dataset('ucf101', 'train', prepared=str(tmp_path / 'out'), **CLIP)
  assert len(train) == 3  # fold 1 trains on groups 2-3: one of its four videos is gone


def test_hmdb51_and_kinetics_layouts(tmp_path):
  hmdb = str(tmp_path / 'hmdb')
  make_hmdb(hmdb, os.path.join(hmdb, 'testTrainMulti_7030_splits'))
  out = str(tmp_path / 'hmdb_prep')
  prepare_lib.prepare('hmdb51', hmdb, out, short_side=36, fmt='raw', log=QUIET)
  for fold in (1, 2):
    raw = data_lib.get_dataset('hmdb51', 'test', root=hmdb, fold=fold, **CLIP)
    prep = data_lib.get_dataset('hmdb51', 'test', prepared=out, fold=fold, **CLIP)
    np.testing.assert_array_equal(raw.get_batch(range(len(raw)))['frames'],
                                  prep.get_batch(range(len(prep)))['frames'])
  k600 = str(tmp_path / 'k600')
  make_kinetics(k600)
  out = str(tmp_path / 'k600_prep')
  index = prepare_lib.prepare('kinetics600', k600, out, short_side=36, fmt='raw', log=QUIET)
  assert sorted(index['splits']) == ['train', 'val']
  test = data_lib.get_dataset('kinetics600', 'test', prepared=out, **CLIP)  # reads val
  raw = data_lib.get_dataset('kinetics600', 'test', root=k600, **CLIP)
  assert test.class_names == ['abseiling', 'playing cards'] and len(test) == 2
  np.testing.assert_array_equal(test[1]['frames'], raw[1]['frames'])


def test_command_line_errors_are_one_line(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m', 'sideways_jax.data.prepare', '--dataset=ucf101',
       f'--root={tmp_path}/none', f'--out={tmp_path}/out'],
      capture_output=True, text=True, check=False)
  assert result.returncode == 2, result.stderr
  assert result.stderr.strip().count('\n') == 0
  assert result.stderr.startswith('error: UCF101 root directory not found')


def test_process_workers_send_uint8_and_give_the_same_floats(ucf):
  _, out, _ = ucf
  ds = data_lib.get_dataset('ucf101', 'train', prepared=out, mean=(0.5, 0.4, 0.3),
                            std=(0.2, 0.25, 0.3), **CLIP)
  raw = ds.get_batch([0, 2], epoch=1, uint8=True)['frames']
  assert raw.dtype == np.uint8  # what a worker process sends: a quarter of the bytes
  np.testing.assert_array_equal(ds.to_float(raw), ds.get_batch([0, 2], epoch=1)['frames'])
  kw = dict(seed=3, num_epochs=2)
  want = list(batching.batches(ds, 2, **kw))
  got = list(batching.batches(ds, 2, num_workers=1, worker_type='process', **kw))
  assert len(got) == len(want) == 4
  for a, b in zip(got, want):
    assert a['frames'].dtype == np.float32
    np.testing.assert_array_equal(a['frames'], b['frames'])
