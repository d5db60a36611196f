"""The launcher end to end on the `tiny` config, in a temp dir (nanodo-style): the files a
run writes, resuming, streams, NaN stops, corrupt checkpoints; and the helpers the other
launcher tests share (test_train_init: warm starts and frozen modules; test_train_eval:
evaluation and TensorBoard; test_train_config: configs and the registry)."""

import json
import os
import shutil
import tempfile
import warnings
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np

from sideways_jax import checkpoints

from experiments import builders
from experiments import checks
from experiments import evaluate
from experiments import train
from experiments.configs import default
from experiments.configs import keys


def tiny(**overrides):
  """The tiny variant with dotted-key overrides (`**{'model.norm': 'group'}`)."""
  config = default.get_config('tiny')
  for key, value in overrides.items():
    *parents, last = key.split('.')
    node = config
    for part in parents:
      node = node[part]
    node[last] = value
  return config


def tiny_digits(num_steps):
  """The moving_digits variant shrunk to seconds (VGG-tiny, 16x16, 6-frame clips)."""
  config = default.get_config('moving_digits')
  config.update(num_steps=num_steps, batch_size=2, frames_per_clip=6, eval_every=num_steps,
                log_every=1, eval_clips=2)
  config.model.size = 'tiny'
  config.module_lr_scales = '0,0'  # VGG-tiny has 3 modules, the variant's scales name 4
  config.dataset.update(resolution=16, num_clips=8)
  return config


def records(workdir, split=None):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    out = [json.loads(line) for line in f]
  return [r for r in out if split is None or r['split'] == split]


def final_state(workdir, config):
  train_set, _ = builders.make_datasets(config)
  task, network = builders.make_task_and_network(config, train_set)
  trainer = builders.make_trainer(config, network, task, placed=False)  # checkpoints: 1 device
  store = checkpoints.Checkpoints(os.path.join(workdir, 'checkpoints'))
  return store.restore(store.steps()[-1], builders.abstract_state(config, trainer, train_set))


def assert_same_leaves(test, a, b):
  leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
  test.assertEqual(len(leaves_a), len(leaves_b))
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def first_params(config):
  """A new run's first parameters (`init_from` applied) and the initialisation they start
  from."""
  train_set, _ = builders.make_datasets(config)
  task, network = builders.make_task_and_network(config, train_set)
  trainer = builders.make_trainer(config, network, task, train_set.frame_shape)
  batch = builders.preprocess(config)(train_set.get_batch([0, 1]))
  return (train.initial_state(config, trainer, train_set, batch).params,
          trainer.init(builders.rng(config), batch).params)


def but_eval_at(step, recs):
  """The records without the eval of `step` (a shorter first run ends with one)."""
  return [r for r in recs if (r['split'], r['step']) != ('eval', step)]


def without_timing(recs):
  return [{k: v for k, v in r.items() if k not in ('ticks_per_s', 'train_time_s')}
          for r in recs]


class NaNAt:
  """Wraps a batch iterator: from the `at`-th batch (1-based) on, the frames become 3e38:
  finite (the launcher refuses non-finite frames before the step, naming the data), but
  they overflow inside the network, so the gradient is NaN."""

  def __init__(self, batches, at, fn=None):
    self.batches, self.at, self.count = batches, at, 0
    self.fn = fn or (lambda b: {**b, 'frames': np.full_like(b['frames'], 3e38)})

  def __iter__(self):
    return self

  def __next__(self):
    batch = next(self.batches)
    self.count += 1
    return self.fn(batch) if self.count >= self.at else batch

  def get_state(self):
    return self.batches.get_state()


class TmpDirs(parameterized.TestCase):

  def tmpdir(self):
    path = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


