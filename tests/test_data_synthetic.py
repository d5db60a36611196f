"""Tests of the embedded synthetic sets' dataset API: layout, determinism, kept clips (in
index-aligned chunks: the same bits whatever order clips are drawn in, so a resumed run
draws the uninterrupted run's batches), options and their checks, speed, augmentation.

The claims the sets exist for (no class in a single frame, plenty in time, ...) are in
test_data_synthetic_claims.py.
"""

import itertools

from absl.testing import parameterized
import numpy as np
import pytest

from sideways_jax.data import batching
from sideways_jax.data import controls
from sideways_jax.data import get_dataset
from sideways_jax.data import synthetic

# ------------------------------------------------------------------------------ API


ALL_SETS = [
    ('temporal_dynamics', 'temporal_actions', dict(level='dynamics'), (32, 32, 3), 16, 8),
    ('temporal_motion', 'temporal_actions', dict(level='motion'), (32, 32, 3), 16, 8),
    ('appearance', 'appearance', {}, (32, 32, 3), 16, 10),
    ('moving_digits', 'moving_digits', {}, (64, 64, 1), 20, 10),
]


class ApiTest(parameterized.TestCase):

  @parameterized.named_parameters(*ALL_SETS)
  def test_layout_and_determinism(self, name, kwargs, frame_shape, frames, classes):
    ds = get_dataset(name, 'train', **kwargs)
    self.assertEqual(ds.frame_shape, frame_shape)
    self.assertEqual(ds.frames_per_clip, frames)
    self.assertEqual(ds.num_classes, classes)
    self.assertEqual(len(ds), 8192)
    self.assertLen(get_dataset(name, 'test', **kwargs), 1024)
    batch = ds.get_batch([5, 2, 7])
    self.assertEqual(batch['frames'].shape, (3, frames) + frame_shape)
    self.assertEqual(batch['frames'].dtype, np.float32)
    self.assertGreaterEqual(batch['frames'].min(), 0.0)
    self.assertLessEqual(batch['frames'].max(), 1.0)
    self.assertGreater(batch['frames'].std(), 0.05)
    for key in ('labels', 'video_ids'):
      self.assertEqual(batch[key].shape, (3, frames))
      self.assertEqual(batch[key].dtype, np.int32)
      self.assertTrue((batch[key] == batch[key][:, :1]).all())
    np.testing.assert_array_equal(batch['video_ids'][:, 0], [5, 2, 7])
    self.assertTrue((batch['labels'] >= 0).all() and (batch['labels'] < classes).all())
    # A clip is the same alone, in another batch, or from a freshly built dataset.
    item = ds[2]
    np.testing.assert_array_equal(item['frames'], batch['frames'][1])
    self.assertEqual(item['label'], batch['labels'][1, 0])
    self.assertEqual(item['video_id'], 2)
    # The epoch (dataset protocol) changes nothing: synthetic clips are never augmented.
    np.testing.assert_array_equal(ds.get_batch([5, 2, 7], epoch=3)['frames'], batch['frames'])
    again = get_dataset(name, 'train', **kwargs).get_batch([7])
    np.testing.assert_array_equal(again['frames'][0], batch['frames'][2])
    other_seed = get_dataset(name, 'train', seed=1, **kwargs).get_batch([7])
    self.assertFalse(np.array_equal(other_seed['frames'][0], batch['frames'][2]))
    # Frames change over time (nothing is a static picture).
    self.assertGreater(np.abs(np.diff(batch['frames'], axis=1)).mean(), 1e-3)

  @parameterized.named_parameters(*ALL_SETS)
  def test_kept_clips_are_the_rendered_ones(self, name, kwargs, frame_shape, frames, _):
    ds = get_dataset(name, 'test', num_clips=40, **kwargs)
    kept = get_dataset(name, 'test', num_clips=40, **kwargs).keep_rendered()
    self.assertEqual(kept.kept_bytes, 40 * frames * int(np.prod(frame_shape)) * 4 + 40 * 4)
    self.assertEqual(ds.kept_bytes, 0)
    # First draws (with a clip twice), then draws that mix kept and new clips, then a
    # second epoch through the loader's threads (grain, one clip per call): every batch
    # equals the rendered one, bitwise.
    for idx in ([3, 9, 3], [9, 1, 3, 30], [5]):
      want, got = ds.get_batch(idx), kept.get_batch(idx)
      for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=f'{idx} {key}')
    for workers in (0, 2):
      want = list(batching.batches(ds, 8, seed=3, num_epochs=2))
      got = list(batching.batches(kept, 8, seed=3, num_epochs=2, num_workers=workers))
      self.assertLen(got, 10)
      for a, b in zip(want, got):
        for key in a:
          np.testing.assert_array_equal(b[key], a[key])
    self.assertTrue(kept._kept[2].all())  # every clip drawn is now kept

  @parameterized.named_parameters(*ALL_SETS)
  def test_splits_share_no_clip(self, name, kwargs, *_):
    train = get_dataset(name, 'train', **kwargs).get_batch(np.arange(64))['frames']
    test = get_dataset(name, 'test', **kwargs).get_batch(np.arange(64))['frames']
    first = lambda f: f[:, 0].reshape(len(f), -1)
    dist = np.abs(first(train)[:, None] - first(test)[None]).max(-1)
    self.assertGreater(dist.min(), 0.05)

  @parameterized.named_parameters(*ALL_SETS)
  def test_labels_cover_classes(self, name, kwargs, *_):
    ds = get_dataset(name, 'train', **kwargs)
    labels = ds.get_batch(np.arange(400))['labels'][:, 0]
    counts = np.bincount(labels, minlength=ds.num_classes)
    self.assertEqual(len(counts), ds.num_classes)
    self.assertGreater(counts.min(), 400 / ds.num_classes / 3)

  def test_options(self):
    ds = get_dataset('temporal_actions', 'test', num_classes=3, num_clips=10, channels=1,
                     resolution=48, frames_per_clip=6, noise=0.0, num_distractors=0)
    self.assertEqual((len(ds), ds.num_classes, ds.frame_shape), (10, 3, (48, 48, 1)))
    batch = ds.get_batch(np.arange(10))
    self.assertEqual(batch['frames'].shape, (10, 6, 48, 48, 1))
    self.assertLess(batch['labels'].max(), 3)
    self.assertEqual(ds[-1]['video_id'], 9)
    with self.assertRaises(IndexError):
      ds.get_batch([10])
    self.assertEqual(ds.get_batch([])['frames'].shape, (0, 6, 48, 48, 1))
    for level in synthetic.LEVELS:  # the largest settings still have enough random numbers
      big = get_dataset('temporal_actions', level=level, frames_per_clip=64, num_distractors=3)
      self.assertEqual(big.get_batch([0])['frames'].shape, (1, 64, 32, 32, 3))

  @parameterized.parameters(
      ('temporal_actions', dict(split='val'), 'split'),
      ('temporal_actions', dict(level='fast'), 'level'),
      ('temporal_actions', dict(num_classes=9), 'num_classes'),
      ('temporal_actions', dict(num_classes=1), 'num_classes'),
      ('temporal_actions', dict(num_clips=0), 'num_clips'),
      ('temporal_actions', dict(frames_per_clip=4), 'frames_per_clip'),
      ('temporal_actions', dict(level='motion', frames_per_clip=1), 'frames_per_clip'),
      ('temporal_actions', dict(resolution=-32), 'resolution'),
      ('temporal_actions', dict(channels=2), 'channels'),
      ('temporal_actions', dict(noise=-0.1), 'noise'),
      ('temporal_actions', dict(num_distractors=9), 'num_distractors'),
      ('appearance', dict(num_classes=11), 'num_classes'),
      ('appearance', dict(split='validation'), 'split'),
      ('moving_digits', dict(num_digits=3), 'num_digits'),
      ('moving_digits', dict(num_classes=11), 'num_classes'),
      ('moving_digits', dict(resolution=12), 'resolution'),
  )
  def test_bad_arguments(self, name, kwargs, argument):
    with self.assertRaisesRegex(ValueError, argument):
      get_dataset(name, **kwargs)

