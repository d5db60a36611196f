"""Real-dataset loaders on tiny fakes written in each real on-disk layout.

Every fake frame is a flat grey of brightness 10 * (frame index) (+ an offset
per video), so decoded clips reveal their temporal order, stride and source.
"""

import csv
import os
import warnings

import av
import numpy as np
import pytest

from sideways_jax import data as data_lib
from sideways_jax.data import errors
from sideways_jax.data import hmdb51 as hmdb51_lib
from sideways_jax.data import kinetics as kinetics_lib
from sideways_jax.data import moving_mnist as mm_lib
from sideways_jax.data import ucf101 as ucf101_lib

NUM_FRAMES = 24
STEP = 10  # Brightness step per frame.


def write_video(path, num_frames=NUM_FRAMES, *, codec='mpeg4', width=64, height=48,
                offset=0):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with av.open(path, 'w') as c:
    s = c.add_stream(codec, rate=25)
    s.width, s.height = width, height
    s.pix_fmt = 'yuvj420p' if codec == 'mjpeg' else 'yuv420p'
    for i in range(num_frames):
      img = np.full((height, width, 3), offset + STEP * i, np.uint8)
      for p in s.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
        c.mux(p)
    for p in s.encode():
      c.mux(p)


def frame_numbers(frames, offset=0):
  """Decoded float clip [T,H,W,C] -> the frame index each frame encodes."""
  return np.round((frames.mean(axis=(1, 2, 3)) * 255 - offset) / STEP).astype(int)


# ---------------------------------------------------------------- UCF101 fake.
UCF_CLASSES = ['ApplyEyeMakeup', 'Basketball']


def make_ucf(root, lengths=None):
  lengths = lengths or {}
  lists = os.path.join(root, 'ucfTrainTestlist')
  os.makedirs(lists)
  with open(os.path.join(lists, 'classInd.txt'), 'w') as f:
    f.writelines(f'{i + 1} {c}\n' for i, c in enumerate(UCF_CLASSES))
  rels = {}
  for ci, c in enumerate(UCF_CLASSES):
    for g in (1, 2, 3):
      rel = f'{c}/v_{c}_g{g:02d}_c01.avi'
      rels[(ci, g)] = rel
      write_video(os.path.join(root, 'UCF-101', rel), lengths.get(rel, NUM_FRAMES))
  for fold in (1, 2, 3):  # Group `fold` is test, the rest train.
    with open(os.path.join(lists, f'trainlist0{fold}.txt'), 'w') as f:
      f.writelines(f'{rels[(ci, g)]} {ci + 1}\n' for ci in range(2) for g in (1, 2, 3)
                   if g != fold)
    with open(os.path.join(lists, f'testlist0{fold}.txt'), 'w') as f:
      f.writelines(f'{rels[(ci, fold)]}\n' for ci in range(2))
  return rels


@pytest.fixture(scope='module')
def ucf_root(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('ucf'))
  make_ucf(root, {'Basketball/v_Basketball_g03_c01.avi': 5})
  return root


def test_ucf101_splits_labels_and_shapes(ucf_root):
  for fold in (1, 2, 3):
    train = data_lib.get_dataset('ucf101', 'train', root=ucf_root, fold=fold,
                                 frames_per_clip=8, resolution=32)
    test = data_lib.get_dataset('ucf101', 'test', root=ucf_root, fold=fold,
                                frames_per_clip=8, resolution=32)
    assert (len(train), len(test), train.num_classes) == (4, 2, 2)
    for ds in (train, test):
      for i in range(len(ds)):
        cls = UCF_CLASSES[ds[i]['label']]
        assert f'/{cls}/v_{cls}_' in ds.paths[ds[i]['video_id']]
    assert ds.frame_shape == (32, 32, 3)
    item = train[0]
    assert item['frames'].shape == (8, 32, 32, 3)
    assert item['frames'].dtype == np.float32
    assert 0.0 <= item['frames'].min() and item['frames'].max() <= 1.0
  b = train.get_batch([0, 1, 3])
  assert b['frames'].shape == (3, 8, 32, 32, 3)
  assert b['labels'].dtype == np.int32 and b['labels'].shape == (3, 8)
  np.testing.assert_array_equal(b['labels'][:, 0], [train[i]['label'] for i in (0, 1, 3)])
  assert (b['video_ids'] == b['video_ids'][:, :1]).all()


