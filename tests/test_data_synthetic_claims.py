"""Tests of the claims the embedded synthetic sets exist for (temporal_actions: no class
information in a single frame, but plenty in time; appearance: class visible per frame;
moving digits: recognisable, bouncing digits), and of the tools that measure them.

The classifier checks train small models for a few seconds on CPU; their thresholds are
statistical (chance +- 3 sigma) on fixed seeds, so they are deterministic. The dataset API
is tested in test_data_synthetic.py.
"""

import functools

import numpy as np
import pytest

from sideways_jax.data import controls
from sideways_jax.data import digits
from sideways_jax.data import get_dataset
from sideways_jax.data import synthetic

NUM_TRAIN, NUM_TEST = 512, 1500


# ----------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=None)
def _data(name, split, n, **kwargs):
  ds = get_dataset(name, split, num_clips=4096, **kwargs)
  batch = ds.get_batch(np.arange(n))
  return batch['frames'], batch['labels'][:, 0], ds.num_classes


def _random_frames(frames, per_clip, seed):
  """`per_clip` random frames of each clip, [N * per_clip, H, W, C], and their time steps."""
  rng = np.random.default_rng(seed)
  n, t = frames.shape[:2]
  ti = rng.integers(t, size=(n, per_clip))
  return frames[np.arange(n)[:, None], ti].reshape((-1,) + frames.shape[2:]), ti


# ----------------------------------------------------------- temporal action set claims


@pytest.mark.parametrize('level', ['motion', 'dynamics'])
def test_single_frame_classifier_is_at_chance(level):
  """A per-frame classifier that fits its training frames perfectly is at chance on new clips."""
  ftr, ytr, k = _data('temporal_actions', 'train', NUM_TRAIN, level=level)
  fte, yte, _ = _data('temporal_actions', 'test', NUM_TEST, level=level)
  xtr, _ = _random_frames(ftr, 4, seed=0)
  xte, _ = _random_frames(fte, 1, seed=1)
  train_pred, pred = controls.fit_predict(controls.frame_features(xtr), np.repeat(ytr, 4),
                                  controls.frame_features(xte), k)
  p, band = controls.chance_band(k, NUM_TEST)
  print(f'{level}: single-frame accuracy {(pred == yte).mean():.3f}, chance {p:.3f} +- {band:.3f}')
  assert (train_pred == np.repeat(ytr, 4)).mean() > 0.9  # it had the capacity to use any cue
  assert abs((pred == yte).mean() - p) <= band, ((pred == yte).mean(), p, band)


@pytest.mark.parametrize('level', ['motion', 'dynamics'])
def test_per_frame_statistics_do_not_depend_on_class(level):
  """Class-conditional means of per-frame statistics agree within 4 standard errors."""
  f, y, k = _data('temporal_actions', 'test', NUM_TEST, level=level)
  frames, _ = _random_frames(f, 1, seed=2)
  dev = np.abs(frames - np.median(frames, axis=(1, 2), keepdims=True)).sum(-1)
  area = (dev > 0.15).mean((1, 2))                 # object pixels (actor + distractor)
  ys, xs = np.mgrid[:frames.shape[1], :frames.shape[2]] * (2 * np.pi / frames.shape[1])
  weight = dev / dev.sum((1, 2), keepdims=True)
  cx = np.angle((weight * np.exp(1j * xs)).sum((1, 2)))  # circular centroid on the torus
  cy = np.angle((weight * np.exp(1j * ys)).sum((1, 2)))
  grad = np.abs(np.diff(frames, axis=1)).mean((1, 2, 3))
  stats = dict(mean=frames.mean((1, 2, 3)), std=frames.std((1, 2, 3)), area=area,
               cos_cx=np.cos(cx), sin_cx=np.sin(cx), cos_cy=np.cos(cy), sin_cy=np.sin(cy),
               edges=grad)
  for name, s in stats.items():
    for c in range(k):
      sel = s[y == c]
      z = (sel.mean() - s.mean()) / (s.std() / np.sqrt(len(sel)))
      assert abs(z) < 4, (name, c, z)