# ------------------------------------------------------------------- kept clips


# The tiny config's clips (16x16, 6 frames): there a clip's last bits depend on the clips
# rendered beside it, so the order of first draws would matter without aligned chunks.
_TINY = dict(level='motion', resolution=16, frames_per_clip=6, num_clips=40)


def _chunked(ds):
  """Every clip of `ds` rendered (not kept) by index-aligned chunks of RENDER_CHUNK."""
  n, step = len(ds), synthetic.RENDER_CHUNK
  return np.concatenate([ds.get_batch(np.arange(s, min(s + step, n)))['frames']
                         for s in range(0, n, step)])


def test_kept_clips_do_not_depend_on_the_order_they_are_drawn_in():
  """Kept clips are rendered by whole aligned chunks, however they are first drawn or
  whether `render_kept` renders them ahead: bitwise the chunk's rendering."""
  plain = get_dataset('temporal_actions', 'train', **_TINY)
  chunked = _chunked(plain)
  alone = np.concatenate([plain.get_batch([i])['frames'] for i in range(len(plain))])
  assert not np.array_equal(alone, chunked)  # the companions matter here: a real check
  drawn = get_dataset('temporal_actions', 'train', **_TINY).keep_rendered()
  for idx in ([17, 3], [39, 3, 0, 20], [5, 5]):
    np.testing.assert_array_equal(drawn.get_batch(idx)['frames'], chunked[idx])
  assert drawn._kept[2].sum() == 40  # chunks 0-15, 16-31 and 32-39
  partial = get_dataset('temporal_actions', 'train', **_TINY).render_kept([20])
  assert partial.kept_bytes > 0 and list(np.flatnonzero(partial._kept[2])) == list(range(16, 32))
  ahead = get_dataset('temporal_actions', 'train', **_TINY).render_kept()
  assert ahead._kept[2].all()
  for ds in (drawn, partial, ahead):
    np.testing.assert_array_equal(ds.get_batch(np.arange(40))['frames'], chunked)
  with pytest.raises(IndexError, match='clip index 40 out of range'):
    ahead.render_kept([40])


