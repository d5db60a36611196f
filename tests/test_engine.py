"""Engine checks against independent references: the static-clip theorem, bptt vs float64
jax.grad of a Python-unrolled clock, warm-up, metadata across video boundaries, bad input."""

import dataclasses
import re

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


def conv_net(num_modules, skips='none', channels=4, classes=3):
  convs = tuple(lambda x: jax.nn.relu(sj.Conv2D(channels, 3)(x))
                for _ in range(num_modules - 1))
  head = lambda x: hk.Linear(classes)(x.mean(axis=(1, 2)))
  return sj.Network(convs + (head,)).with_skips(skips)


def linear_net(num_modules, skips='none', width=6, classes=3):
  hidden = tuple(lambda x: jnp.tanh(hk.Linear(width)(x)) for _ in range(num_modules - 1))
  return sj.Network(hidden + (lambda x: hk.Linear(classes)(x),)).with_skips(skips)


def clip_batch(frames, labels=None, video_ids=None, seed=0):
  b, t = frames.shape[:2]
  rng = np.random.RandomState(seed)
  if labels is None:
    labels = np.repeat(rng.randint(0, 3, (b, 1)), t, 1)
  if video_ids is None:
    video_ids = np.repeat(np.arange(b)[:, None], t, 1)
  return {'frames': jnp.asarray(frames, jnp.float32), 'labels': jnp.asarray(labels),
          'video_ids': jnp.asarray(video_ids)}


def same_frame_grads(net, params, frame, labels):
  """Backprop of the ordinary same-frame network on one frame (mean CE over the batch)."""
  def loss(p):
    logits = sj.same_frame_forward(net, p, frame)[-1]
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
  return jax.grad(loss)(params)


class StaticClipTheoremTest(parameterized.TestCase):
  """Sideways is backprop when the world stands still (SIDEWAYS.md)."""

  @parameterized.product(num_modules=[2, 3, 5], kind=['conv', 'linear'],
                         skips=['none', 'input:fresh:sum', 'two_below:fresh:sum',
                                'input:aligned:sum'])
  def test_static_clip_gradients_equal_backprop(self, num_modules, kind, skips):
    if kind == 'conv':
      # Skips by sum need equal shapes; the head's input skip needs a projection.
      skips = skips if skips == 'none' else skips.replace(':sum', ':project')
      net = conv_net(num_modules, skips)
      frame = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 5, 4))
    else:
      net = linear_net(num_modules, skips)
      frame = jax.random.normal(jax.random.PRNGKey(1), (2, 6))
    steps_t = 2 * (num_modules - 1) + 3
    frames = jnp.repeat(frame[:, None], steps_t, axis=1)
    batch = clip_batch(frames)
    # Parameters held fixed: one window longer than the clip and its drain.
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3),
                       update_every=steps_t + num_modules, diagnostics=True)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    _, metrics = trainer.step(state, batch)
    expected = same_frame_grads(net, state.params, frame, batch['labels'][:, 0])
    for k, tick in enumerate(metrics['trace']['ticks']):
      for t in range(2 * (num_modules - 1), steps_t):
        self.assertTrue(bool(tick.grads_valid[t]), f'module {k + 1} tick {t} not valid')
        chex.assert_trees_all_close(
            jax.tree.map(lambda g: g[t], tick.grads), expected[k], atol=2e-5, rtol=1e-4,
            custom_message=f'module {k + 1}, tick {t}')


def with_heads(net, heads, weight, classes=3):
  head = lambda x: hk.Linear(classes)(x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1))
  return dataclasses.replace(net, local_heads=tuple((k, head) for k in heads),
                             local_weight=weight)


def same_frame_grads_with_heads(net, params, frame, labels):
  """Backprop on one frame of the summed losses: the top's CE plus w x each head's CE."""
  fns, heads = net.apply_fns(), net.local_head_fns()
  ce = lambda logits: optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

  def loss(p):
    outs, total = [frame], 0.
    for k in range(1, net.num_modules + 1):
      ins = [outs[e.source] for e in net.same_frame_inputs(k)]
      if k in heads:
        out, head = heads[k](p[k - 1], *ins)
        total += net.local_weight * ce(head)
      else:
        out = fns[k - 1](p[k - 1], *ins)
      outs.append(out)
    return total + ce(outs[-1])
  return jax.grad(loss)(params)


