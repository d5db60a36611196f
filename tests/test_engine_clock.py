"""Engine checks of the frame clock: diagnostics, bptt vs float64 jax.grad of a Python-unrolled
clock, warm-up, metadata across video boundaries, every algorithm, the options."""

from absl.testing import absltest
from absl.testing import parameterized
import chex
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj
from sideways_jax import diagnostics
from test_engine import clip_batch, conv_net, with_heads


def unrolled_clock_loss(net, params, frames, labels):
  """A Python-unrolled frame clock (explicit delays, no scan): mean CE over valid outputs."""
  fns = net.apply_fns()
  num_modules, num_ticks = net.num_modules, frames.shape[1]
  a = {0: {t: frames[:, t] for t in range(num_ticks)}}
  total, count = 0., 0
  for t in range(num_ticks):
    for k in range(1, num_modules + 1):
      edges = net.inputs(k)
      if all(t - e.delay in a.get(e.source, {}) for e in edges):
        ins = [a[e.source][t - e.delay] for e in edges]
        a.setdefault(k, {})[t] = fns[k - 1](params[k - 1], *ins)
    if t in a.get(num_modules, {}):
      total += optax.softmax_cross_entropy_with_integer_labels(
          a[num_modules][t], labels).sum()
      count += labels.shape[0]
  return total / count


class DiagnosticsTest(parameterized.TestCase):
  """`sj.diagnostics.gradient_agreement`: Sideways vs bptt, module by module."""

  def _report(self, net, **kwargs):
    frames = jax.random.normal(jax.random.PRNGKey(3), (2, 9, 5, 5, 4))
    batch = clip_batch(frames)
    params = sj.build(net, optax.sgd(0.), sj.Classification(3)).init(
        jax.random.PRNGKey(0), batch).params
    return diagnostics.gradient_agreement(net, sj.Classification(3), params, batch,
                                          **kwargs)

  def test_static_clips_agree_with_bptt_and_moving_clips_do_not(self):
    net = conv_net(4)
    static = self._report(net, static=True)
    np.testing.assert_allclose(static['cosine'], 1., atol=1e-4)
    moving = self._report(net)
    self.assertEqual(moving['cosine'].shape, (4,))
    self.assertLess(float(moving['cosine'][:3].min()), 0.999)  # white noise: no agreement
    np.testing.assert_allclose(moving['cosine'][3], 1., atol=1e-4)  # the top is exact

  def test_with_local_heads_the_body_is_compared_against_bptt_of_the_top_loss(self):
    plain = self._report(conv_net(4), static=True)
    tiny = self._report(with_heads(conv_net(4), (2, 3), 1e-6), static=True)
    np.testing.assert_allclose(tiny['cosine'], 1., atol=1e-4)
    np.testing.assert_allclose(tiny['bptt_norm'], plain['bptt_norm'], rtol=1e-5)
    heavy = self._report(with_heads(conv_net(4), (2, 3), 10.), static=True)
    self.assertLess(float(heavy['cosine'][2]), 0.99)  # the head's term turns module 3's
    np.testing.assert_allclose(heavy['cosine'][3], 1., atol=1e-4)


class BpttTest(parameterized.TestCase):

  @parameterized.parameters('none', 'input:fresh:project', 'two_below:aligned:project',
                            'dense:fresh:project')
  def test_bptt_equals_float64_unrolled_grad(self, skips):
    with jax.enable_x64(True):
      net = conv_net(4, skips)
      frames = jax.random.normal(jax.random.PRNGKey(3), (2, 7, 5, 5, 4), jnp.float64)
      batch = clip_batch(frames)
      batch['frames'] = frames
      trainer = sj.build(net, optax.sgd(1.0), sj.Classification(3), algorithm='bptt')
      state = trainer.init(jax.random.PRNGKey(0), batch)
      new_state, _ = trainer.step(state, batch)
      got = jax.tree.map(lambda a, b: a - b, state.params, new_state.params)  # = grad (sgd 1)
      expected = jax.grad(unrolled_clock_loss, argnums=1)(
          net, state.params, frames, batch['labels'][:, 0])
      self.assertEqual(jax.tree.leaves(got)[0].dtype, jnp.float64)
      chex.assert_trees_all_close(got, expected, atol=1e-10, rtol=1e-8)