@pytest.mark.parametrize('resume_at', [1, 7, 13])
def test_a_resumed_iterator_over_kept_clips_gives_the_same_batches(resume_at):
  """A fresh dataset resumed mid-run (`batches(state=...)`) keeps and gives the very
  batches the uninterrupted run drew from its dataset, bitwise, without replaying them."""
  straight = list(batching.batches(
      get_dataset('temporal_actions', 'train', **_TINY).keep_rendered(), 3, num_epochs=3))
  first = batching.batches(get_dataset('temporal_actions', 'train', **_TINY), 3, num_epochs=3)
  for _ in range(resume_at):
    next(first)
  resumed = list(batching.batches(
      get_dataset('temporal_actions', 'train', **_TINY).keep_rendered(), 3, num_epochs=3,
      state=first.get_state()))
  assert len(resumed) == len(straight) - resume_at
  for want, got in zip(straight[resume_at:], resumed):
    for key in want:
      np.testing.assert_array_equal(got[key], want[key])


class SpeedTest(parameterized.TestCase):
  """temporal_actions(speed=s): the same clips with the actor moving s times as far."""

  def test_default_speed_is_the_reported_set_and_speed_scales_the_motion(self):
    base = get_dataset('temporal_actions', 'test', level='motion', num_clips=8,
                       num_distractors=0, noise=0.0)
    same = get_dataset('temporal_actions', 'test', level='motion', num_clips=8,
                       num_distractors=0, noise=0.0, speed=1.0)
    slow = get_dataset('temporal_actions', 'test', level='motion', num_clips=8,
                       num_distractors=0, noise=0.0, speed=0.25)
    a, b, c = (d.get_batch(np.arange(8))['frames'] for d in (base, same, slow))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, 0], c[:, 0])     # the same first frame
    np.testing.assert_allclose(c[:, 4], a[:, 1], atol=1e-5)  # 4 slow steps = 1 normal step

  def test_bad_speed(self):
    with self.assertRaisesRegex(ValueError, 'speed'):
      get_dataset('temporal_actions', 'test', level='motion', speed=0)
    with self.assertRaisesRegex(ValueError, 'motion'):
      get_dataset('temporal_actions', 'test', level='dynamics', speed=2.0)