def test_ucf101_temporal_order_stride_and_determinism(ucf_root):
  kw = dict(root=ucf_root, frames_per_clip=6, temporal_stride=2, resolution=32)
  train = ucf101_lib.ucf101('train', seed=3, **kw)
  starts = set()
  for i in range(len(train)):
    if 'g03' in train.paths[i // 1]:
      continue
    nums = frame_numbers(train[i]['frames'])
    assert (np.diff(nums) == 2).all(), nums
    starts.add(nums[0])
    np.testing.assert_array_equal(train[i]['frames'], train[i]['frames'])
    again = ucf101_lib.ucf101('train', seed=3, **kw)[i]['frames']
    np.testing.assert_array_equal(train[i]['frames'], again)
  other = ucf101_lib.ucf101('train', seed=4, **kw)
  assert any(frame_numbers(other.get(i, epoch=1)['frames'])[0] != frame_numbers(
      train[i]['frames'])[0] for i in range(len(train)))
  # Test views: one view is centred; three are evenly spaced, same video id.
  test = ucf101_lib.ucf101('test', fold=1, **kw)
  span = 11
  assert frame_numbers(test[0]['frames'])[0] == (NUM_FRAMES - span) // 2
  views = ucf101_lib.ucf101('test', fold=1, num_views=3, **kw)
  assert len(views) == 3 * len(test)
  firsts = [frame_numbers(views[v]['frames'])[0] for v in range(3)]
  assert firsts == sorted(firsts) and len(set(firsts)) == 3
  assert firsts[1] == (NUM_FRAMES - span) // 2
  assert {views[v]['video_id'] for v in range(3)} == {test[0]['video_id']}


def test_short_video_loops_or_pads(ucf_root):
  kw = dict(root=ucf_root, fold=3, frames_per_clip=8, resolution=32)
  test = ucf101_lib.ucf101('test', **kw)
  short = [i for i in range(len(test)) if 'v_Basketball_g03' in test.paths[i]][0]
  with pytest.warns(errors.ShortVideoWarning, match=r'v_Basketball_g03_c01.avi. has 5 '
                    r'frames, fewer than a clip spans \(8.*loop it'):
    np.testing.assert_array_equal(frame_numbers(test[short]['frames']),
                                  [0, 1, 2, 3, 4, 0, 1, 2])
  with warnings.catch_warnings():  # once per video
    warnings.simplefilter('error')
    test[short]
  padded = ucf101_lib.ucf101('test', pad_mode='pad', **kw)
  np.testing.assert_array_equal(frame_numbers(padded[short]['frames']),
                                [0, 1, 2, 3, 4, 4, 4, 4])


def test_normalisation(ucf_root):
  ds = ucf101_lib.ucf101('test', root=ucf_root, frames_per_clip=4, resolution=32,
                         mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
  raw = ucf101_lib.ucf101('test', root=ucf_root, frames_per_clip=4, resolution=32)
  np.testing.assert_allclose(ds[0]['frames'], (raw[0]['frames'] - 0.5) / 0.25,
                             atol=1e-5)


# ---------------------------------------------------------------- HMDB51 fake.
def make_hmdb(videos_dir, splits_dir, classes=('brush_hair', 'cartwheel')):
  os.makedirs(splits_dir, exist_ok=True)
  for ci, c in enumerate(classes):
    names = [f'{c}_video{k}!_f_nm_np1_ri_med_{k}.avi' for k in range(3)]
    for k, n in enumerate(names):
      write_video(os.path.join(videos_dir, c, n), offset=ci * 5, codec='mjpeg')
    for fold in (1, 2, 3):
      codes = {0: '1', 1: '2', 2: '0'} if fold == 1 else {0: '2', 1: '1', 2: '1'}
      with open(os.path.join(splits_dir, f'{c}_test_split{fold}.txt'), 'w') as f:
        f.writelines(f'{n} {codes[k]} \n' for k, n in enumerate(names))


def test_hmdb51_layout_and_folds(tmp_path):
  root = str(tmp_path / 'hmdb')
  make_hmdb(root, os.path.join(root, 'testTrainMulti_7030_splits'))
  train = data_lib.get_dataset('hmdb51', 'train', root=root, frames_per_clip=4,
                               resolution=32)
  test = hmdb51_lib.hmdb51('test', root=root, frames_per_clip=4, resolution=32)
  assert (len(train), len(test), train.num_classes) == (2, 2, 2)
  assert train.class_names == ['brush_hair', 'cartwheel']
  assert [train[i]['label'] for i in range(2)] == [0, 1]
  assert 'video0' in train.paths[0] and 'video1' in test.paths[0]
  assert (len(hmdb51_lib.hmdb51('train', root=root, fold=2)), len(
      hmdb51_lib.hmdb51('test', root=root, fold=2))) == (4, 2)
  # Separate videos and splits folders.
  other = str(tmp_path / 'splits_elsewhere')
  os.rename(os.path.join(root, 'testTrainMulti_7030_splits'), other)
  ds = hmdb51_lib.hmdb51('test', root=root, splits_dir=other, frames_per_clip=4,
                         resolution=32)
  assert len(ds) == 2
  nums = frame_numbers(ds[1]['frames'], offset=5)
  np.testing.assert_array_equal(nums, np.arange(10, 14))


# -------------------------------------------------------------- Kinetics fake.
def make_kinetics(root, splits=('train', 'val')):
  labels = ['abseiling', 'playing cards']
  for split in splits:
    rows = []
    for li, label in enumerate(labels):
      for k in range(2 if split == 'train' else 1):
        yid = f'{split[:2]}{li}{k}xYz-_9'
        rows.append([label, yid, 10 * k, 10 * k + 10, split])
        folder = label.replace(' ', '_') if li else label
        write_video(os.path.join(root, split, folder,
                                 f'{yid}_{10 * k:06d}_{10 * k + 10:06d}.mp4'),
                    codec='libx264', offset=li * 5)
    with open(os.path.join(root, f'{split}.csv'), 'w', newline='') as f:
      w = csv.writer(f)
      w.writerow(['label', 'youtube_id', 'time_start', 'time_end', 'split'])
      w.writerows(rows)


def test_kinetics600_layout(tmp_path):
  root = str(tmp_path / 'k600')
  make_kinetics(root)
  train = data_lib.get_dataset('kinetics600', 'train', root=root, frames_per_clip=8,
                               resolution=32)
  test = kinetics_lib.kinetics600('test', root=root, frames_per_clip=8, resolution=32)
  assert (len(train), len(test), train.num_classes) == (4, 2, 2)
  assert train.class_names == ['abseiling', 'playing cards']
  assert sorted(train[i]['label'] for i in range(4)) == [0, 0, 1, 1]
  assert '/val/' in test.paths[0]
  item = test[1]
  assert item['label'] == 1 and item['frames'].shape == (8, 32, 32, 3)
  np.testing.assert_array_equal(frame_numbers(item['frames'], offset=5),
                                np.arange(8, 16))
  with pytest.raises(errors.DataError, match='test.csv'):
    kinetics_lib.kinetics600('test', root=root, test_split='test')


# --------------------------------------------------------- Moving MNIST fake.
def test_moving_mnist(tmp_path):
  arr = np.zeros((20, 12, 64, 64), np.uint8)
  arr += (np.arange(20)[:, None, None, None] * 10).astype(np.uint8)
  arr[:, :, 0, 0] = np.arange(12)[None, :]  # Sequence id in pixel (0, 0).
  np.save(tmp_path / 'mnist_test_seq.npy', arr)
  train = data_lib.get_dataset('moving_mnist', 'train', root=str(tmp_path),
                               frames_per_clip=10, seed=1)
  test = mm_lib.moving_mnist('test', root=str(tmp_path / 'mnist_test_seq.npy'),
                             frames_per_clip=10)
  assert (len(train), len(test), train.num_classes) == (11, 1, 1)
  it = test[0]
  assert it['frames'].shape == (10, 64, 64, 1) and it['frames'].dtype == np.float32
  assert it['label'] == 0 and it['video_id'] == 11
  np.testing.assert_array_equal(np.round(it['frames'][:, 5, 5, 0] * 255),
                                np.arange(5, 15) * 10)
  assert round(it['frames'][0, 0, 0, 0] * 255) == 11
  t = train.get(3, epoch=0)['frames']
  np.testing.assert_array_equal(t, train[3]['frames'])
  assert (np.diff(np.round(t[:, 5, 5, 0] * 255)) == 10).all()
  assert mm_lib.moving_mnist('train', root=str(tmp_path), resolution=32)[0][
      'frames'].shape == (20, 32, 32, 1)
  np.save(tmp_path / 'bad.npy', arr.astype(np.float32))
  with pytest.raises(errors.DataError, match=r'bad\.npy.*uint8'):
    mm_lib.moving_mnist('train', root=str(tmp_path / 'bad.npy'))
  np.save(tmp_path / 'bad2.npy', arr[:, :, :32])
  with pytest.raises(errors.DataError, match=r'bad2\.npy.*shape'):
    mm_lib.moving_mnist('train', root=str(tmp_path / 'bad2.npy'))


# ------------------------------------------------------------------ Bad input.
def test_missing_root_and_split_files(tmp_path, ucf_root):
  missing = str(tmp_path / 'nope')
  for name in ('ucf101', 'hmdb51', 'kinetics600', 'moving_mnist'):
    with pytest.raises(errors.DataError, match='nope.*not found|not found.*nope'):
      data_lib.get_dataset(name, 'train', root=missing)
  root = str(tmp_path / 'ucf')
  os.makedirs(os.path.join(root, 'UCF-101'))
  with pytest.raises(errors.DataError, match='ucfTrainTestlist'):
    ucf101_lib.ucf101('train', root=root)
  os.makedirs(os.path.join(root, 'ucfTrainTestlist'))
  with open(os.path.join(root, 'ucfTrainTestlist', 'classInd.txt'), 'w') as f:
    f.write('1 A\n')
  with pytest.raises(errors.DataError, match='not found.*trainlist02.txt'):
    ucf101_lib.ucf101('train', root=root, fold=2)
  os.makedirs(tmp_path / 'h' / 'testTrainMulti_7030_splits')
  with pytest.raises(errors.DataError, match='test_split1.txt'):
    hmdb51_lib.hmdb51('train', root=str(tmp_path / 'h'))
  os.makedirs(tmp_path / 'k')
  with pytest.raises(errors.DataError, match='train.csv'):
    kinetics_lib.kinetics600('train', root=str(tmp_path / 'k'))


def test_malformed_annotations(tmp_path):
  p = tmp_path / 'classInd.txt'
  p.write_text('1 A\n2 B extra\n')
  with pytest.raises(errors.AnnotationError, match=r'classInd\.txt:2'):
    ucf101_lib.read_class_index(str(p))
  p.write_text('1 A\n\n1 B\n')
  with pytest.raises(errors.AnnotationError, match=r'classInd\.txt:3: class index 1 appears'):
    ucf101_lib.read_class_index(str(p))
  p.write_text('1 A\n3 B\n')
  with pytest.raises(errors.AnnotationError, match='without gaps'):
    ucf101_lib.read_class_index(str(p))
  p = tmp_path / 'trainlist01.txt'
  p.write_text('A/v_A_g01_c01.avi 1\nB/v_B_g01_c01.avi 1\n')
  with pytest.raises(errors.AnnotationError, match=r'trainlist01\.txt:2.*match'):
    ucf101_lib.read_split_list(str(p), ['A', 'B'], with_labels=True)
  p.write_text('A/v_A_g01_c01.avi 1\n\nC/v_C_g01_c01.avi 3\n')
  with pytest.raises(errors.AnnotationError, match=r'trainlist01\.txt:3.*unknown class'):
    ucf101_lib.read_split_list(str(p), ['A', 'B'], with_labels=True)
  p = tmp_path / 'brush_hair_test_split1.txt'
  p.write_text('a.avi 1\nb.avi 7\n')
  with pytest.raises(errors.AnnotationError, match=r'test_split1\.txt:2.*<0\|1\|2>'):
    hmdb51_lib.read_split_file(str(p), 'brush_hair', 0, 'train')
  p = tmp_path / 'train.csv'
  p.write_text('label,youtube_id,time_start,time_end,split\nx,abc,zero,10,train\n')
  with pytest.raises(errors.AnnotationError, match=r'train\.csv:2'):
    kinetics_lib.read_csv(str(p))


def test_one_annotation_reader_for_ucf101_and_hmdb51(tmp_path):
  """Both formats go through annotations.read_split: same rows, same errors."""
  ucf = tmp_path / 'testlist01.txt'
  ucf.write_text('A/v_A_g01_c01.avi\n\nB/v_B_g01_c02.avi\n')
  assert ucf101_lib.read_split_list(str(ucf), ['A', 'B'], with_labels=False) == [
      ('A/v_A_g01_c01.avi', 0), ('B/v_B_g01_c02.avi', 1)]
  hmdb = tmp_path / 'wave_test_split2.txt'
  hmdb.write_text('x.avi 1 \ny.avi 2\nz.avi 0\n')
  assert hmdb51_lib.read_split_file(str(hmdb), 'wave', 4, 'train') == [('wave/x.avi', 4)]
  assert hmdb51_lib.read_split_file(str(hmdb), 'wave', 4, 'test') == [('wave/y.avi', 4)]
  for path, read in ((ucf, lambda p: ucf101_lib.read_split_list(p, ['A'], with_labels=False)),
                     (hmdb, lambda p: hmdb51_lib.read_split_file(p, 'wave', 0, 'train'))):
    path.write_text('\n  \n')
    with pytest.raises(errors.AnnotationError, match=f'{path.name}: empty .*split file'):
      read(str(path))
    with pytest.raises(errors.DataError, match='not found.*nope.txt'):
      read(str(tmp_path / 'nope.txt'))


def test_corrupt_zero_length_and_too_many_bad(tmp_path):
  root = str(tmp_path / 'ucf')
  rels = make_ucf(root)
  corrupt = os.path.join(root, 'UCF-101', rels[(0, 2)])
  with open(corrupt, 'wb') as f:
    f.write(b'RIFF garbage, not a video' * 10)
  empty = os.path.join(root, 'UCF-101', rels[(1, 2)])
  open(empty, 'w').close()
  with pytest.raises(errors.DataError, match='max_bad_fraction'):
    ucf101_lib.ucf101('train', root=root, fold=1)  # 1 of 4 bad > 10 %.
  with pytest.warns(errors.BadVideoWarning, match='zero-length'):
    ds = ucf101_lib.ucf101('train', root=root, fold=1, max_bad_fraction=0.5,
                           frames_per_clip=4, resolution=32)
  assert len(ds) == 3 and ds.num_bad == 1
  bad_i = ds.paths.index(corrupt)
  with pytest.warns(errors.BadVideoWarning, match='v_ApplyEyeMakeup_g02_c01.avi'):
    item = ds[bad_i]
  assert ds.paths[item['video_id']] != corrupt and ds.num_bad == 2
  assert item['frames'].shape == (4, 32, 32, 3)
  with warnings.catch_warnings():  # A full epoch never crashes.
    warnings.simplefilter('ignore')
    assert len(ds.get_batch(range(len(ds)))['frames']) == 3
  with pytest.warns(errors.BadVideoWarning):
    probed = ucf101_lib.ucf101('train', root=root, fold=1, max_bad_fraction=0.5,
                               probe=True)
  assert probed.num_bad == 2 and corrupt not in probed.paths
  with pytest.raises(errors.DataError, match='max_bad_fraction=0.3'):
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')
      ds2 = ucf101_lib.ucf101('train', root=root, fold=1, max_bad_fraction=0.3)
      ds2[ds2.paths.index(corrupt)]
