"""Frozen modules: held at their initial parameters, forward only, never stepping; their
outputs given ahead (`trainer.frozen_values`) give the same step."""

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
from test_engine import clip_batch, conv_net


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


if __name__ == '__main__':
  absltest.main()
