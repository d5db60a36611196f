"""The exact baselines against hand-unrolled references: per-frame backprop with windows of
N frames (values, not just shapes), and gpipe == backprop with one update per clip."""

from absl.testing import absltest
from absl.testing import parameterized
import chex
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj

TOL = dict(atol=1e-5, rtol=1e-5)
LR, MOMENTUM = 0.3, 0.9


def conv_net(skips='none'):
  convs = (lambda x: jax.nn.relu(sj.Conv2D(4, 3)(x)),
           lambda x: hk.max_pool(jax.nn.relu(sj.Conv2D(5, 3)(x)), (1, 2, 2, 1), (1, 2, 2, 1),
                                 'VALID'))
  head = lambda x: hk.Linear(3)(x.mean(axis=(1, 2)))
  return sj.Network(convs + (head,)).with_skips(skips)


def clip_batch(t=7, seed=0):
  rng = np.random.RandomState(seed)
  return {'frames': rng.normal(size=(2, t, 6, 6, 3)).astype(np.float32),
          'labels': np.repeat(rng.randint(0, 3, (2, 1)), t, 1).astype(np.int32),
          'video_ids': np.repeat(np.arange(2)[:, None], t, 1).astype(np.int32)}


def reference_backprop(net, params, batch, every):
  """A Python loop: each frame's own jax.grad of the same-frame network (mean CE over the
  batch), summed over windows of `every` frames from frame 0 (the last window closes at
  the clip's last frame) and averaged; SGD with heavy-ball momentum at each window end."""
  frames, labels = batch['frames'], batch['labels']
  num_frames = frames.shape[1]
  every = num_frames if every == 'clip' else every

  def frame_loss(p, t):
    logits = sj.same_frame_forward(net, p, jnp.asarray(frames[:, t]))[-1]
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels[:, t]).mean()

  params = list(params)
  velocity = [jax.tree.map(jnp.zeros_like, p) for p in params]
  window = []
  for t in range(num_frames):
    window.append(jax.grad(frame_loss)(tuple(params), t))
    if (t + 1) % every == 0 or t == num_frames - 1:
      for k in range(len(params)):
        mean = jax.tree.map(lambda *g: sum(g) / len(g), *[w[k] for w in window])
        velocity[k] = jax.tree.map(lambda v, m: m + MOMENTUM * v, velocity[k], mean)
        params[k] = jax.tree.map(lambda p, v: p - LR * v, params[k], velocity[k])
      window = []
  return tuple(params), tuple(velocity)


class BackpropTest(parameterized.TestCase):

  @parameterized.product(every=[1, 3, 'clip'], skips=['none', 'input'])
  def test_windows_of_frames_equal_the_unrolled_reference(self, every, skips):
    net = conv_net(skips)
    batch = clip_batch()
    trainer = sj.build(net, optax.sgd(LR, momentum=MOMENTUM), sj.Classification(3),
                       algorithm='backprop', update_every=every)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    want_params, want_velocity = reference_backprop(net, state.params, batch, every)
    state, _ = trainer.step(state, batch)
    chex.assert_trees_all_close(state.params, want_params, **TOL)
    for k in range(net.num_modules):
      chex.assert_trees_all_close(jax.tree.leaves(state.opt_state[k]),
                                  jax.tree.leaves(want_velocity[k]), **TOL)

  def test_a_window_closing_one_frame_late_is_caught(self):
    # The reference with windows of 4 differs from the engine's windows of 3.
    net = conv_net()
    batch = clip_batch()
    trainer = sj.build(net, optax.sgd(LR, momentum=MOMENTUM), sj.Classification(3),
                       algorithm='backprop', update_every=3)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    late, _ = reference_backprop(net, state.params, batch, 4)
    state, _ = trainer.step(state, batch)
    diff = max(float(jnp.abs(a - b).max()) for a, b in
               zip(jax.tree.leaves(state.params), jax.tree.leaves(late)))
    self.assertGreater(diff, 1e-3)


class GpipeTest(parameterized.TestCase):

  @parameterized.parameters('none', 'input', 'two_below:aligned')
  def test_gpipe_equals_backprop_with_one_update_per_clip(self, skips):
    net = conv_net(skips)
    batch = clip_batch()
    optimizer = optax.adam(1e-2)
    gpipe = sj.build(net, optimizer, sj.Classification(3), algorithm='gpipe')
    backprop = sj.build(net, optimizer, sj.Classification(3), algorithm='backprop',
                        update_every='clip')
    a = gpipe.init(jax.random.PRNGKey(0), batch)
    b = backprop.init(jax.random.PRNGKey(0), batch)
    for seed in range(2):
      a, ma = gpipe.step(a, clip_batch(seed=seed))
      b, mb = backprop.step(b, clip_batch(seed=seed))
      np.testing.assert_allclose(float(ma['loss']), float(mb['loss']), **TOL)
    chex.assert_trees_all_close(a.params, b.params, **TOL)
    chex.assert_trees_all_close(a.opt_state, b.opt_state, **TOL)

  def test_gpipe_frame_prediction_equals_backprop(self):
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1))
    rng = np.random.RandomState(0)
    batch = {'frames': rng.rand(2, 5, 8, 8, 1).astype(np.float32),
             'labels': np.zeros((2, 5), np.int32),
             'video_ids': np.repeat(np.arange(2)[:, None], 5, 1).astype(np.int32)}
    gpipe = sj.build(net, optax.sgd(0.5), sj.FramePrediction(), algorithm='gpipe')
    backprop = sj.build(net, optax.sgd(0.5), sj.FramePrediction(), algorithm='backprop',
                        update_every='clip')
    a, _ = gpipe.step(gpipe.init(jax.random.PRNGKey(0), batch), batch)
    b, _ = backprop.step(backprop.init(jax.random.PRNGKey(0), batch), batch)
    chex.assert_trees_all_close(a.params, b.params, **TOL)


if __name__ == '__main__':
  absltest.main()
