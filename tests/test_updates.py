"""The parameter average (`updates.with_param_ema`) against a float64 loop by hand."""

from absl.testing import absltest
import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from sideways_jax import updates


def _grad(params):  # d/dp of 0.5 * sum((p - 1)^2 * [1, 2, 3])
  return {'w': (params['w'] - 1.) * jnp.array([1., 2., 3.])}


class ParamEmaTest(absltest.TestCase):

  def test_average_is_the_bias_corrected_ema_and_the_steps_are_unchanged(self):
    decay, lr, steps = 0.9, 0.1, 7
    opt = optax.adam(lr)
    averaged = updates.with_param_ema(opt, decay)
    params = plain = {'w': jnp.array([0.5, -2., 3.])}
    state, plain_state = averaged.init(params), opt.init(plain)
    chex.assert_trees_all_close(updates.averaged_params((params,), (state,), decay)[0],
                                params)  # no step yet: the parameters
    ema, history = np.zeros(3), []
    for _ in range(steps):
      u, state = averaged.update(_grad(params), state, params)
      params = optax.apply_updates(params, u)
      pu, plain_state = opt.update(_grad(plain), plain_state, plain)
      plain = optax.apply_updates(plain, pu)
      history.append(np.asarray(params['w'], np.float64))
    chex.assert_trees_all_equal(params, plain)  # training follows the same trajectory
    for p in history:  # the reference: an EMA from zero, divided by 1 - decay**t
      ema = decay * ema + (1 - decay) * p
    expected = ema / (1 - decay ** steps)
    weights = np.array([decay ** (steps - 1 - i) for i in range(steps)])
    chex.assert_trees_all_close(expected, (weights[:, None] * np.stack(history)).sum(0)
                                / weights.sum(), rtol=1e-12)  # a weighted mean of iterates
    got = updates.averaged_params((params,), (state,), decay)[0]
    chex.assert_trees_all_close(got['w'], expected.astype(np.float32), rtol=1e-6)
    self.assertFalse(np.allclose(got['w'], params['w']))

  def test_modules_without_an_average_keep_their_parameters(self):
    params = ({'w': jnp.ones(2)}, {'w': jnp.zeros(2)})
    opt_state = (optax.sgd(1.).init(params[0]),
                 updates.with_param_ema(optax.sgd(1.), 0.5).init(params[1]))
    got = updates.averaged_params(params, opt_state, 0.5)
    chex.assert_trees_all_equal(got, params)

  def test_bad_decay_and_missing_params_are_refused(self):
    for decay in (0., 1., 1.5):
      with self.assertRaisesRegex(ValueError, 'decay.*in \\(0, 1\\)'):
        updates.with_param_ema(optax.sgd(1.), decay)
    opt = updates.with_param_ema(optax.sgd(1.), 0.5)
    with self.assertRaisesRegex(ValueError, 'needs the parameters'):
      opt.update({'w': jnp.ones(2)}, opt.init({'w': jnp.ones(2)}))

  def test_jits(self):
    opt = updates.with_param_ema(optax.sgd(0.5), 0.5)
    params = {'w': jnp.ones(3)}
    step = jax.jit(lambda p, s: opt.update(_grad(p), s, p))
    _, state = step(params, opt.init(params))
    self.assertEqual(int(state.count), 1)


if __name__ == '__main__':
  absltest.main()
