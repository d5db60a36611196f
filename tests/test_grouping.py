"""Grouping modules over stage devices: weighed by the tick each stage runs, printed."""

import contextlib
import io
import types

from absl.testing import absltest
import jax
import jax.numpy as jnp

import sideways_jax as sj
from sideways_jax import placement as placement_lib
from experiments import builders
from experiments import checks
from experiments.configs import default

FRAME = (4, 16, 16, 3)


def _net():
  return sj.models.vgg('tiny', num_classes=4, skips='input')


class CostTest(absltest.TestCase):

  def test_a_frozen_module_is_weighed_by_its_forward_alone(self):
    net, frame = _net(), jax.ShapeDtypeStruct(FRAME, jnp.float32)
    learning = placement_lib._flop_counts(net, frame)  # pylint: disable=protected-access
    held = placement_lib._flop_counts(net, frame, frozen=(1,))  # pylint: disable=protected-access
    self.assertLess(held[0], 0.7 * learning[0])  # no VJP: well under forward + VJP
    self.assertEqual(held[1:], learning[1:])

  def test_timed_probe_weighs_every_module(self):
    net, frame = _net(), jax.ShapeDtypeStruct(FRAME, jnp.float32)
    times = placement_lib._timed_costs(net, frame, repeats=2)  # pylint: disable=protected-access
    self.assertLen(times, net.num_modules)
    self.assertTrue(all(t > 0 for t in times))

  def test_cost_is_the_default_and_balances_the_heaviest_stage(self):
    net = _net()
    mesh = jax.sharding.AbstractMesh((2, 1), ('stage', 'data'))
    placement = sj.place(net, mesh, frame_shape=FRAME)
    self.assertIsNotNone(placement.weights)
    shares = placement.shares()
    self.assertAlmostEqual(sum(shares), 1.0, places=6)
    # No other consecutive split has a lighter heaviest stage.
    weights = placement.weights
    best = min(max(sum(weights[:i]), sum(weights[i:])) for i in range(1, len(weights)))
    self.assertAlmostEqual(max(shares) * sum(weights), best, places=3)

  def test_explicit_groups_carry_no_weights(self):
    mesh = jax.sharding.AbstractMesh((2, 1), ('stage', 'data'))
    placement = sj.place(_net(), mesh, groups=(0, 0, 1))
    self.assertIsNone(placement.weights)
    self.assertIsNone(placement.shares())

  def test_unknown_grouping_is_refused(self):
    mesh = jax.sharding.AbstractMesh((2, 1), ('stage', 'data'))
    with self.assertRaisesRegex(ValueError, "'cost', 'time', 'params'"):
      sj.place(_net(), mesh, groups='flops', frame_shape=FRAME)


class LauncherTest(absltest.TestCase):

  def _config(self, groups):
    config = default.get_config('tiny')
    config.stage_devices, config.placement_groups = 2, groups
    return config

  def test_groups_as_a_stage_per_module(self):
    self.assertEqual(builders.placement_groups(self._config('0,0,1,1,1')), (0, 0, 1, 1, 1))
    self.assertEqual(builders.placement_groups(self._config('time')), 'time')
    with self.assertRaisesRegex(checks.ConfigError, 'placement_groups'):
      builders.placement_groups(self._config('0,a'))

  def test_the_launcher_prints_each_stage_and_its_share(self):
    config = self._config('cost')
    dataset = types.SimpleNamespace(num_classes=4, frame_shape=(16, 16, 3))
    config.dataset.resolution = 16
    task, network = builders.make_task_and_network(config, dataset)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
      trainer = builders.make_trainer(config, network, task, (16, 16, 3))
    line = out.getvalue().strip().splitlines()[-1]
    self.assertRegex(line, r'^placement \(balancing cost\): stage 0: modules? 1.* \(\d+%\), '
                           r'stage 1: .*\(\d+%\); at most \d\.\d\dx one device$')
    shares = trainer.placement.shares()
    self.assertAlmostEqual(sum(shares), 1.0, places=6)


if __name__ == '__main__':
  absltest.main()