def _frame_pair_accuracy(level, seed):
  """(accuracy, chance, band, (train frames, labels, test frames, labels, classes)) of a
  classifier of two consecutive frames at a random time."""
  ftr, ytr, k = _data('temporal_actions', 'train', NUM_TRAIN, level=level)
  fte, yte, _ = _data('temporal_actions', 'test', NUM_TEST, level=level)
  rng = np.random.default_rng(seed)
  ta, tb = rng.integers(15, size=NUM_TRAIN), rng.integers(15, size=NUM_TEST)
  xtr = controls.pair_features(ftr[np.arange(NUM_TRAIN), ta], ftr[np.arange(NUM_TRAIN), ta + 1])
  xte = controls.pair_features(fte[np.arange(NUM_TEST), tb], fte[np.arange(NUM_TEST), tb + 1])
  _, pred = controls.fit_predict(xtr, ytr, xte, k, hidden=64, l2=1e-4, steps=500)
  p, band = controls.chance_band(k, NUM_TEST)
  accuracy = (pred == yte).mean()
  print(f'{level}: frame-pair accuracy {accuracy:.3f}, chance {p:.3f} +- {band:.3f}')
  return accuracy, p, band, (ftr, ytr, fte, yte, k)


def test_frame_pairs_reveal_motion_classes():
  """Positive control, level 'motion': two consecutive frames carry the class."""
  accuracy, _, _, _ = _frame_pair_accuracy('motion', seed=3)
  assert accuracy > 0.5, accuracy


def test_dynamics_need_more_than_two_frames():
  """Level 'dynamics': frame pairs are at chance; the whole clip reveals the class."""
  accuracy, p, band, (ftr, ytr, fte, yte, k) = _frame_pair_accuracy('dynamics', seed=4)
  assert abs(accuracy - p) <= band, (accuracy, p, band)
  _, pred = controls.fit_predict(controls.clip_features(ftr), ytr, controls.clip_features(fte),
                                 k, hidden=64, l2=1e-4, steps=500)
  print(f'dynamics: 16-frame accuracy {(pred == yte).mean():.3f}')
  assert (pred == yte).mean() > 0.45, (pred == yte).mean()


def test_velocity_estimate_follows_the_motion_classes():
  """controls.velocity_steps on clean `motion` clips (no noise, no distractor): right, up,
  left and down at 1-2.5 px/frame along their direction (image y points down; within
  0.3 px, the object against a textured background), ~0 across."""
  ds = get_dataset('temporal_actions', 'train', num_clips=64, level='motion',
                   num_distractors=0, noise=0.0)
  batch = ds.get_batch(np.arange(64))
  labels = batch['labels'][:, 0]
  v = np.median(controls.velocity_steps(batch['frames']), axis=1)       # [N, (x, y)]
  for c, direction in enumerate(((1., 0.), (0., -1.), (-1., 0.), (0., 1.))):
    along, across = v[labels == c] @ np.array(direction), v[labels == c] @ np.array(direction[::-1])
    assert len(along) >= 4, (c, len(along))
    assert ((along > 0.7) & (along < 2.7)).all(), (c, along)  # a global estimate: +-0.3
    assert (np.abs(across) < 0.2).all(), (c, across)


def test_control_tool_reads_dynamics_from_whole_clips():
  """`experiments.control`: the velocity-feature MLP on 512 clips, well above chance."""
  from experiments import control  # pylint: disable=g-import-not-at-top
  result = control.run('dynamics', 512, 512, ['summary', 'sequence'], hidden=64, steps=500,
                       l2=1e-4)
  assert result['accuracy'] > 0.45, result
  assert result['chance'] == 0.125 and 0 < result['chance_3sigma'] < 0.05, result
  assert list(result['per_class']) == list(synthetic.DYNAMICS_CLASSES), result['per_class']
  assert result['dataset_kwargs'] == {'level': 'dynamics'}, result


