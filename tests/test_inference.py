"""Streaming inference (algorithm='infer'): forward only, one output per tick, the buffers
carried across calls; placed inference equals unplaced, and its outputs are the frame
clock's (what evaluation scores)."""

from absl.testing import absltest
import chex
import jax
import numpy as np
import optax

import sideways_jax as sj
from test_placement import TOL, clip_batch, conv_net


class InferenceTest(absltest.TestCase):

  def test_placed_inference_equals_unplaced_across_calls(self):
    net = conv_net(4, skips='input')
    batches = [clip_batch(frames=4, seed=i) for i in range(2)]
    shape = batches[0]['frames'][:, 0].shape
    task = sj.Classification(3)
    local = sj.build(net, optax.identity(), task, algorithm='infer', stream=True)
    placed = sj.build(net, optax.identity(), task, algorithm='infer', stream=True,
                      placement=sj.place(net, sj.make_mesh(2, 2), frame_shape=shape))
    state = local.init(jax.random.PRNGKey(0), batches[0])
    placed_state = placed.place(state, shape)
    valid = []
    for batch in batches:
      state, want = local.step(state, batch)
      placed_state, got = placed.step(placed_state, batch)
      self.assertEqual(got['outputs'].shape, (4, 4, 3))
      np.testing.assert_array_equal(got['valid'], want['valid'])
      chex.assert_trees_all_close(got['outputs'], want['outputs'], **TOL)
      valid.append(np.asarray(want['valid']))
    # The main path fills after K - 1 = 3 ticks, and the buffers carry into the next call.
    np.testing.assert_array_equal(np.concatenate(valid), [0, 0, 0, 1, 1, 1, 1, 1])
    chex.assert_trees_all_close(placed.unplace(placed_state).pipeline, state.pipeline, **TOL)
    # Nothing is trained; what comes out is the frame clock's forward (evaluation's).
    chex.assert_trees_all_close(state.params, local.init(jax.random.PRNGKey(0),
                                                         batches[0]).params)


if __name__ == '__main__':
  absltest.main()
