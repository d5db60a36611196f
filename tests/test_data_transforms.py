"""Clip sampling and transforms (numpy), video writing and decoding (PyAV), and flips:
which datasets flip by default, how to turn it off, and that a flip mirrors motion."""

import os

import numpy as np
import pytest

from sideways_jax import data as data_lib
from sideways_jax.data import errors
from sideways_jax.data import transforms
from sideways_jax.data import video_folder
from sideways_jax.data import video_io

import test_data_real as fakes


def test_clip_indices():
  np.testing.assert_array_equal(transforms.clip_indices(10, 4, 2), [1, 3, 5, 7])
  np.testing.assert_array_equal(
      [transforms.clip_indices(20, 4, 2, view=v, num_views=3)[0] for v in range(3)],
      [2, 6, 10])
  rng = np.random.default_rng(0)
  starts = {transforms.clip_indices(30, 4, 1, rng=rng)[0] for _ in range(50)}
  assert min(starts) >= 0 and max(starts) <= 26 and len(starts) > 5
  np.testing.assert_array_equal(transforms.clip_indices(3, 5, 1), [0, 1, 2, 0, 1])
  np.testing.assert_array_equal(transforms.clip_indices(3, 5, 1, pad_mode='pad'),
                                [0, 1, 2, 2, 2])
  assert transforms.short_side_size(240, 320, 128) == (128, 171)
  assert transforms.short_side_size(320, 240, 128) == (171, 128)
  with pytest.raises(ValueError, match='pad_mode'):
    transforms.clip_indices(10, 4, pad_mode='wrap')
  with pytest.raises(ValueError, match='num_frames'):
    transforms.clip_indices(0, 4)


def test_crop_and_flip():
  clip = np.arange(2 * 6 * 8 * 1, dtype=np.uint8).reshape(2, 6, 8, 1)
  np.testing.assert_array_equal(transforms.crop_and_flip(clip, 4), clip[:, 1:5, 2:6])
  rng = np.random.default_rng(0)
  outs = {transforms.crop_and_flip(clip, 4, rng=rng, flip=True).tobytes()
          for _ in range(30)}
  assert len(outs) > 4
  # A flip mirrors every frame of the clip the same way, so motion is mirrored too.
  square = clip[:, :, :6]
  full = [transforms.crop_and_flip(square, 6, rng=np.random.default_rng(s), flip=True)
          for s in range(20)]
  mirrored = [np.array_equal(c, square[:, :, ::-1]) for c in full]
  kept = [np.array_equal(c, square) for c in full]
  assert any(mirrored) and any(kept) and all(m or k for m, k in zip(mirrored, kept))
  # Without flip=True, or without an rng (test clips), nothing is mirrored.
  assert not any(np.array_equal(
      transforms.crop_and_flip(clip, 8, rng=np.random.default_rng(s)), clip[:, :, ::-1])
                 for s in range(20))
  padded = transforms.crop_and_flip(clip[:, :2, :2], 4)
  assert padded.shape == (2, 4, 4, 1)
  np.testing.assert_allclose(transforms.to_float(np.full((1, 1, 1, 3), 255, np.uint8),
                                                 mean=0.5, std=0.5), 1.0)


@pytest.mark.parametrize('codec,mean_error', [('ffv1', 0), ('mjpeg', 1.5), ('mpeg4', 4)])
def test_write_then_read_video(tmp_path, codec, mean_error):
  t, y, x, c = np.ogrid[:5, :16, :24, :3]
  frames = (10 * t + 4 * y + 3 * x + 30 * c).astype(np.uint8)  # smooth, moving, <= 229
  path = str(tmp_path / 'sub' / 'clip.avi')
  video_io.write_video(path, frames, codec=codec)
  back = video_io.decode_video(path)
  assert back.shape == frames.shape and back.dtype == np.uint8
  err = np.abs(back.astype(int) - frames)
  assert err.mean() <= mean_error, err.mean()
  picked = video_io.read_clip(path, lambda n: np.array([n - 1, 0]))
  np.testing.assert_array_equal(picked, back[[4, 0]])
  assert video_io.can_decode(path)


def test_write_video_bad_input(tmp_path):
  frames = np.zeros((2, 8, 8, 3), np.uint8)
  with pytest.raises(ValueError, match='codec must be one of'):
    video_io.write_video(str(tmp_path / 'a.avi'), frames, codec='h265')
  with pytest.raises(ValueError, match='uint8'):
    video_io.write_video(str(tmp_path / 'a.avi'), frames.astype(np.float32))
  with pytest.raises(ValueError, match='even'):
    video_io.write_video(str(tmp_path / 'a.avi'), np.zeros((2, 9, 8, 3), np.uint8),
                         codec='mpeg4')


def test_unreadable_video_is_a_data_error(tmp_path):
  path = tmp_path / 'junk.avi'
  path.write_bytes(b'RIFF not a video' * 10)
  with pytest.raises(errors.DataError, match='junk.avi'):
    video_io.read_clip(str(path), np.arange)
  assert not video_io.can_decode(str(path))