def test_trajectories_follow_class_definitions():
  """Noise-free checks of the motion programmes themselves (not just their statistics)."""
  n, t = 64, 16
  labels = np.repeat(np.arange(8), n // 8)
  u = np.random.default_rng(0).random((n, 64))
  pos, _, _ = synthetic._dynamics_trajectory(labels, synthetic.render.Columns(u), t, 32, 32, 1.0)
  v = np.diff(pos, axis=1)
  speed = np.linalg.norm(v, axis=-1)
  assert ((speed > 0.75 - 1e-9) & (speed < 2.25 + 1e-9)).all()
  dot = (v[:, 1:] * v[:, :-1]).sum(-1) / (speed[:, 1:] * speed[:, :-1])
  crs = (v[:, :-1, 0] * v[:, 1:, 1] - v[:, :-1, 1] * v[:, 1:, 0]) / (speed[:, 1:] * speed[:, :-1])
  crs = -crs  # screen y points down: counter-clockwise on screen is a negative cross product
  def of(c):
    return slice(c * n // 8, (c + 1) * n // 8)
  np.testing.assert_allclose(dot[of(0)], 1, atol=1e-9)                     # constant
  assert (np.sum(np.diff(speed[of(1)], axis=1) < 0, axis=1) <= 1).all()   # accelerate
  assert (np.sum(np.diff(speed[of(2)], axis=1) > 0, axis=1) <= 1).all()   # decelerate
  np.testing.assert_allclose(np.sort(dot[of(3)], 1)[:, 0], -1, atol=1e-9)  # one reversal
  assert (np.sum(dot[of(3)] < 0, axis=1) == 1).all()
  np.testing.assert_allclose(crs[of(4)].max(1), 1, atol=1e-9)              # one ccw turn
  np.testing.assert_allclose(crs[of(5)].min(1), -1, atol=1e-9)             # one cw turn
  np.testing.assert_allclose(crs[of(6)], np.sin(np.pi / 6), atol=1e-9)     # circles
  np.testing.assert_allclose(crs[of(7)], -np.sin(np.pi / 6), atol=1e-9)


# ---------------------------------------------------------------------- appearance


def test_appearance_is_visible_in_single_frames():
  ftr, ytr, k = _data('appearance', 'train', NUM_TRAIN, frames_per_clip=4)
  fte, yte, _ = _data('appearance', 'test', NUM_TEST, frames_per_clip=4)
  xtr, _ = _random_frames(ftr, 4, seed=0)
  xte, _ = _random_frames(fte, 1, seed=1)
  _, pred = controls.fit_predict(controls.frame_features(xtr), np.repeat(ytr, 4),
                                 controls.frame_features(xte), k)
  p, band = controls.chance_band(k, NUM_TEST)
  print(f'appearance: single-frame accuracy {(pred == yte).mean():.3f}, '
        f'chance {p:.3f} +- {band:.3f}')
  assert (pred == yte).mean() > p + 5 * band, (pred == yte).mean()


# ------------------------------------------------------------------- moving digits


def test_glyphs_are_distinct_digits():
  g = digits.digit_glyphs(28).reshape(10, -1)
  assert g.shape == (10, 784) and g.max() == 1.0
  dist = np.abs(g[:, None] - g[None]).mean(-1) + np.eye(10)
  assert dist.min() > 0.04  # the closest pair (e.g. 3 / 8) still differs in many pixels
  with pytest.raises(ValueError, match='size'):
    digits.digit_glyphs(5)


def test_moving_digits_bounce_and_are_recognisable():
  ds = get_dataset('moving_digits', 'test', num_digits=1)
  batch = ds.get_batch(np.arange(40))
  frames, labels = batch['frames'][..., 0], batch['labels'][:, 0]
  g = digits.digit_glyphs(28)
  # Template matching at every position: the best glyph is the label.
  spec = np.fft.rfft2(frames[:, :5])
  hits = []
  for d in range(10):
    tpl = np.zeros((64, 64), np.float32)
    tpl[:28, :28] = g[d] - g[d].mean()
    corr = np.fft.irfft2(spec * np.conj(np.fft.rfft2(tpl)), s=(64, 64))
    hits.append(corr.reshape(40, 5, -1).max(-1).mean(1) / np.linalg.norm(tpl))
  assert (np.argmax(np.stack(hits, -1), -1) == labels).mean() >= 0.95
  # Digits stay inside the frame and keep their ink: the pixel mass is constant in time.
  mass = frames.sum((2, 3))
  np.testing.assert_allclose(mass, np.repeat(mass[:, :1], mass.shape[1], 1), rtol=1e-5)
  # Each clip moves, and (over 20 frames at 2-4 px/frame in a 36 px span) some bounce.
  ys, xs = np.mgrid[:64, :64]
  cx = (frames * xs).sum((2, 3)) / mass
  vx = np.diff(cx, axis=1)
  moved = np.abs(np.diff(frames, axis=1)).sum((2, 3)) > 0  # (rounding can pause at a bounce)
  assert moved.mean(1).min() > 0.8, moved.mean(1).min()
  flips = ((vx[:, 1:] * vx[:, :-1]) < 0).any(1)
  assert flips.mean() > 0.3


def test_clip_cnn_tool_trains_and_reports_its_curve():
  """`experiments.clip_cnn` (a whole-clip CNN outside the frame clock): one held-out
  accuracy per evaluation in its curve, and one log line each."""
  from experiments import clip_cnn  # pylint: disable=g-import-not-at-top
  logs = []
  result = clip_cnn.run('motion', steps=40, eval_every=20, augment='roll', test_clips=32,
                        log=logs.append)
  assert [s for s, _ in result['curve']] == [20, 40], result
  assert all(0 <= a <= 1 for _, a in result['curve']), result
  assert len(logs) == 2 and 'held-out clip accuracy' in logs[0], logs