class WarmUpTest(parameterized.TestCase):

  @parameterized.parameters('none', 'input', 'two_below')
  def test_no_change_before_first_valid_gradient(self, skips):
    net = conv_net(3, skips)
    optimizer = optax.adam(1e-2)
    frames = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5, 5, 4))
    batch = clip_batch(frames)
    trainer = sj.build(net, optimizer, sj.Classification(3), drain=True, diagnostics=True)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    _, metrics = trainer.step(state, batch)
    trace = metrics['trace']
    for k, tick in enumerate(trace['ticks']):
      valid = np.asarray(tick.grads_valid)
      first = int(np.argmax(valid))
      self.assertTrue(valid.any())
      stepped = np.asarray(trace['stepped'][:, k])
      self.assertFalse(stepped[:first].any(), f'module {k + 1} stepped before tick {first}')
      np.testing.assert_array_equal(stepped, valid)  # update_every=1: a step per valid g
    # Without skips, module k's delta is first valid at tick (K-1) + (K-k).
    if skips == 'none':
      firsts = [int(np.argmax(np.asarray(t.grads_valid))) for t in trace['ticks']]
      self.assertEqual(firsts, [4, 3, 2])

  def test_module_without_valid_gradient_keeps_params_and_optimizer_state(self):
    net = conv_net(3)
    frames = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 5, 5, 4))
    batch = clip_batch(frames)
    # T = K = 3 without drain: module 1's first valid delta (tick 4) never comes.
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), drain=False)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    new_state, _ = trainer.step(state, batch)
    chex.assert_trees_all_equal(new_state.params[0], state.params[0])
    chex.assert_trees_all_equal(new_state.opt_state[0], state.opt_state[0])
    self.assertFalse(np.allclose(new_state.params[2]['linear']['w'],
                                 state.params[2]['linear']['w']))


class MetadataTest(parameterized.TestCase):

  @parameterized.parameters('none', 'input', 'two_below:aligned')
  def test_no_output_mixing_two_videos_reaches_a_loss(self, skips):
    net = conv_net(3, skips)
    t = 9
    frames = jax.random.normal(jax.random.PRNGKey(0), (2, t, 5, 5, 4))
    # Lane 0 changes video at frame 4, lane 1 at frame 6; labels differ per video.
    video_ids = np.array([[10] * 4 + [11] * 5, [20] * 6 + [21] * 3])
    labels = np.where(video_ids % 2 == 0, 0, 2)
    batch = clip_batch(frames, labels, video_ids)
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), stream=True,
                       diagnostics=True)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    _, metrics = trainer.step(state, batch)
    top = metrics['trace']['ticks'][-1].activation
    mask = np.asarray(metrics['trace']['loss'].mask)
    used = 0
    for tick in range(t):
      lo, hi = int(top.oldest[tick]), int(top.newest[tick])
      for b in range(2):
        single = len(set(video_ids[b, lo:hi + 1])) == 1
        if mask[tick, b]:
          used += 1
          self.assertTrue(single, f'tick {tick} lane {b} mixes frames {lo}..{hi}')
          self.assertEqual(int(top.label[tick, b]), labels[b, lo])
        elif bool(top.valid[tick]):
          self.assertFalse(single, f'tick {tick} lane {b}: a single-video output was dropped')
    self.assertGreater(used, 0)

  def test_stream_continues_the_clock(self):
    net = conv_net(3)
    frames = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 5, 5, 4))
    batch = clip_batch(frames)
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), stream=True,
                       diagnostics=True)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    state, m1 = trainer.step(state, batch)
    state, m2 = trainer.step(state, batch)
    self.assertEqual(int(state.clock), 8)
    # In the second chunk the top is valid from its first tick (buffers carried over).
    self.assertTrue(bool(m2['trace']['ticks'][-1].activation.valid[0]))
    self.assertFalse(bool(m1['trace']['ticks'][-1].activation.valid[0]))


