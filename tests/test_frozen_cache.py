"""sj.FrozenCache: frozen modules' outputs kept per clip give the same steps."""

import chex
import jax
import numpy as np
import optax
from absl.testing import absltest

import sideways_jax as sj
from test_engine import clip_batch, conv_net


def setup(skips='input', frozen=(1, 2), clips=4):
  trainer = sj.build(conv_net(5, skips), optax.adam(1e-2), sj.Classification(3),
                     frozen=frozen, update_every='clip')
  frames = jax.random.normal(jax.random.PRNGKey(3), (clips, 6, 5, 5, 4))
  batch = clip_batch(frames)
  return trainer, trainer.init(jax.random.PRNGKey(0), clip_batch(frames[:2])), batch


def sub(batch, rows):
  return {k: np.asarray(v)[list(rows)] for k, v in batch.items()}


class FrozenCacheTest(absltest.TestCase):

  def test_kept_clips_give_the_computed_values_and_the_same_steps(self):
    trainer, state, clips = setup()
    cache = sj.FrozenCache(trainer)
    plain = kept = state
    for rows in ((0, 1), (2, 3), (1, 0), (3, 2), (1, 2)):  # the last: kept clips, new pairing
      batch = sub(clips, rows)
      attached = cache.attach(state.params, batch)
      chex.assert_trees_all_close(attached['frozen_values'],
                                  trainer.frozen_values(state.params, batch), atol=0)
      plain, m_plain = trainer.step(plain, batch)
      kept, m_kept = trainer.step(kept, attached)
      chex.assert_trees_all_close(m_kept, m_plain, atol=1e-6)
    chex.assert_trees_all_close(kept.params, plain.params, atol=1e-6)
    self.assertEqual((cache.misses, cache.hits, len(cache)), (2, 3, 4))
    per_clip = 8 * 5 * 5 * 4 * 4  # module 2's output at 6 + 2 ticks, float32
    self.assertEqual(cache.bytes, 4 * per_clip)

  def test_a_changed_clip_is_a_new_entry_and_the_cap_holds(self):
    trainer, state, clips = setup()
    per_clip = 8 * 5 * 5 * 4 * 4
    cache = sj.FrozenCache(trainer, max_bytes=3 * per_clip)
    cache.attach(state.params, sub(clips, (0, 1)))
    flipped = sub(clips, (0, 1))
    flipped['frames'] = flipped['frames'][:, :, :, ::-1]  # augmentation: other frames
    attached = cache.attach(state.params, flipped)
    self.assertEqual((cache.misses, len(cache), cache.bytes), (2, 3, 3 * per_clip))  # full
    chex.assert_trees_all_close(attached['frozen_values'],
                                trainer.frozen_values(state.params, flipped), atol=0)
    cache.attach(state.params, sub(clips, (0, 1)))
    self.assertEqual(cache.hits, 1)

  def test_other_frozen_parameters_empty_it(self):
    trainer, state, clips = setup()
    cache = sj.FrozenCache(trainer)
    batch = sub(clips, (0, 1))
    cache.attach(state.params, batch)
    other = trainer.init(jax.random.PRNGKey(1), batch).params  # other frozen modules
    attached = cache.attach(other, batch)
    self.assertEqual((cache.misses, cache.hits, len(cache)), (2, 0, 2))
    chex.assert_trees_all_close(attached['frozen_values'],
                                trainer.frozen_values(other, batch), atol=0)
    learned = (state.params[0], state.params[1]) + tuple(
        jax.tree.map(lambda p: p + 1., p) for p in state.params[2:])
    cache.attach(learned, batch)  # learning modules changed, frozen ones not: still kept
    self.assertEqual(cache.misses, 3)
    cache.attach(learned, batch)
    self.assertEqual(cache.hits, 1)

  def test_only_with_frozen_values(self):
    trainer = sj.build(conv_net(3), optax.sgd(0.1), sj.Classification(3))
    with self.assertRaisesRegex(ValueError, 'no frozen_values.*frozen=\\(1'):
      sj.FrozenCache(trainer)
    with self.assertRaisesRegex(ValueError, 'max_bytes=-1'):
      sj.FrozenCache(setup()[0], max_bytes=-1)


if __name__ == '__main__':
  absltest.main()