class LocalHeadsTest(parameterized.TestCase):
  """Local heads: each head's loss gradient joins its module's delta the same tick."""

  @parameterized.parameters(((2,), 'none', 1.0), ((1, 3), 'input:fresh:project', 0.5),
                            ((2, 3), 'two_below:fresh:project', 2.0))
  def test_static_clip_gradients_equal_backprop_of_the_summed_losses(self, heads, skips,
                                                                     weight):
    num_modules = 4
    net = with_heads(conv_net(num_modules, skips), heads, weight)
    frame = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 5, 4))
    steps_t = 2 * (num_modules - 1) + 3
    batch = clip_batch(jnp.repeat(frame[:, None], steps_t, axis=1))
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3),
                       update_every=steps_t + num_modules, diagnostics=True)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    self.assertTrue(all(any('local_head' in name for name in state.params[k - 1])
                        for k in heads))
    _, metrics = trainer.step(state, batch)
    expected = same_frame_grads_with_heads(net, state.params, frame, batch['labels'][:, 0])
    for k, tick in enumerate(metrics['trace']['ticks']):
      for t in range(2 * (num_modules - 1), steps_t):
        chex.assert_trees_all_close(
            jax.tree.map(lambda g: g[t], tick.grads), expected[k], atol=2e-5, rtol=1e-4,
            custom_message=f'module {k + 1}, tick {t}')

  def test_the_head_gradient_is_taken_at_this_ticks_input_and_only_with_a_valid_delta(self):
    # A moving clip: module 3's gradient with a head minus without is w x the head loss's
    # gradient at u_3[t] (module 2's output of tick t-1), and nothing before delta_3 is valid.
    weight, k = 0.7, 3
    plain = conv_net(4)
    net = with_heads(plain, (k,), weight)
    frames = jax.random.normal(jax.random.PRNGKey(2), (2, 8, 5, 5, 4))
    batch = clip_batch(frames)
    build = lambda n: sj.build(n, optax.sgd(0.), sj.Classification(3), diagnostics=True)
    trainer = build(net)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    _, with_head = trainer.step(state, batch)
    plain_state = build(plain).init(jax.random.PRNGKey(0), batch)
    body = {n: v for n, v in state.params[k - 1].items() if 'local_head' not in n}
    chex.assert_trees_all_equal(body, plain_state.params[k - 1])
    plain_state = plain_state._replace(
        params=state.params[:k - 1] + (body,) + state.params[k:])
    _, without = build(plain).step(plain_state, batch)
    got, ref = with_head['trace']['ticks'][k - 1], without['trace']['ticks'][k - 1]
    np.testing.assert_array_equal(got.grads_valid, ref.grads_valid)
    self.assertFalse(bool(got.grads_valid[:2].any()))  # the top's message needs 2 ticks
    head_fn = net.local_head_fns()[k]
    labels = batch['labels'][:, 0]
    checked = 0
    for t in range(frames.shape[1]):
      if not bool(ref.grads_valid[t]):
        continue
      u = with_head['trace']['ticks'][k - 2].activation.value[t - 1]

      def head_loss(p):
        logits = head_fn(p, u)[1]
        return weight * optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
      expected = jax.grad(head_loss)(state.params[k - 1])
      diff = {n: (jax.tree.map(lambda a, b: a[t] - b[t], g, ref.grads[n]) if n in ref.grads
                  else jax.tree.map(lambda a: a[t], g)) for n, g in got.grads.items()}
      chex.assert_trees_all_close(diff, expected, atol=1e-5, rtol=1e-4,
                                  custom_message=f'tick {t}')
      checked += 1
    self.assertGreater(checked, 3)

  def test_each_heads_loss_and_accuracy_are_metrics_over_its_own_ticks(self):
    # Heads on modules 2 and 3 of a moving clip: `local_head_K/loss` and `/accuracy` are
    # the head's CE and accuracy at u_K[t], averaged over the ticks its input is valid.
    net = with_heads(conv_net(4), (2, 3), 0.5)
    frames = jax.random.normal(jax.random.PRNGKey(4), (2, 7, 5, 5, 4))
    batch = clip_batch(frames)
    trainer = sj.build(net, optax.sgd(0.), sj.Classification(3), diagnostics=True)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    _, metrics = trainer.step(state, batch)
    labels, heads = batch['labels'][:, 0], net.local_head_fns()
    self.assertNotIn('local_head_1/loss', metrics)
    self.assertNotIn('local_head_4/loss', metrics)
    for k in (2, 3):
      losses, correct = [], []
      below = metrics['trace']['ticks'][k - 2].activation
      for t in range(1, frames.shape[1]):
        if bool(below.valid[t - 1]):  # u_k[t] is module k-1's output of tick t-1
          logits = heads[k](state.params[k - 1], below.value[t - 1])[1]
          losses.append(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
          correct.append(jnp.argmax(logits, -1) == labels)
      self.assertLen(losses, frames.shape[1] - (k - 1))  # the k - 1 warm-up ticks are not
      np.testing.assert_allclose(float(metrics[f'local_head_{k}/loss']),
                                 float(jnp.concatenate(losses).mean()), rtol=1e-5)
      np.testing.assert_allclose(float(metrics[f'local_head_{k}/accuracy']),
                                 float(jnp.concatenate(correct).mean()), rtol=1e-6)

  def test_heads_on_the_top_or_twice_are_refused(self):
    head = lambda x: hk.Linear(3)(x.mean(axis=(1, 2)))
    with self.assertRaisesRegex(ValueError, 'module 3 cannot have a local head'):
      dataclasses.replace(conv_net(3), local_heads=((3, head),))
    with self.assertRaisesRegex(ValueError, 'two heads'):
      dataclasses.replace(conv_net(3), local_heads=((1, head), (1, head)))
    with self.assertRaisesRegex(ValueError, 'local_weight'):
      dataclasses.replace(conv_net(3), local_heads=((1, head),), local_weight=0.)

  @parameterized.parameters('bptt', 'backprop', 'gpipe')
  def test_baselines_refuse_heads(self, algorithm):
    with self.assertRaisesRegex(ValueError, 'Sideways training regime'):
      sj.build(with_heads(conv_net(3), (1,), 1.), optax.sgd(0.1), sj.Classification(3),
               algorithm=algorithm)

  def test_a_frozen_module_with_a_head_is_refused(self):
    with self.assertRaisesRegex(ValueError, 'frozen and have a local head'):
      sj.build(with_heads(conv_net(4), (2,), 1.), optax.sgd(0.1), sj.Classification(3),
               frozen=(1, 2))


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


def frozen_and_rate_zero(net, batch, frozen, steps=2, **kwargs):
  """(initial state, (state, metrics) of a trainer with `frozen` modules, (state, metrics)
  of one in which the same modules learn at rate 0) after `steps` steps on `batch`."""
  adam = optax.adam(1e-2)
  zero = optax.chain(adam, optax.scale(0.))
  held = sj.build(net, adam, sj.Classification(3), frozen=frozen, **kwargs)
  scaled = sj.build(net, tuple(zero if k in frozen else adam
                               for k in range(1, net.num_modules + 1)),
                    sj.Classification(3), **kwargs)
  a = start = held.init(jax.random.PRNGKey(0), batch)
  b = scaled.init(jax.random.PRNGKey(0), batch)
  for _ in range(steps):
    a, ma = held.step(a, batch)
    b, mb = scaled.step(b, batch)
  return start, (a, ma), (b, mb)


class FrozenTest(parameterized.TestCase):

  @parameterized.parameters('sideways', 'bptt', 'backprop', 'gpipe')
  def test_frozen_modules_equal_a_learning_rate_of_zero(self, algorithm):
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5, 5, 4)))
    start, (a, ma), (b, mb) = frozen_and_rate_zero(conv_net(4, 'input'), batch, (1, 2),
                                                   algorithm=algorithm)
    np.testing.assert_allclose(float(ma['loss']), float(mb['loss']), rtol=1e-5)
    chex.assert_trees_all_close(a.params, b.params, atol=1e-6)
    chex.assert_trees_all_equal(a.params[:2], start.params[:2])
    chex.assert_trees_all_equal(a.opt_state[:2], start.opt_state[:2])  # never stepped

  @parameterized.parameters('none', 'input', 'input+1>4:fresh-0/2:bilinear')
  def test_with_only_the_top_learning_sideways_steps_as_bptt(self, skips):
    # The top's Sideways gradient is exact at every tick, so with every module below it
    # held and one step per clip the two algorithms take the same step, skips and taps
    # included: the "top alone" rows of docs/RESULTS.md are bptt's too.
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(3), (2, 8, 5, 5, 4)))
    net = conv_net(4, skips)
    states = {}
    for algorithm in ('sideways', 'bptt'):
      trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), frozen=(1, 2, 3),
                         algorithm=algorithm, update_every='clip')
      start = state = trainer.init(jax.random.PRNGKey(0), batch)
      for _ in range(2):
        state, metrics = trainer.step(state, batch)
      states[algorithm] = state, float(metrics['loss'])
    (ss, ss_loss), (bp, bp_loss) = states['sideways'], states['bptt']
    np.testing.assert_allclose(ss_loss, bp_loss, rtol=1e-5)
    chex.assert_trees_all_close(ss.params, bp.params, atol=1e-6)
    self.assertGreater(float(jnp.abs(ss.params[3]['linear']['w']
                                     - start.params[3]['linear']['w']).max()), 1e-3)

  @parameterized.parameters(1, 4, 'clip')
  def test_the_drain_stops_where_no_learning_module_is_left(self, update_every):
    # With modules 1-2 of K = 5 frozen the clip drains K - 1 - 2 = 2 ticks, not 4: the last
    # loss's gradient reaches module 3 two ticks after the last frame and later ticks carry
    # only zero-loss messages. Against lr-0 modules 1-2 that learn nothing but keep the full
    # drain (and local heads on 3 and 4, whose losses also stop with the last frame).
    head = lambda x: hk.Linear(3)(x.mean(axis=(1, 2)))
    net = dataclasses.replace(conv_net(5, 'input'), local_heads=((3, head), (4, head)))
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(1), (2, 6, 5, 5, 4)))
    _, (a, ma), (b, mb) = frozen_and_rate_zero(net, batch, (1, 2), update_every=update_every)
    self.assertEqual((int(a.clock), int(b.clock)), (6 + 2, 6 + 4))
    for key in ('loss', 'accuracy', 'local_head_3/loss', 'local_head_4/loss'):
      np.testing.assert_allclose(float(ma[key]), float(mb[key]), rtol=1e-5, err_msg=key)
    chex.assert_trees_all_close(a.params, b.params, atol=1e-6)
    chex.assert_trees_all_close(a.opt_state[2:], b.opt_state[2:], atol=1e-6)

  def test_no_message_is_computed_for_a_frozen_module(self):
    # A frozen module never reads its messages, so the module above it computes none. In
    # the compiled step: one conv per frozen module (its forward), and module 3's forward
    # and weight gradient, but not its input gradient toward module 2. With nothing frozen
    # (K = 4: three conv modules) there are 8: three per module, less module 1's input
    # gradient (to the frames, which read no message).
    net = conv_net(4)
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 5, 4)))

    def convs(frozen):
      trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), frozen=frozen)
      state = trainer.init(jax.random.PRNGKey(0), batch)
      hlo = trainer.step.lower(state, batch).compile().as_text()
      return len(re.findall(r' convolution\(', hlo)), trainer.step(state, batch)[0]

    (held, state), (everything, _) = convs((1, 2)), convs(())
    self.assertEqual(held, 4)
    self.assertEqual(everything, 8)
    message = state.pipeline.messages[2][0]  # module 3's message to module 2: never sent
    self.assertFalse(bool(message.valid))
    chex.assert_trees_all_equal(message.value, jnp.zeros_like(message.value))

  @parameterized.parameters(('sideways', 'input', 1), ('sideways', 'input+1>-1', 'clip'),
                            ('sideways', 'none', 4), ('bptt', 'input+1>-1', 'clip'))
  def test_given_frozen_outputs_give_the_same_step(self, algorithm, skips, update_every):
    # trainer.frozen_values computes the frozen modules' outputs that a learning module
    # reads (module 2's; module 1's too when it skips to the top) at every tick of the
    # clip, drain included; a batch carrying them gets the same step, and the compiled step
    # runs no frozen forward (4 convs fewer: modules 1-2 at 6 + 2 ticks, unrolled or not,
    # count once each in the scan body: 2 fewer).
    net = conv_net(5, skips)
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(2), (2, 6, 5, 5, 4)))
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), frozen=(1, 2),
                       algorithm=algorithm, update_every=update_every)
    a = b = trainer.init(jax.random.PRNGKey(0), batch)
    for _ in range(2):
      given = trainer.frozen_values(b.params, batch)
      a, ma = trainer.step(a, batch)
      b, mb = trainer.step(b, {**batch, 'frozen_values': given})
      chex.assert_trees_all_close(mb, ma, atol=1e-6)
    self.assertEqual(sorted(given), [1, 2] if '1>-1' in skips else [2])
    ticks = 6 + (2 if algorithm == 'sideways' else 0)
    self.assertEqual(given[2].shape[:2], (2, ticks))
    chex.assert_trees_all_close(b.params, a.params, atol=1e-6)
    chex.assert_trees_all_close(b.opt_state, a.opt_state, atol=1e-6)
    chex.assert_trees_all_equal(b.params[:2], a.params[:2])

    def convs(batch):
      hlo = trainer.step.lower(a, batch).compile().as_text()
      return len(re.findall(r' convolution\(', hlo))
    self.assertEqual(convs(batch) - convs({**batch, 'frozen_values': given}), 2)

  def test_given_frozen_outputs_must_fit(self):
    net = conv_net(4, 'input')
    batch = clip_batch(jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 5, 4)))
    trainer = sj.build(net, optax.sgd(0.1), sj.Classification(3), frozen=(1, 2))
    state = trainer.init(jax.random.PRNGKey(0), batch)
    given = trainer.frozen_values(state.params, batch)
    self.assertEqual(given[2].shape[:2], (2, 5 + 1))  # K - 1 - 2 = 1 drain tick
    with self.assertRaisesRegex(ValueError, r'holds modules \(1, 2\).*frozen modules \(2,\)'):
      trainer.step(state, {**batch, 'frozen_values': {1: given[2], 2: given[2]}})
    with self.assertRaisesRegex(ValueError, r'runs 6 ticks on 2 clips.*\[2, 6, \.\.\.\]'):
      trainer.step(state, {**batch, 'frozen_values': {2: given[2][:, :5]}})
    for kwargs in ({}, {'stream': True}, {'frozen': (1, 2), 'algorithm': 'backprop'}):
      other = sj.build(net, optax.sgd(0.1), sj.Classification(3), **kwargs)
      self.assertIsNone(other.frozen_values, kwargs)  # nothing frozen, or no clip to key on
    self.assertIsNotNone(sj.build(net, optax.sgd(0.1), sj.Classification(3), frozen=(1,),
                                  algorithm='bptt').frozen_values)

  @parameterized.parameters((2,), (0,), (1, 2, 3))
  def test_frozen_must_be_the_lowest_modules(self, *frozen):
    with self.assertRaisesRegex(ValueError, 'lowest'):
      sj.build(conv_net(3), optax.sgd(0.1), sj.Classification(3), frozen=frozen)


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