class AlgorithmsTest(parameterized.TestCase):

  # Every algorithm on every skip pattern; update_every alternates between 1 and 3 along
  # both (a Latin pairing: each algorithm meets both schedules, each pattern meets both
  # with two algorithms each), at half the full product's compile time.
  @parameterized.parameters(
      *[(algorithm, skips, 1 + 2 * ((i + j) % 2))
        for i, algorithm in enumerate(sj.ALGORITHMS)
        for j, skips in enumerate(['none', 'input', 'dense'])])
  def test_every_algorithm_runs_on_every_skip_pattern(self, algorithm, skips, update_every):
    net = sj.models.vgg('tiny', num_classes=3, skips=skips)
    frames = jax.random.uniform(jax.random.PRNGKey(0), (2, 6, 8, 8, 3))
    batch = clip_batch(frames)
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), algorithm=algorithm,
                       update_every=update_every)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    new_state, metrics = trainer.step(state, batch)
    self.assertTrue(np.isfinite(float(metrics['loss'])))
    changed = jax.tree.map(lambda a, b: not np.allclose(a, b), new_state.params[-1],
                           state.params[-1])
    self.assertTrue(any(jax.tree.leaves(changed)), 'the top module never stepped')
    evaluation = trainer.evaluate(new_state.params, batch)
    self.assertBetween(float(evaluation['clip_accuracy']), 0., 1.)

  @parameterized.parameters('sideways', 'bptt', 'backprop')
  def test_frame_prediction(self, algorithm):
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1))
    frames = jax.random.uniform(jax.random.PRNGKey(0), (2, 6, 8, 8, 1))
    batch = clip_batch(frames)
    trainer = sj.build(net, optax.adam(1e-2), sj.FramePrediction(), algorithm=algorithm)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    state, metrics = trainer.step(state, batch)
    evaluation = trainer.evaluate(state.params, batch)
    for key in ('mse', 'psnr', 'ssim', 'copy_last_mse', 'copy_last_psnr'):
      self.assertTrue(np.isfinite(float(evaluation[key])), key)
    # The copy-last baseline really compares each frame with the one before it.
    diffs = [float(jnp.square(frames[:, t + 1] - frames[:, t]).mean()) for t in range(5)]
    self.assertBetween(float(evaluation['copy_last_mse']), min(diffs) - 1e-6,
                       max(diffs) + 1e-6)

  def test_psnr_stays_finite_when_a_frame_is_predicted_exactly(self):
    # A still clip: copy-last is exact on every frame, so its PSNR is the 100 dB cap.
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1))
    still = jnp.broadcast_to(jax.random.uniform(jax.random.PRNGKey(0), (2, 1, 8, 8, 1)),
                             (2, 6, 8, 8, 1))
    trainer = sj.build(net, optax.adam(1e-2), sj.FramePrediction(), algorithm='sideways')
    state = trainer.init(jax.random.PRNGKey(0), clip_batch(still))
    evaluation = trainer.evaluate(state.params, clip_batch(still))
    self.assertEqual(float(evaluation['copy_last_mse']), 0.)
    self.assertAlmostEqual(float(evaluation['copy_last_psnr']), 100., places=3)
    self.assertTrue(np.isfinite(float(evaluation['psnr'])))

  def test_prediction_target_is_next_frame(self):
    # A frame-clock output at tick t mixes frame t-K+1; its target is frame t-K+2. A
    # decoder that outputs zeros has mse = mean(target^2).
    net = sj.Network((lambda x: x * 0. + 0. * hk.get_parameter('s', (), init=jnp.zeros),
                      lambda x: x * 1.))
    frames = jnp.arange(6, dtype=jnp.float32)[None, :, None, None, None] / 10 * jnp.ones(
        (1, 6, 2, 2, 1))
    trainer = sj.build(net, optax.sgd(0.1), sj.FramePrediction())
    state = trainer.init(jax.random.PRNGKey(0), clip_batch(frames))
    evaluation = trainer.evaluate(state.params, clip_batch(frames))
    # Outputs at ticks 1..5 mix frames 0..4; targets 1..5: mse = mean(k^2, k=1..5).
    self.assertAlmostEqual(float(evaluation['mse']),
                           float(np.mean((np.arange(1, 6) / 10) ** 2)), places=5)
    self.assertAlmostEqual(float(evaluation['copy_last_mse']), 0.01, places=5)


class OptionsTest(parameterized.TestCase):

  def test_update_every_clip_steps_every_module_once_at_the_last_tick(self):
    net = conv_net(3, 'input')
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5, 5, 4)))
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), update_every='clip',
                       diagnostics=True)
    _, metrics = trainer.step(trainer.init(jax.random.PRNGKey(0), batch), batch)
    stepped = np.asarray(metrics['trace']['stepped'])   # [T + K - 1, K]
    self.assertEqual(stepped.shape, (6 + 2, 3))
    np.testing.assert_array_equal(stepped.sum(0), [1, 1, 1])
    self.assertTrue(stepped[-1].all())

  @parameterized.parameters('sideways', 'bptt', 'backprop', 'gpipe')
  def test_diagnostics_for_every_algorithm(self, algorithm):
    net = conv_net(3)
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 5, 4)))
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), algorithm=algorithm,
                       diagnostics=True)
    _, metrics = trainer.step(trainer.init(jax.random.PRNGKey(0), batch), batch)
    trace = metrics['trace']
    if algorithm == 'sideways':
      self.assertLen(trace['ticks'], 3)
    else:  # the gradient each module applied (per frame for backprop)
      self.assertLen(trace['grads'], 3)
      self.assertTrue(any(float(jnp.abs(x).sum()) > 0 for x in jax.tree.leaves(trace['grads'])))

  @parameterized.parameters('sideways', 'bptt', 'backprop', 'gpipe')
  def test_float64_frames(self, algorithm):
    with jax.enable_x64(True):
      net = conv_net(3, 'input')
      frames = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 5, 4), jnp.float64)
      batch = clip_batch(frames)
      batch['frames'] = frames
      trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), algorithm=algorithm)
      state = trainer.init(jax.random.PRNGKey(0), batch)
      state, metrics = trainer.step(state, batch)
      self.assertEqual(metrics['loss'].dtype, jnp.float64)
      self.assertEqual(jax.tree.leaves(state.params)[0].dtype, jnp.float64)


if __name__ == '__main__':
  absltest.main()