class TrainTest(TmpDirs):

  @parameterized.parameters(('sideways', 'input', False), ('sideways', 'none', True),
                            ('bptt', 'input', False), ('backprop', 'two_below', False),
                            ('gpipe', 'input', False))
  def test_runs_and_writes_contract_files(self, algorithm, skips, stream):
    workdir = self.tmpdir()
    config = tiny(algorithm=algorithm, skips=skips, stream=stream)
    final = train.train_and_evaluate(config, workdir)
    self.assertBetween(final['clip_accuracy'], 0., 1.)
    with open(os.path.join(workdir, 'config.json')) as f:
      recorded = json.load(f)
    self.assertEqual(recorded['algorithm'], algorithm)
    for key in ('version', 'commit', 'devices', 'start_time'):
      self.assertIn(key, recorded['run_info'])
    train_records, eval_records = records(workdir, 'train'), records(workdir, 'eval')
    self.assertEqual([r['step'] for r in train_records], [1, 2, 3, 4])
    self.assertEqual([r['step'] for r in eval_records], [2, 4])
    for key in ('loss', 'accuracy', 'ticks_per_s'):
      self.assertIn(key, train_records[0])
    for key in ('loss', 'accuracy', 'clip_accuracy', 'train_time_s', 'num_clips'):
      self.assertIn(key, eval_records[0])
    with open(os.path.join(workdir, 'result.json')) as f:
      result = json.load(f)
    self.assertEqual(result['step'], 4)
    self.assertGreater(result['train_time_s'], 0.)
    self.assertEqual(result['clip_accuracy'], final['clip_accuracy'])
    self.assertEqual(final_state(workdir, config).step, 4)

  # The first placed run is stopped at step 3 and resumed: a placed run that resumes ends
  # where the one-device run does, in its metrics and in every parameter.
  @parameterized.parameters(('sideways', 4, 1, False, True), ('bptt', 2, 2, False, False),
                            ('sideways', 2, 2, True, False))
  def test_placed_run_prints_the_one_device_metrics(self, algorithm, stage, data, stream,
                                                    resume):
    # vgg-small (K = 5) on 4 stages, or 2 stages x 2 data lanes; batch 2 splits over 2.
    overrides = {'algorithm': algorithm, 'model.size': 'small', 'stream': stream}
    one_dir = self.tmpdir()
    one = train.train_and_evaluate(tiny(**overrides), one_dir)
    workdir = self.tmpdir()
    placed_config = tiny(stage_devices=stage, data_devices=data, **overrides)
    if resume:
      train.train_and_evaluate(tiny(stage_devices=stage, data_devices=data, num_steps=3,
                                    **overrides), workdir)
      self.assertEqual(final_state(workdir, placed_config).step, 3)
    placed = train.train_and_evaluate(placed_config, workdir)
    self.assertEqual(set(placed), set(one))
    for key, value in one.items():
      self.assertAlmostEqual(placed[key], value, places=5, msg=key)
    # Its checkpoints hold the single-device state: evaluate reads them on one device.
    got = evaluate.evaluate_workdir(workdir)
    for key in ('loss', 'clip_accuracy'):
      self.assertAlmostEqual(got[key], placed[key], places=5, msg=key)
    a = final_state(one_dir, tiny(**overrides)).state
    b = final_state(workdir, placed_config).state
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params)):
      np.testing.assert_allclose(np.asarray(y), np.asarray(x), atol=1e-6)

  def test_module_lr_scales_name_modules_from_the_bottom(self):
    self.assertIsNone(builders.module_lr_scales(tiny(module_lr_scales=''), 3))
    self.assertEqual(builders.module_lr_scales(tiny(module_lr_scales='0,0'), 5),
                     (0., 0., 1., 1., 1.))
    self.assertEqual(builders.module_lr_scales(tiny(module_lr_scales='0,.5,1'), 3),
                     (0., .5, 1.))
    with self.assertRaisesRegex(checks.ConfigError, '1 to 3'):
      builders.module_lr_scales(tiny(module_lr_scales='0,0,0,0'), 3)

  def test_frame_prediction_on_moving_digits(self):
    final = train.train_and_evaluate(tiny_digits(num_steps=2), self.tmpdir())
    for key in ('mse', 'psnr', 'ssim', 'copy_last_mse', 'copy_last_psnr'):
      self.assertIn(key, final)
    self.assertIn('(copy-last', builders.summary(final))

  def test_rerun_resumes_and_keeps_each_step_once(self):
    straight = self.tmpdir()
    train.train_and_evaluate(tiny(), straight)
    resumed = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=3), resumed)  # checkpoints 2 and 3
    final = train.train_and_evaluate(tiny(), resumed)      # resumes at 3
    self.assertEqual(without_timing(but_eval_at(3, records(resumed))),
                     without_timing(records(straight)))
    assert_same_leaves(self, final_state(resumed, tiny()).state,
                       final_state(straight, tiny()).state)
    self.assertEqual(final, train.train_and_evaluate(tiny(), resumed))  # finished: same
    with open(os.path.join(resumed, 'config.json')) as f:
      self.assertEqual([r['step'] for r in json.load(f)['run_info']['resumes']], [3])

  def test_a_run_started_before_newer_keys_resumes_with_them(self):
    # Kept clips are the rendered ones, so dataset.cache changes nothing a run computes, and
    # keys added later and left unset (the dataset's difficulty) mean the set's own values.
    workdir = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), workdir)
    path = os.path.join(workdir, 'config.json')
    with open(path) as f:
      record = json.load(f)
    for key in ('cache', 'num_distractors', 'noise'):
      del record['dataset'][key]
    with open(path, 'w') as f:
      json.dump(record, f)
    train.train_and_evaluate(tiny(), workdir)
    self.assertEqual(final_state(workdir, tiny()).step, 4)
    config = tiny(num_steps=6)
    config.dataset.noise = 0.0  # set: another run
    with self.assertRaisesRegex(checks.FlagError, r'dataset.noise: None -> 0.0'):
      train.train_and_evaluate(config, workdir)

  def test_stream_resumes_mid_stream(self):
    # Chunks of 5 frames over 6-frame clips: the resume point falls inside videos, with
    # buffers, clock and stream position in flight.
    config = lambda n: tiny(stream=True, num_steps=n, frames_per_clip=5, checkpoint_every=3)
    straight = self.tmpdir()
    train.train_and_evaluate(config(5), straight)
    resumed = self.tmpdir()
    train.train_and_evaluate(config(3), resumed)
    train.train_and_evaluate(config(5), resumed)
    a, b = final_state(straight, config(5)), final_state(resumed, config(5))
    assert_same_leaves(self, a.state, b.state)
    self.assertEqual(int(a.state.clock), 25)  # never reset: 5 chunks of 5 frames
    self.assertEqual(a.extra['data'], b.extra['data'])
    self.assertEqual(without_timing(but_eval_at(3, records(resumed))),
                     without_timing(records(straight)))

  def test_rerun_with_another_config_is_refused(self):
    workdir = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), workdir)
    with self.assertRaisesRegex(checks.FlagError, r'learning_rate: 0.0003 -> 0.001'):
      train.train_and_evaluate(tiny(learning_rate=1e-3), workdir)

  def test_corrupt_newest_checkpoint_falls_back_with_a_warning(self):
    straight = self.tmpdir()
    train.train_and_evaluate(tiny(), straight)
    workdir = self.tmpdir()
    train.train_and_evaluate(tiny(), workdir)
    newest = os.path.join(workdir, 'checkpoints', '4', 'state')
    for root, _, files in os.walk(newest):  # scramble every array file of checkpoint 4
      for name in files:
        path = os.path.join(root, name)
        if os.path.getsize(path) > 64 and 'METADATA' not in name:
          with open(path, 'r+b') as f:
            f.seek(32)
            f.write(b'\xff' * 16)
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always')
      train.train_and_evaluate(tiny(), workdir)
    messages = [str(w.message) for w in caught
                if issubclass(w.category, checkpoints.CorruptCheckpointWarning)]
    self.assertLen(messages, 1)
    self.assertIn('checkpoint 4', messages[0])
    self.assertTrue(os.listdir(os.path.join(workdir, 'checkpoints_corrupt')))
    assert_same_leaves(self, final_state(workdir, tiny()).state,
                       final_state(straight, tiny()).state)
    self.assertEqual(without_timing(records(workdir)), without_timing(records(straight)))

  def test_nan_stops_naming_module_and_tick_and_keeps_the_last_checkpoint(self):
    workdir = self.tmpdir()
    make = train.make_batches
    self.enter_context(mock.patch.object(
        train, 'make_batches', lambda *a, **k: NaNAt(make(*a, **k), at=3)))
    # Step n trains on batch n (batch 1 also compiles the step): step 3 meets the NaNs.
    with self.assertRaisesRegex(checks.NonFiniteError,
                                r'step 3: a NaN or Inf gradient in module \d \(\w+\) at '
                                r'tick \d+'):
      train.train_and_evaluate(tiny(), workdir)
    store = checkpoints.Checkpoints(os.path.join(workdir, 'checkpoints'))
    self.assertEqual(store.steps(), [2])
    restored = final_state(workdir, tiny())
    self.assertTrue(all(np.isfinite(x).all() for x in jax.tree.leaves(restored.state.params)))
    self.assertFalse(os.path.exists(os.path.join(workdir, 'result.json')))



if __name__ == '__main__':
  absltest.main()