def test_augmented_clips_keep_their_labels_and_depend_on_index_and_epoch():
  """`augment`: a shifted, turned, recoloured copy of the rendered clip, drawn per (index,
  epoch): the same in any batch and when drawn again, another one next epoch."""
  kw = dict(level='dynamics', num_clips=8)
  plain = get_dataset('temporal_actions', 'train', **kw).get_batch(np.arange(8))
  ds = get_dataset('temporal_actions', 'train', augment='roll,rot90,colors', **kw)
  a0 = ds.get_batch(np.arange(8), epoch=0)
  np.testing.assert_array_equal(a0['labels'], plain['labels'])  # dynamics: kept
  np.testing.assert_array_equal(ds.get_batch([5, 2], epoch=0)['frames'], a0['frames'][[5, 2]])
  a1 = ds.get_batch(np.arange(8), epoch=1)
  assert not np.array_equal(a0['frames'], a1['frames'])
  for n in range(8):  # each is one of the 4 x 6 x 32 x 32 transforms of the rendered clip
    found = []
    for k, order in itertools.product(range(4), itertools.permutations(range(3))):
      turned = np.rot90(plain['frames'][n], k, axes=(1, 2))[..., list(order)]
      # the shift that best aligns the first frames (circular cross-correlation), then exact
      corr = np.fft.ifft2(np.fft.fft2(a0['frames'][n, 0], axes=(0, 1)) * np.conj(
          np.fft.fft2(turned[0], axes=(0, 1))), axes=(0, 1)).real.sum(-1)
      shift = np.unravel_index(np.argmax(corr), corr.shape)
      found.append(np.array_equal(a0['frames'][n], np.roll(turned, shift, axis=(1, 2))))
    assert any(found), n
  kept = get_dataset('temporal_actions', 'train', augment='roll,rot90,colors',
                     **kw).keep_rendered()
  np.testing.assert_array_equal(kept.get_batch(np.arange(8), epoch=1)['frames'], a1['frames'])
  assert ds.config['augment'] == 'roll,rot90,colors'
  with pytest.raises(ValueError, match=r"augment='flip': give distinct names of roll"):
    get_dataset('temporal_actions', 'train', augment='flip', **kw)
  with pytest.raises(ValueError, match=r'rot90 needs square frames, these are 8x16'):
    synthetic.SyntheticClips(name='x', split='train', class_names=('a', 'b'),
                             frame_shape=(8, 16, 3), frames_per_clip=2, num_clips=1, seed=0,
                             render_fn=None, config={}, augment='rot90')


def test_quarter_turns_turn_the_translation_labels():
  """rot90 on `motion`: the estimated velocity of every turned clip (clean, no distractor)
  points along its new label's direction, as it does for the rendered ones."""
  ds = get_dataset('temporal_actions', 'train', num_clips=64, level='motion',
                   num_distractors=0, noise=0.0, augment='rot90')
  batch = ds.get_batch(np.arange(64), epoch=3)
  plain = get_dataset('temporal_actions', 'train', num_clips=64, level='motion',
                      num_distractors=0, noise=0.0).get_batch(np.arange(64))
  labels, before = batch['labels'][:, 0], plain['labels'][:, 0]
  np.testing.assert_array_equal(labels >= 4, before >= 4)
  np.testing.assert_array_equal(labels[before >= 4], before[before >= 4])
  assert (labels[before < 4] != before[before < 4]).any()  # some were turned
  v = np.median(controls.velocity_steps(batch['frames']), axis=1)
  for c, direction in enumerate(((1., 0.), (0., -1.), (-1., 0.), (0., 1.))):
    along = v[labels == c] @ np.array(direction)
    assert len(along) >= 4 and (along > 0.7).all(), (c, along)
