"""Bad input: every misuse of `build`, `init` and `step` raises an error naming the problem."""

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj
from test_engine import clip_batch, conv_net


class BadInputTest(parameterized.TestCase):

  def test_empty_network(self):
    with self.assertRaisesRegex(ValueError, 'empty'):
      sj.Network(())

  def test_skip_shapes_without_projection(self):
    net = sj.models.vgg('tiny', skips='input:fresh:sum')
    with self.assertRaisesRegex(ValueError, r'skip 0->2.*project'):
      net.init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))

  def test_unknown_combine_rule_names_the_edge(self):
    with self.assertRaisesRegex(ValueError, r'skip 0->2.*combine'):
      sj.Network((lambda x: x, lambda x: x), skips=[sj.SkipEdge(0, 2, 'fresh', 'concat')])

  def test_unknown_kind(self):
    with self.assertRaisesRegex(ValueError, r'skip 0->2.*kind'):
      sj.Network((lambda x: x, lambda x: x), skips=[sj.SkipEdge(0, 2, 'stale', 'sum')])

  @parameterized.parameters('sometimes', 'input:late', 'input:fresh:concat', 'a:b:c:d',
                            'input:fresh-x', 'input:late-1')
  def test_unknown_skip_pattern(self, name):
    with self.assertRaisesRegex(ValueError, f'{name!r}'):
      sj.skip_pattern(name, 3)

  def test_older_skips_add_their_frames_to_the_kinds_delay(self):
    net = conv_net(4, 'input:aligned-2+1>3:fresh-1')
    delays = {(e.source, k): e.delay for k in (2, 3, 4) for e in net.inputs(k)[1:]}
    # aligned from the input: k - 1, plus 2; fresh from module 1: 1, plus 1.
    self.assertEqual(delays, {(0, 2): 3, (0, 3): 4, (0, 4): 5, (1, 3): 2})
    self.assertEqual(net.fifo_length(0), 5)
    self.assertEqual(sj.skip_pattern('0>2:fresh-1:sum', 3),
                     (sj.SkipEdge(0, 2, 'fresh', 'sum', 1),))

  def test_taps_feed_one_source_at_several_delays(self):
    self.assertEqual(sj.skip_pattern('1>3:fresh-0/2/5', 3),
                     tuple(sj.SkipEdge(1, 3, 'fresh', 'project', o) for o in (0, 2, 5)))
    # An edge is (source, target, delay): naming one again keeps the first spelling; the
    # same source at another delay is another tap.
    self.assertEqual(sj.skip_pattern('1>3:fresh-1:sum+1>3:aligned+1>3:fresh-2', 3),
                     (sj.SkipEdge(1, 3, 'fresh', 'sum', 1), sj.SkipEdge(1, 3, 'fresh',
                                                                        'project', 2)))
    net = conv_net(4, '1>4:fresh-0/3:bilinear+0>2')
    self.assertEqual([(e.source, e.delay) for e in net.inputs(4)], [(3, 1), (1, 1), (1, 4)])
    self.assertEqual(net.fifo_length(1), 4)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))
    # Parameters of their own for each tap, named by its delay; a lone skip keeps its name.
    self.assertEqual(sorted(k for k in params[3] if k.startswith('skip')),
                     ['skip_from_1_d1_gate/proj', 'skip_from_1_d4_gate/proj'])
    self.assertEqual(sorted(k for k in params[1] if k.startswith('skip')),
                     ['skip_from_0/proj'])
    with self.assertRaisesRegex(ValueError, r'skip 1->3 at delay 2 is given twice'):
      sj.Network((lambda x: x,) * 3, skips=[sj.SkipEdge(1, 3, 'fresh', 'sum', 1),
                                           sj.SkipEdge(1, 3, 'fresh', 'sum', 1)])

  def test_detached_skips_carry_no_gradient_to_their_source(self):
    self.assertEqual(sj.skip_pattern('1>3:fresh-0/2:sum:detach', 3),
                     tuple(sj.SkipEdge(1, 3, 'fresh', 'sum', o, True) for o in (0, 2)))
    with self.assertRaisesRegex(ValueError, r"PATTERN\[:KIND\[:COMBINE\[:detach\]\]\]"):
      sj.skip_pattern('1>3:fresh:sum:nograd', 3)
    with self.assertRaisesRegex(ValueError, r'skip 1->3: detach=1 must be True or False'):
      sj.Network((lambda x: x,) * 3, skips=[sj.SkipEdge(1, 3, 'fresh', 'sum', 0, 1)])
    # Module 3 reads module 1 through a skip: detached, module 1's output gets no gradient
    # from it (module 2, the main input, still does).
    for detach, reaches in ((False, True), (True, False)):
      net = sj.Network((lambda x: x + 1., lambda x: x * 2., lambda x: x),
                       skips=[sj.SkipEdge(1, 3, 'fresh', 'sum', 0, detach)])
      x = jnp.ones((1, 2, 2, 3))
      params = net.init(jax.random.PRNGKey(0), x)
      grads = jax.grad(lambda m, s: net.apply_fns()[2](params[2], m, s).sum(),
                       argnums=(0, 1))(x, x)
      self.assertTrue(np.all(grads[0] == 1.))
      self.assertEqual(bool(np.any(grads[1])), reaches)

  @parameterized.parameters('1>3:fresh-2/2', '1>3:fresh-1/', '1>3:fresh-/1')
  def test_bad_taps(self, name):
    with self.assertRaisesRegex(ValueError, r"distinct numbers joined by '/'"):
      sj.skip_pattern(name, 3)

  def test_bilinear_combine_adds_the_product_of_its_inputs(self):
    self.assertEqual(sj.skip_pattern('1>-1:fresh-8:bilinear', 4),
                     (sj.SkipEdge(1, 4, 'fresh', 'bilinear', 8),))
    # Module 3 reads module 2 (main) and module 1 (skip), both 2x2x3: equal shapes, so the
    # skip's plain projection is the identity and only its gate has parameters.
    net = sj.Network(modules=(lambda x: x + 1., lambda x: x * 2., lambda x: x),
                     skips=[sj.SkipEdge(1, 3, 'fresh', 'bilinear')])
    x = jnp.arange(12.).reshape(1, 2, 2, 3)
    params = net.init(jax.random.PRNGKey(0), x)
    gate = params[2]['skip_from_1_gate/proj']
    self.assertEqual(sorted(params[2]), ['skip_from_1_gate/proj'])
    main, skip = x * 2., x + 1.   # stand-ins for module 2's and module 1's outputs
    got = net.apply_fns()[2](params[2], main, skip)
    want = main + skip + main * (jnp.einsum('bhwc,cd->bhwd', skip, gate['w'][0, 0]) + gate['b'])
    chex.assert_trees_all_close(got, want, atol=1e-6)
    self.assertFalse(np.allclose(got, main + skip))

  def test_input_below_top_is_legal_for_prediction(self):
    self.assertEqual(sj.skip_pattern('input_below_top', 5),
                     tuple(sj.SkipEdge(0, k) for k in (2, 3, 4)))
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1),
                        skips='input_below_top')
    self.assertEqual(net.newest_lag(3), 1)  # module 2 reads x[t]; the top reads it at t + 1
    self.assertEqual(sj.FramePrediction().history_length(net), 2)

  def test_negative_older_is_refused(self):
    with self.assertRaisesRegex(ValueError, r'skip 0->2: older=-1'):
      sj.Network((lambda x: x, lambda x: x), skips=[sj.SkipEdge(0, 2, 'fresh', 'sum', -1)])

  def test_bad_skip_source(self):
    with self.assertRaisesRegex(ValueError, r'skip 1->2'):
      sj.Network((lambda x: x, lambda x: x), skips=[sj.SkipEdge(1, 2)])

  def test_frames_of_the_wrong_shape(self):
    net = conv_net(3)
    batch = clip_batch(jnp.zeros((2, 4, 5, 5, 4)))
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3))
    state = trainer.init(jax.random.PRNGKey(0), batch)
    # Another channel count changes the parameter shapes: refused, step and evaluate alike.
    with self.assertRaisesRegex(ValueError, r'frames have shape \(2, 4, 5, 5, 3\)'):
      trainer.step(state, clip_batch(jnp.zeros((2, 4, 5, 5, 3))))
    with self.assertRaisesRegex(ValueError, r'frames have shape \(2, 4, 5, 5, 3\)'):
      trainer.evaluate(state.params, clip_batch(jnp.zeros((2, 4, 5, 5, 3))))
    # A fully convolutional net takes another frame size and batch size (clips reset).
    _, metrics = trainer.step(state, clip_batch(jnp.zeros((3, 4, 6, 5, 4))))
    self.assertTrue(np.isfinite(float(metrics['loss'])))

  def test_stream_keeps_its_batch_size(self):
    net = conv_net(3)
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), stream=True)
    state = trainer.init(jax.random.PRNGKey(0), clip_batch(jnp.zeros((2, 4, 5, 5, 4))))
    with self.assertRaisesRegex(ValueError, 'batch size 2'):
      trainer.step(state, clip_batch(jnp.zeros((3, 4, 5, 5, 4))))

  @parameterized.parameters('step', 'evaluate')
  def test_labels_of_the_wrong_shape(self, fn):
    net = conv_net(3)
    batch = clip_batch(jnp.zeros((2, 4, 5, 5, 4)))
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3))
    state = trainer.init(jax.random.PRNGKey(0), batch)
    bad = dict(batch, labels=jnp.zeros((2, 3), jnp.int32))
    with self.assertRaisesRegex(ValueError, r'labels have shape \(2, 3\)'):
      if fn == 'step':
        trainer.step(state, bad)
      else:
        trainer.evaluate(state.params, bad)

  def test_integer_frames(self):
    trainer = sj.build(conv_net(3), optax.sgd(0.1), sj.Classification(3))
    batch = clip_batch(jnp.zeros((2, 4, 5, 5, 4)))
    with self.assertRaisesRegex(ValueError, 'floating-point'):
      trainer.init(jax.random.PRNGKey(0), dict(batch, frames=jnp.zeros((2, 4, 5, 5, 4),
                                                                       jnp.uint8)))

  @parameterized.parameters('sideways', 'bptt', 'backprop', 'gpipe')
  def test_nan_never_reaches_the_parameters(self, algorithm):
    net = conv_net(3)
    frames = np.random.RandomState(0).randn(2, 6, 5, 5, 4).astype(np.float32)
    frames[1, 2:] = np.nan  # one lane goes bad from frame 2 on
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), algorithm=algorithm)
    batch = clip_batch(frames)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    new_state, metrics = trainer.step(state, batch)
    module, tick = int(metrics['nonfinite_module']), int(metrics['nonfinite_tick'])
    self.assertBetween(module, 1, 3)
    self.assertGreaterEqual(tick, 0)
    for leaf in jax.tree.leaves((new_state.params, new_state.opt_state)):
      self.assertTrue(np.isfinite(np.asarray(leaf)).all())
    # A clean batch reports nothing.
    _, metrics = trainer.step(state, clip_batch(np.nan_to_num(frames)))
    self.assertEqual((int(metrics['nonfinite_module']), int(metrics['nonfinite_tick'])),
                     (0, -1))

  def test_nan_first_met_names_module_and_tick(self):
    # Sideways, no skips, K = 3: frame 2 enters module 1 at tick 2 (no valid delta there
    # until tick 4), module 2 at tick 3, whose delta is valid from tick (K-1)+(K-2) = 3:
    # its VJP at the NaN input is the first non-finite gradient.
    frames = np.random.RandomState(0).randn(2, 6, 5, 5, 4).astype(np.float32)
    frames[:, 2] = np.nan
    trainer = sj.build(conv_net(3), optax.sgd(0.1), sj.Classification(3))
    batch = clip_batch(frames)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    _, metrics = trainer.step(state, batch)
    self.assertEqual((int(metrics['nonfinite_module']), int(metrics['nonfinite_tick'])),
                     (2, 3))

  def test_a_plain_list_is_not_a_network(self):
    with self.assertRaisesRegex(TypeError, r'sj.Network\(modules='):
      sj.build([lambda x: x], optax.sgd(0.1), sj.Classification(3))

  def test_output_width_must_match_the_classes(self):
    trainer = sj.build(conv_net(3, classes=4), optax.sgd(0.1), sj.Classification(3))
    with self.assertRaisesRegex(ValueError, r'outputs shape \(2, 4\).*num_classes=3'):
      trainer.init(jax.random.PRNGKey(0), clip_batch(jnp.zeros((2, 4, 5, 5, 4))))

  @parameterized.parameters(3, -1)
  def test_labels_outside_the_classes(self, bad):
    trainer = sj.build(conv_net(3), optax.sgd(0.1), sj.Classification(3))
    batch = clip_batch(np.zeros((2, 4, 5, 5, 4), np.float32))
    state = trainer.init(jax.random.PRNGKey(0), batch)
    labels = np.zeros((2, 4), np.int32)
    labels[1, 2] = bad
    with self.assertRaisesRegex(ValueError, r'labels must lie in \[0, 2\]'):
      trainer.step(state, dict(batch, labels=labels))
    with self.assertRaisesRegex(ValueError, r'labels must lie in \[0, 2\]'):
      trainer.evaluate(state.params, dict(batch, labels=labels))

  def test_unknown_algorithm(self):
    with self.assertRaisesRegex(ValueError, 'algorithm'):
      sj.build(conv_net(2), optax.sgd(0.1), sj.Classification(3), algorithm='gpipe2')

  def test_prediction_with_fresh_input_skip_into_top(self):
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1), skips='input')
    with self.assertRaisesRegex(ValueError, 'aligned input skip'):
      sj.build(net, optax.sgd(0.1), sj.FramePrediction())

  def test_prediction_with_an_input_skip_one_frame_old_into_top(self):
    # x[t-1] into the top is the newest frame it may see: its target x[t] has arrived.
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1), skips='0>3:fresh-1')
    self.assertEqual(net.newest_lag(3), 1)
    self.assertEqual(sj.FramePrediction().history_length(net), 2)
    trainer = sj.build(net, optax.sgd(0.1), sj.FramePrediction())
    frames = jax.random.uniform(jax.random.PRNGKey(0), (2, 5, 8, 8, 1))
    state = trainer.init(jax.random.PRNGKey(0), clip_batch(frames))
    _, metrics = trainer.step(state, clip_batch(frames))
    self.assertTrue(np.isfinite(float(metrics['loss'])))
    # The main path fills at tick 2; ticks 2-4 output with newest frame t - 1 = 1..3, so
    # the copy-last baseline is frames 1..3 against targets 2..4, per example.
    ev = trainer.evaluate(state.params, clip_batch(frames))
    self.assertEqual(float(ev['num_outputs']), 6.)
    np.testing.assert_allclose(float(ev['copy_last_mse']),
                               float(jnp.square(frames[:, 1:4] - frames[:, 2:5]).mean()),
                               rtol=1e-5)


if __name__ == '__main__':
  absltest.main()
