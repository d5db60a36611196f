"""Engine checks against independent references: the static-clip theorem (with and without
local heads). Its helpers are shared by the other engine tests: test_engine_clock.py (bptt
vs float64 jax.grad of a Python-unrolled clock, warm-up, metadata across video
boundaries, options), test_engine_frozen.py and test_engine_errors.py (bad input)."""

import dataclasses

from absl.testing import absltest
from absl.testing import parameterized
import chex
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj


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


if __name__ == '__main__':
  absltest.main()
