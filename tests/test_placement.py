"""Placement never changes the numbers: every algorithm x placement against the
single-device engine (losses, params and optimizer state after several steps), real
placement (each device holds only its own modules; one executable with collective-permutes
in its loop and no host callbacks), and bad input."""

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
from sideways_jax import packing

TOL = dict(atol=1e-5, rtol=1e-5)


def conv_net(num_modules, skips='none', channels=4, classes=3):
  convs = tuple(lambda x, c=channels + k % 2: jax.nn.relu(sj.Conv2D(c, 3)(x))
                for k in range(num_modules - 1))
  head = lambda x: hk.Linear(classes)(x.mean(axis=(1, 2)))
  return sj.Network(convs + (head,)).with_skips(skips)


def clip_batch(batch_size=4, frames=5, size=6, channels=3, seed=0, video_ids=None):
  rng = np.random.RandomState(seed)
  if video_ids is None:
    video_ids = np.repeat(np.arange(batch_size)[:, None], frames, 1)
  return {'frames': rng.rand(batch_size, frames, size, size, channels).astype(np.float32),
          'labels': np.repeat(rng.randint(0, 3, (batch_size, 1)), frames, 1).astype(np.int32),
          'video_ids': np.asarray(video_ids, np.int32)}


def run_both(net, task, batch, mesh, algorithm, steps=3, groups='params', batches=None,
             **kwargs):
  """(single-device state and metrics, placed state unplaced and metrics) after `steps`."""
  batches = batches or [batch] * steps
  optimizer = optax.adam(1e-2)
  ref = sj.build(net, optimizer, task, algorithm=algorithm, **kwargs)
  placement = sj.place(net, mesh, groups=groups, frame_shape=batch['frames'][:, 0].shape)
  placed = sj.build(net, optimizer, task, algorithm=algorithm, placement=placement, **kwargs)
  state = ref.init(jax.random.PRNGKey(0), batch)
  placed_state = placed.init(jax.random.PRNGKey(0), batch)
  ref_metrics, placed_metrics = [], []
  for b in batches:
    state, m = ref.step(state, b)
    ref_metrics.append(m)
    placed_state, m = placed.step(placed_state, b)
    placed_metrics.append(m)
  return (state, ref_metrics), (placed.unplace(placed_state), placed_metrics), placed


def assert_same(test, ref, placed):
  (state, ref_metrics), (placed_state, placed_metrics) = ref, placed
  for a, b in zip(ref_metrics, placed_metrics):
    test.assertEqual(sorted(b), sorted(a))  # the same metrics, local heads' included
    for key in a:
      if key not in ('nonfinite_module', 'nonfinite_tick', 'trace'):
        np.testing.assert_allclose(float(b[key]), float(a[key]), **TOL, err_msg=key)
    test.assertEqual(int(b['nonfinite_module']), int(a['nonfinite_module']))
  chex.assert_trees_all_close(placed_state.params, state.params, **TOL)
  chex.assert_trees_all_close(placed_state.opt_state, state.opt_state, **TOL)
  chex.assert_trees_all_close(placed_state.window, state.window, **TOL)
  test.assertEqual(int(placed_state.clock), int(state.clock))