# ------------------------------------------------------------------------------ flips


def _ramp_videos(tmp_path, n=3):
  """Videos whose frames brighten left to right, so a mirrored clip is easy to see."""
  ramp = np.broadcast_to(np.linspace(0, 250, 16, dtype=np.uint8)[None, None, :, None],
                         (4, 16, 16, 3))
  paths = []
  for k in range(n):
    paths.append(str(tmp_path / f'v{k}.avi'))
    video_io.write_video(paths[-1], np.ascontiguousarray(ramp), codec='ffv1')
  return paths


def _mirrored(frames):
  """Per clip in a batch, whether its ramp runs right to left."""
  return frames[:, :, :, 0].mean((1, 2)) > frames[:, :, :, -1].mean((1, 2))


def test_video_flip_default_and_off(tmp_path):
  entries = [(p, 0) for p in _ramp_videos(tmp_path)]
  kw = dict(class_names=['a'], frames_per_clip=2, resolution=16, short_side=16)
  flipping = video_folder.VideoClipDataset(entries, train=True, **kw)
  assert flipping.flip  # the default
  seen = np.concatenate([_mirrored(flipping.get_batch(range(3), epoch=e)['frames'])
                         for e in range(8)])
  assert 0 < seen.mean() < 1  # about half of the clips are mirrored
  off = video_folder.VideoClipDataset(entries, train=True, flip=False, **kw)
  for e in range(8):
    assert not _mirrored(off.get_batch(range(3), epoch=e)['frames']).any()
  test = video_folder.VideoClipDataset(entries, train=False, **kw)  # never flips
  assert not _mirrored(test.get_batch(range(3))['frames']).any()
  with pytest.raises(ValueError, match='flip must be True, False or None'):
    video_folder.VideoClipDataset(entries, train=True, flip='no', **kw)


def test_every_real_factory_takes_flip(tmp_path):
  root = str(tmp_path / 'ucf')
  fakes.make_ucf(root)
  hmdb = str(tmp_path / 'hmdb')
  fakes.make_hmdb(hmdb, os.path.join(hmdb, 'testTrainMulti_7030_splits'))
  k600 = str(tmp_path / 'k600')
  fakes.make_kinetics(k600)
  for name, r in (('ucf101', root), ('hmdb51', hmdb), ('kinetics600', k600)):
    assert data_lib.get_dataset(name, 'train', root=r).flip, name  # on by default
    assert data_lib.get_dataset(name, 'train', root=r, flip=None).flip, name  # the default
    assert not data_lib.get_dataset(name, 'train', root=r, flip=False).flip, name
  arr = np.zeros((20, 4, 64, 64), np.uint8)
  arr[:, :, :, 32:] = 200  # bright right half
  np.save(tmp_path / 'mm.npy', arr)
  mm = data_lib.get_dataset('moving_mnist', 'train', root=str(tmp_path / 'mm.npy'))
  assert not mm.flip  # off by default
  assert not data_lib.get_dataset('moving_mnist', 'train', root=str(tmp_path / 'mm.npy'),
                                  flip=None).flip
  assert not _mirrored(np.concatenate(
      [mm.get_batch(range(3), epoch=e)['frames'] for e in range(8)])).any()
  mm = data_lib.get_dataset('moving_mnist', 'train', root=str(tmp_path / 'mm.npy'),
                            flip=True)
  seen = np.concatenate([_mirrored(mm.get_batch(range(3), epoch=e)['frames'])
                         for e in range(8)])
  assert 0 < seen.mean() < 1
  with pytest.raises(ValueError, match='flip must be True, False or None'):
    data_lib.get_dataset('moving_mnist', 'train', root=str(tmp_path / 'mm.npy'), flip=1.5)


@pytest.mark.parametrize('name', ['temporal_actions', 'appearance', 'moving_digits'])
def test_synthetic_sets_refuse_flip(name):
  for flip in (None, False):
    assert len(data_lib.get_dataset(name, 'train', num_clips=2, flip=flip)) == 2
  with pytest.raises(ValueError, match="flip=True.*not augmented.*'left' into 'right'"):
    data_lib.get_dataset(name, 'train', flip=True)


@pytest.mark.parametrize('shape', [(40, 50), (32, 32), (20, 50)])
@pytest.mark.parametrize('seed', [None, 0, 1, 2, 3])
def test_cropping_frames_before_stacking_gives_the_stacked_clip(shape, seed):
  frames = [np.random.RandomState(t).randint(0, 256, shape + (3,), np.uint8)
            for t in range(4)]
  rng = lambda: None if seed is None else np.random.default_rng(seed)
  want = transforms.crop_and_flip(np.stack(frames), 32, rng=rng(), flip=True)
  got = transforms.crop_and_flip_frames(frames, 32, rng=rng(), flip=True)
  np.testing.assert_array_equal(got, want)
  assert got.shape == (4, 32, 32, 3)