class PlacementEqualsEngineTest(parameterized.TestCase):

  # (stages, data, modules): 1, 2, 4 devices in a line; 5 modules on 2 devices;
  # stage x data = 2 x 2 and 4 x 2 (all 8 devices; a line of 8 stages, 8 modules, ran the
  # same code as the line of 4 at 3x its compile time, so it is not repeated here).
  # Every layout for sideways; for the rest a line and a
  # stage x data grid (a one-device mesh exercises nothing they do not, and uneven groups,
  # 5 modules on 2 devices, are packing's work, shared by every algorithm: sideways covers
  # them here, and test_skips_across_several_devices with groups (0, 1, 2, 3, 3)).
  @parameterized.parameters(
      *[('sideways', layout) for layout in
        [(1, 1, 3), (2, 1, 3), (4, 1, 4), (2, 1, 5), (2, 2, 4), (4, 2, 4)]],
      *[(algorithm, layout) for algorithm in ('bptt', 'gpipe') for layout in
        [(4, 1, 4), (4, 2, 4)]])
  def test_losses_params_and_optimizer_state(self, algorithm, layout):
    stages, data, modules = layout
    net = conv_net(modules, skips='input')
    batch = clip_batch(batch_size=4)
    ref, placed, _ = run_both(net, sj.Classification(3), batch,
                              sj.make_mesh(stages, data), algorithm)
    assert_same(self, ref, placed)

  # Each skip pattern with one update schedule: routing (the skips) and the optimizer's
  # timing (update_every) are independent parts of a placed tick, so a Latin pairing covers
  # every value of both at a third of the full product's compile time. The last pattern
  # also has taps: module 1 feeds the top at three delays, across devices.
  @parameterized.parameters(('dense', 1), ('two_below:aligned', 3),
                            ('input:aligned-1+to_top+1>5:fresh-2/4', 'clip'))
  def test_skips_across_several_devices(self, skips, update_every):
    net = conv_net(5, skips=skips)
    batch = clip_batch(batch_size=2)
    ref, placed, _ = run_both(net, sj.Classification(3), batch, sj.make_mesh(4, 1),
                              'sideways', groups=(0, 1, 2, 3, 3), update_every=update_every)
    assert_same(self, ref, placed)

  @parameterized.parameters('sideways', 'bptt')
  def test_stream_with_video_boundaries_and_data_split(self, algorithm):
    # Lanes change video at different frames: the top's per-tick counts differ between the
    # two halves of the batch, so the data split must normalise by the whole batch.
    ids = np.array([[0] * 2 + [1] * 4, [2] * 6, [3] * 4 + [4] * 2, [5] * 6])
    batches = [clip_batch(frames=6, seed=i, video_ids=ids + 10 * i) for i in range(3)]
    net = conv_net(4, skips='input')
    ref, placed, _ = run_both(net, sj.Classification(3), batches[0], sj.make_mesh(2, 2),
                              algorithm, batches=batches, stream=True)
    assert_same(self, ref, placed)

  @parameterized.parameters('sideways', 'bptt', 'gpipe')
  def test_frozen_low_modules(self, algorithm):
    net = conv_net(4, skips='input')
    ref, placed, _ = run_both(net, sj.Classification(3), clip_batch(), sj.make_mesh(2, 1),
                              algorithm, frozen=(1, 2))
    assert_same(self, ref, placed)

  def test_local_heads_across_stages_and_a_data_split(self):
    head = lambda x: hk.Linear(3)(x.mean(axis=(1, 2)))
    net = dataclasses.replace(conv_net(4, skips='input'), local_heads=((2, head), (3, head)),
                              local_weight=0.5)
    ref, placed, _ = run_both(net, sj.Classification(3), clip_batch(), sj.make_mesh(2, 2),
                              'sideways', frozen=(1,))
    self.assertIn('local_head_2/loss', ref[1][0])
    assert_same(self, ref, placed)

  @parameterized.parameters('sideways', 'bptt')
  def test_a_stream_moves_between_placements(self, algorithm):
    # Two chunks on 2 x 2 devices, unplaced (buffers included), placed again on 4 x 1 and
    # on 1 x 1: the third chunk continues exactly as on one device.
    ids = np.array([[0] * 2 + [1] * 4, [2] * 6, [3] * 4 + [4] * 2, [5] * 6])
    batches = [clip_batch(frames=6, seed=i, video_ids=ids + 10 * i) for i in range(3)]
    net = conv_net(4, skips='input')
    optimizer, task = optax.adam(1e-2), sj.Classification(3)
    ref = sj.build(net, optimizer, task, algorithm=algorithm, stream=True)
    state = ref.init(jax.random.PRNGKey(0), batches[0])
    shape = batches[0]['frames'][:, 0].shape
    placed = sj.build(net, optimizer, task, algorithm=algorithm, stream=True,
                      placement=sj.place(net, sj.make_mesh(2, 2), frame_shape=shape))
    placed_state = placed.init(jax.random.PRNGKey(0), batches[0])
    for b in batches[:2]:
      state, _ = ref.step(state, b)
      placed_state, _ = placed.step(placed_state, b)
    canonical = placed.unplace(placed_state)
    chex.assert_trees_all_close(canonical.pipeline, state.pipeline, **TOL)
    state, want = ref.step(state, batches[2])
    for stages, data in ((4, 1), (1, 1)):
      other = sj.build(net, optimizer, task, algorithm=algorithm, stream=True,
                       placement=sj.place(net, sj.make_mesh(stages, data), frame_shape=shape))
      moved, got = other.step(other.place(canonical, shape), batches[2])
      np.testing.assert_allclose(float(got['loss']), float(want['loss']), **TOL)
      chex.assert_trees_all_close(other.unplace(moved).params, state.params, **TOL)

  @parameterized.parameters('sideways', 'bptt', 'gpipe')
  def test_frame_prediction(self, algorithm):
    net = sj.models.vgg('tiny', task='prediction', frame_shape=(8, 8, 1),
                        skips='input:aligned')
    batch = clip_batch(batch_size=2, size=8, channels=1)
    (state, ref_metrics), (placed_state, placed_metrics), _ = run_both(
        net, sj.FramePrediction(), batch, sj.make_mesh(3, 1), algorithm)
    np.testing.assert_allclose(float(placed_metrics[-1]['loss']),
                               float(ref_metrics[-1]['loss']), **TOL)
    chex.assert_trees_all_close(placed_state.params, state.params, **TOL)

  def test_gpipe_equals_per_frame_backprop_per_clip(self):
    net = conv_net(4, skips='two_below:aligned')
    batch = clip_batch()
    optimizer = optax.sgd(0.5)
    backprop = sj.build(net, optimizer, sj.Classification(3), algorithm='backprop',
                        update_every='clip')
    placement = sj.place(net, sj.make_mesh(2, 2), frame_shape=batch['frames'][:, 0].shape)
    gpipe = sj.build(net, optimizer, sj.Classification(3), algorithm='gpipe',
                     placement=placement)
    state = backprop.init(jax.random.PRNGKey(0), batch)
    placed_state = gpipe.init(jax.random.PRNGKey(0), batch)
    for _ in range(2):
      state, _ = backprop.step(state, batch)
      placed_state, _ = gpipe.step(placed_state, batch)
    chex.assert_trees_all_close(gpipe.unplace(placed_state).params, state.params, **TOL)

  def test_evaluate_takes_the_placed_state(self):
    net = conv_net(3)
    batch = clip_batch()
    placement = sj.place(net, sj.make_mesh(3, 1), frame_shape=batch['frames'][:, 0].shape)
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), placement=placement)
    state, _ = trainer.step(trainer.init(jax.random.PRNGKey(0), batch), batch)
    got = trainer.evaluate(state, batch)
    want = trainer.evaluate(trainer.unplace(state).params, batch)
    chex.assert_trees_all_close(got, want)


class RealPlacementTest(parameterized.TestCase):

  def test_each_device_holds_only_its_own_modules(self):
    net = conv_net(4, skips='input')
    batch = clip_batch()
    placement = sj.place(net, sj.make_mesh(4, 2), groups=(0, 1, 2, 3),
                         frame_shape=batch['frames'][:, 0].shape)
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), placement=placement)
    state, _ = trainer.step(trainer.init(jax.random.PRNGKey(0), batch), batch)
    canonical = trainer.unplace(state).params
    total = sum(x.size for x in jax.tree.leaves(canonical))
    mesh_devices = placement.mesh.devices
    for shard in state.params['float32'].addressable_shards:
      s, d = [int(i) for i in np.argwhere(mesh_devices == shard.device)[0]]
      self.assertEqual(shard.data.shape[:2], (1, 1))
      self.assertLess(shard.data.shape[-1], total)  # a device never holds the whole net
      layout = packing.Layout((canonical[s],))
      (own,) = layout.unpack({'float32': np.asarray(shard.data)[0, 0]})
      chex.assert_trees_all_close(own, canonical[s])

  def test_one_executable_with_collective_permutes_in_its_loop(self):
    net = conv_net(4, skips='dense')
    batch = clip_batch()
    placement = sj.place(net, sj.make_mesh(4, 1), frame_shape=batch['frames'][:, 0].shape)
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), placement=placement)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    hlo = trainer.lower(state, batch).compile().as_text()
    self.assertIn('while', hlo)
    bodies = [c for c in hlo.split('\n\n') if 'collective-permute' in c]
    self.assertTrue(any('body' in c.split('\n')[0] or 'while' in c for c in bodies), hlo[:2000])
    for callback in ('host_callback', 'xla_python_cpu_callback', 'xla_ffi_python_cpu_callback'):
      self.assertNotIn(callback, hlo)


class BadPlacementTest(parameterized.TestCase):

  def test_more_stages_than_modules(self):
    with self.assertRaisesRegex(ValueError, 'at most 3 stage devices'):
      sj.place(conv_net(3), sj.make_mesh(4, 1), frame_shape=(2, 6, 6, 3))

  def test_batch_not_divisible_by_data(self):
    net = conv_net(3)
    placement = sj.place(net, sj.make_mesh(1, 2))
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), placement=placement)
    with self.assertRaisesRegex(ValueError, 'batch size 3.*multiple of 2'):
      trainer.init(jax.random.PRNGKey(0), clip_batch(batch_size=3))

  def test_more_devices_than_exist(self):
    with self.assertRaisesRegex(ValueError, 'needs 16 devices; there are 8'):
      sj.make_mesh(8, 2)

  def test_mesh_without_stage(self):
    mesh = jax.make_mesh((2,), ('model',), axis_types=(jax.sharding.AxisType.Auto,))
    with self.assertRaisesRegex(ValueError, "needs a 'stage' axis"):
      sj.place(conv_net(3), mesh)

  def test_bad_explicit_groups(self):
    with self.assertRaisesRegex(ValueError, 'consecutive from 0 to 1'):
      sj.place(conv_net(3), sj.make_mesh(2, 1), groups=(0, 1, 0))

  def test_given_frozen_outputs_are_one_device_only(self):
    net = conv_net(3)
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), frozen=(1,),
                       placement=sj.place(net, sj.make_mesh(2, 1), groups=(0, 0, 1)))
    self.assertIsNone(trainer.frozen_values)
    batch = clip_batch()
    state = trainer.init(jax.random.PRNGKey(0), batch)
    with self.assertRaisesRegex(ValueError, "frozen_values.*one-device.*Leave the key out"):
      trainer.step(state, {**batch, 'frozen_values': {1: batch['frames']}})

  def test_backprop_cannot_be_placed(self):
    net = conv_net(3)
    with self.assertRaisesRegex(ValueError, 'gpipe'):
      sj.build(net, optax.adam(1e-2), sj.Classification(3), algorithm='backprop',
               placement=sj.place(net, sj.make_mesh(1, 1)))


class GroupingTest(parameterized.TestCase):

  def test_balanced_stages_minimise_the_heaviest_group(self):
    self.assertEqual(sj.placement.balanced_stages([1, 1, 1, 1], 2), (0, 0, 1, 1))
    self.assertEqual(sj.placement.balanced_stages([5, 1, 1, 1, 1, 1], 2), (0, 1, 1, 1, 1, 1))
    weights = [1, 2, 3, 4, 10]
    stages = sj.placement.balanced_stages(weights, 3)
    loads = [sum(w for w, s in zip(weights, stages) if s == i) for i in range(3)]
    self.assertEqual(max(loads), 10)  # the 10 alone; nothing better exists
    self.assertEqual(sorted(set(stages)), [0, 1, 2])

  @parameterized.parameters('params', 'cost')
  def test_groups_by_weight(self, groups):
    net = sj.models.vgg('small', num_classes=3)
    placement = sj.place(net, sj.make_mesh(2, 1), groups=groups, frame_shape=(2, 16, 16, 3))
    self.assertLen(placement.stages, 5)
    self.assertEqual(placement.stages[0], 0)
    self.assertEqual(placement.stages[-1], 1)


if __name__ == '__main__':
  absltest.main()
