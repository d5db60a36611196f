"""The launcher end to end on the `tiny` config, in a temp dir (nanodo-style): the files a
run writes, resuming, streams, evaluation, NaN stops, corrupt checkpoints, the registry."""

import importlib
import json
import os
import shutil
import tempfile
import warnings
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import numpy as np

import sideways_jax as sj
from sideways_jax import checkpoints
from sideways_jax import models

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

  @parameterized.parameters('classification', 'prediction')
  def test_kept_frozen_outputs_give_the_same_run(self, task):
    # 12 steps of 2 over 16 clips, so the second epoch reads every clip's kept outputs. The
    # same records and final state as computing them. Classification: module 1 of 3 frozen
    # (module 2 reads it); prediction (moving digits, 8 clips): modules 1-2 frozen, the top
    # also reading the frames x[t - 1] (the variant's skips).
    kept, computed = self.tmpdir(), self.tmpdir()
    if task == 'classification':
      config = lambda **kw: tiny(num_steps=12, module_lr_scales='0', eval_every=6,
                                 checkpoint_every=12, **kw)
      counts = (8, 4, 16)
    else:
      def config(**kw):
        c = tiny_digits(12)
        c.update(checkpoint_every=12, **kw)
        return c
      counts = (4, 8, 8)
    with mock.patch.object(sj.FrozenCache, 'attach', autospec=True,
                           side_effect=sj.FrozenCache.attach) as attach:
      train.train_and_evaluate(config(), kept)
    self.assertEqual(attach.call_count, 12)
    cache = attach.call_args[0][0]
    self.assertEqual((cache.misses, cache.hits, len(cache)), counts)
    with mock.patch.object(sj.FrozenCache, 'attach') as unused:
      train.train_and_evaluate(config(frozen_cache_gb=0.), computed)
    unused.assert_not_called()
    self.assertEqual(without_timing(records(kept)), without_timing(records(computed)))
    a, b = final_state(kept, config()).state, final_state(computed, config()).state
    # The buffers too, but for module 1's under prediction: a frozen module that only frozen
    # modules read is not run once theirs are given, so it leaves zeros (the next clip
    # empties the buffers anyway).
    unread = 1 if task == 'prediction' else 0
    read = lambda s: s._replace(pipeline=s.pipeline._replace(acts=s.pipeline.acts[unread:]))
    assert_same_leaves(self, read(a), read(b))
    if unread:
      self.assertFalse(np.asarray(a.pipeline.acts[0].value).any())
      self.assertTrue(np.asarray(b.pipeline.acts[0].value).any())

  def test_frozen_outputs_are_kept_for_the_embedded_sets_only(self):
    # A file dataset may change a clip every epoch (crops, flips), so every draw would be a
    # new entry: the launcher keeps none there.
    config = tiny(module_lr_scales='0')
    train_set, _ = builders.make_datasets(config)
    task, network = builders.make_task_and_network(config, train_set)
    trainer = builders.make_trainer(config, network, task, train_set.frame_shape)
    batch = builders.preprocess(config)(train_set.get_batch([0, 1]))
    params = trainer.init(jax.random.PRNGKey(0), batch).params
    self.assertIn('frozen_values', builders.frozen_cache(config, trainer, params,
                                                         train_set)(batch))

    class FromFiles:  # a dataset without keep_rendered, as the file loaders are
      pass
    augmented = tiny(module_lr_scales='0', **{'dataset.augment': 'roll'})
    for off in ((config, FromFiles()), (tiny(module_lr_scales='0', frozen_cache_gb=0.),
                                        train_set),
                (augmented, builders.make_datasets(augmented)[0])):  # new clips each epoch
      self.assertNotIn('frozen_values', builders.frozen_cache(off[0], trainer, params,
                                                              off[1])(batch))

  def test_ema_evaluates_the_average_and_leaves_training_alone(self):
    plain, averaged = self.tmpdir(), self.tmpdir()
    base = train.train_and_evaluate(tiny(), plain)
    final = train.train_and_evaluate(tiny(ema_decay=0.5, eval_raw=True), averaged)
    config = tiny(ema_decay=0.5)
    state = final_state(averaged, config).state
    assert_same_leaves(self, state.params, final_state(plain, tiny()).state.params)
    for key in ('loss', 'clip_accuracy'):  # the raw parameters score as the plain run
      self.assertAlmostEqual(final[f'raw_{key}'], base[key], places=5)
    self.assertNotAlmostEqual(final['loss'], base['loss'], places=5)
    train_set, test_set = builders.make_datasets(config)
    task, network = builders.make_task_and_network(config, train_set)
    trainer = builders.make_trainer(config, network, task, placed=False)
    chex.assert_trees_all_close(
        builders.eval_params(trainer, state, config),
        sj.averaged_params(state.params, state.opt_state, 0.5))
    self.assertAlmostEqual(evaluate.evaluate_workdir(averaged)['loss'], final['loss'],
                           places=5)  # experiments.evaluate reads the average too

  def test_init_from_gives_the_frozen_modules_another_runs_parameters(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), source)  # nothing frozen: all modules learn
    learned = final_state(source, tiny(num_steps=2)).state.params
    warm = self.tmpdir()
    config = tiny(num_steps=2, module_lr_scales='0', init_from=source)
    train.train_and_evaluate(config, warm)
    got = final_state(warm, config).state.params
    assert_same_leaves(self, got[0], learned[0])  # module 1: the source's, held
    fresh = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2, module_lr_scales='0'), fresh)
    start = final_state(fresh, tiny(num_steps=2, module_lr_scales='0')).state.params
    self.assertFalse(np.allclose(jax.tree.leaves(got[0])[0], jax.tree.leaves(start[0])[0]))
    self.assertFalse(np.allclose(jax.tree.leaves(got[1])[0], jax.tree.leaves(learned[1])[0]))

  def test_init_from_a_run_with_local_heads_takes_the_modules_own_parameters(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2, **{'model.local_heads': '1,2'}), source)
    learned = final_state(source, tiny(num_steps=2, **{'model.local_heads': '1,2'})
                          ).state.params
    self.assertTrue(any(n.startswith('local_head/') for n in learned[1]))
    warm = self.tmpdir()  # no heads here: modules 1-2 held at the source's, heads dropped
    config = tiny(num_steps=2, module_lr_scales='0,0', init_from=source)
    train.train_and_evaluate(config, warm)
    got = final_state(warm, config).state.params
    for k in (0, 1):
      self.assertFalse(any(n.startswith('local_head/') for n in got[k]))
      assert_same_leaves(self, got[k], {n: v for n, v in learned[k].items()
                                        if not n.startswith('local_head/')})

  def test_init_from_starts_a_local_head_of_another_shape_afresh(self):
    # The source's heads read a 3x3 conv of 8 channels (head_conv=8); here module 2's head
    # has 4: module 2's own parameters carry over, its head starts from initialisation.
    source = self.tmpdir()
    heads = {'model.local_heads': '2', 'model.head_conv': 8}
    train.train_and_evaluate(tiny(num_steps=2, **heads), source)
    learned = final_state(source, tiny(num_steps=2, **heads)).state.params
    config = tiny(init_from=source, init_modules='1,2', module_lr_scales='0',
                  **{'model.local_heads': '2', 'model.head_conv': 4})
    got, init = first_params(config)  # init: what warm_start starts from
    own = lambda p: {n: v for n, v in p.items() if not n.startswith('local_head/')}
    head = lambda p: {n: v for n, v in p.items() if n.startswith('local_head/')}
    assert_same_leaves(self, got[:1], learned[:1])
    assert_same_leaves(self, own(got[1]), own(learned[1]))
    self.assertNotEqual(jax.tree.map(np.shape, head(got[1])),
                        jax.tree.map(np.shape, head(learned[1])))
    assert_same_leaves(self, head(got[1]), head(init[1]))

  def test_init_modules_start_learning_modules_from_another_run(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), source)
    learned = final_state(source, tiny(num_steps=2)).state.params
    config = tiny(init_from=source, init_modules='2,3')  # nothing frozen: 2-3 start there
    got, _ = first_params(config)
    assert_same_leaves(self, got[1:], learned[1:])
    self.assertFalse(np.allclose(jax.tree.leaves(got[0])[0], jax.tree.leaves(learned[0])[0]))
    for bad, problem in (('2,9', 'not distinct module numbers 1..3'), ('x', 'not distinct')):
      with self.assertRaisesRegex(checks.ConfigError, f'init_modules=.*{problem}'):
        train.train_and_evaluate(tiny(init_from=source, init_modules=bad), self.tmpdir())
    with self.assertRaisesRegex(checks.ConfigError, 'init_modules=.*init_from, which is not'):
      train.train_and_evaluate(tiny(init_modules='1'), self.tmpdir())

  def test_init_from_lets_a_learning_module_read_new_skip_edges(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2, skips='none'), source)
    learned = final_state(source, tiny(num_steps=2, skips='none')).state.params
    config = tiny(init_from=source, init_modules='1,2,3', module_lr_scales='0',
                  skips='1>3:fresh-0/2')  # module 3 learns, and reads module 1 at two delays
    got, _ = first_params(config)
    assert_same_leaves(self, got[:2], learned[:2])
    new = sorted(n for n in got[2] if n not in learned[2])
    self.assertEqual(new, ['skip_from_1_d1/proj', 'skip_from_1_d3/proj'])
    assert_same_leaves(self, {n: got[2][n] for n in learned[2]}, learned[2])
    # A frozen module would hold a new skip's random projection forever: refused.
    frozen = tiny(init_from=source, module_lr_scales='0,0', skips='0>2')
    workdir = self.tmpdir()
    with self.assertRaisesRegex(checks.ConfigError, 'init_from=.*module 2 is frozen and '
                                'reads skip edges the source did not have'):
      train.train_and_evaluate(frozen, workdir)
    self.assertEqual(os.listdir(workdir), [])

  def test_init_from_refuses_what_it_cannot_use(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), source)
    cases = [(tiny(init_from=source), 'freezes none'),  # nothing frozen to fill
             (tiny(module_lr_scales='0', init_from=self.tmpdir()), 'not a run folder'),
             (tiny(module_lr_scales='0', init_from=source, **{'model.size': '16,16p'}),
              "parameter shapes")]
    for config, problem in cases:
      workdir = self.tmpdir()
      with self.assertRaisesRegex(checks.ConfigError, f'init_from=.*{problem}'):
        train.train_and_evaluate(config, workdir)
      self.assertEqual(os.listdir(workdir), [])  # a failed start leaves nothing behind

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

  def test_eval_scores_every_clip_and_says_how_many(self):
    for eval_clips in (1, 5):  # below the batch size; a partial last batch
      workdir = self.tmpdir()
      final = train.train_and_evaluate(tiny(num_steps=2, eval_every=1, eval_clips=eval_clips,
                                            batch_size=2), workdir)
      first = records(workdir, 'eval')[0]
      self.assertEqual((first['step'], first['num_clips']), (1, eval_clips))
      self.assertEqual(final['num_clips'], 16)  # the last evaluation: the whole split
      self.assertIn('clip_accuracy', final)

  def test_evaluate_newest_checkpoint(self):
    workdir = self.tmpdir()
    final = train.train_and_evaluate(tiny(), workdir)
    record = evaluate.evaluate_workdir(workdir)
    self.assertEqual(record['step'], 4)
    self.assertEqual(record['split'], 'eval')
    for key, value in final.items():
      self.assertAlmostEqual(record[key], value, places=5)
    self.assertEqual(evaluate.evaluate_workdir(workdir, step=2)['step'], 2)
    with self.assertRaisesRegex(checks.FlagError, 'no such checkpoint'):
      evaluate.evaluate_workdir(workdir, step=3)

  def test_evaluate_per_class(self):
    workdir = self.tmpdir()
    train.train_and_evaluate(tiny(eval_clips=7), workdir)
    record = evaluate.evaluate_workdir(workdir, num_clips=7, per_class=True)  # a partial batch
    confusion = np.array(record['clip_confusion'])
    num_classes = 8  # temporal_actions
    self.assertEqual(confusion.shape, (num_classes, num_classes))
    self.assertEqual(confusion.sum(), 7)  # every scored clip counted once
    self.assertAlmostEqual(np.trace(confusion) / 7, record['clip_accuracy'], places=6)
    per_class = record['per_class_clip_accuracy']
    self.assertEqual(list(per_class)[:2], ['right', 'up'])  # the dataset's class names
    for i, (name, accuracy) in enumerate(per_class.items()):
      if confusion[i].sum():
        self.assertAlmostEqual(accuracy, confusion[i, i] / confusion[i].sum(), msg=name)
      else:
        self.assertIsNone(accuracy, msg=name)
    self.assertNotIn('clip_confusion', evaluate.evaluate_workdir(workdir))  # only if asked

  def test_evaluate_per_class_refuses_prediction(self):
    workdir = self.tmpdir()
    train.train_and_evaluate(tiny_digits(num_steps=1), workdir)
    with self.assertRaisesRegex(checks.FlagError, 'per-class accuracy needs a classification'):
      evaluate.evaluate_workdir(workdir, per_class=True)

  def test_tensorboard_reads_the_events_once_per_step(self):
    event_accumulator = importlib.import_module(
        'tensorboard.backend.event_processing.event_accumulator')
    workdir = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=3), workdir)
    train.train_and_evaluate(tiny(), workdir)  # a second events file after the resume
    acc = event_accumulator.EventAccumulator(workdir)
    acc.Reload()
    self.assertEqual([e.step for e in acc.Scalars('train/loss')], [1, 2, 3, 4])
    self.assertEqual([e.step for e in acc.Scalars('eval/clip_accuracy')], [2, 3, 4])
    losses = [r['loss'] for r in records(workdir, 'train')]
    np.testing.assert_allclose([e.value for e in acc.Scalars('train/loss')], losses,
                               rtol=1e-6)


class ConfigTest(TmpDirs):

  @parameterized.parameters([None] + sorted(default.VARIANTS))
  def test_every_variant_is_valid_and_explained(self, variant):
    config = default.get_config(variant)
    if 'root' in config.dataset:
      config.dataset.root = '/data/somewhere'
    checks.check_config(config)
    for key in ('seed', 'num_steps', 'batch_size', 'frames_per_clip', 'eval_every',
                'checkpoint_every', 'algorithm', 'skips', 'update_every', 'stream', 'task',
                'dataset', 'model', 'optimizer', 'learning_rate', 'stage_devices',
                'data_devices'):  # CONTRACTS.md
      self.assertIn(key, config)
    missing = [k for k in keys.flat_keys(config) if k not in keys.KEYS]
    self.assertEqual(missing, [])

  def test_default_is_skip_sideways_on_motion(self):
    config = default.get_config()
    self.assertEqual((config.algorithm, config.skips, config.dataset.name,
                      config.dataset.level, config.task),
                     ('sideways', 'input', 'temporal_actions', 'motion', 'classification'))

  def test_dataset_cache_keeps_the_embedded_sets_and_refuses_file_sets(self):
    config = tiny()
    self.assertTrue(config.dataset.cache)
    self.assertNotIn('cache', default.get_config('motion_files').dataset)  # video files
    train_set, test_set = builders.make_datasets(config)
    self.assertGreater(train_set.kept_bytes, 0)
    self.assertGreater(test_set.kept_bytes, 0)
    config.dataset.cache = False
    self.assertEqual(builders.make_datasets(config)[0].kept_bytes, 0)
    config.dataset.cache = True
    with mock.patch.object(builders.data, 'get_dataset', return_value=object()):
      with self.assertRaisesRegex(checks.ConfigError,
                                  r'dataset.cache=True: .* from files.*drop --config'):
        builders.make_datasets(config)

  def test_difficulty_keys_reach_the_dataset_only_when_set(self):
    config = tiny()
    self.assertNotIn('num_distractors', checks.dataset_kwargs(config))  # the set's own
    self.assertNotIn('noise', checks.dataset_kwargs(config))
    config.dataset.num_distractors, config.dataset.noise = 0, 0.0
    train_set, _ = builders.make_datasets(config)
    self.assertEqual((train_set.config['num_distractors'], train_set.config['noise']),
                     (0, 0.0))
    config.dataset.num_distractors = 5
    with self.assertRaisesRegex(ValueError, r'num_distractors must be an integer in \[0, 3\]'):
      builders.make_datasets(config)

  def test_augment_reaches_the_training_clips_only(self):
    config = tiny(**{'dataset.augment': 'roll,colors'})
    train_set, test_set = builders.make_datasets(config)
    self.assertEqual((train_set.augment, test_set.augment), (('roll', 'colors'), ()))
    self.assertFalse(np.array_equal(train_set.get_batch([0], epoch=0)['frames'],
                                    train_set.get_batch([0], epoch=1)['frames']))
    config.dataset.augment = 'mirror'
    with self.assertRaisesRegex(checks.InputError,
                                r"dataset.*augment='mirror': give distinct names of roll"):
      builders.make_datasets(config)
    digits = tiny_digits(2)
    digits.dataset.augment = 'roll'  # bouncing digits are not on a torus: no such option
    with self.assertRaisesRegex(checks.ConfigError, r"dataset.augment.*has no option"):
      builders.make_datasets(digits)

  def test_auto_local_heads_are_for_sideways_only_and_skip_frozen_modules(self):
    config = default.get_config()
    config.dataset.num_clips = 16
    train_set, _ = train.make_datasets(config)
    heads = lambda: tuple(k for k, _ in train.make_task_and_network(
        config, train_set)[1].local_heads)
    self.assertEqual(config.model.local_heads, 'auto')
    self.assertEqual(heads(), (3, 4))
    self.assertEqual(train.make_task_and_network(config, train_set)[1].local_weight, 3.)
    config.module_lr_scales = '0,0,0'
    self.assertEqual(heads(), (4,))
    config.module_lr_scales = '0,0'
    for algorithm in ('bptt', 'backprop', 'gpipe'):
      config.algorithm = algorithm
      self.assertEqual(heads(), ())
    config.algorithm = 'sideways'
    config.model.local_heads = '4'
    self.assertEqual(heads(), (4,))
    config.model.local_heads = ''
    self.assertEqual(heads(), ())

  def test_dynamics_variant_tunes_module_4_from_a_motion_run(self):
    config = default.get_config('dynamics')
    self.assertEqual((config.dataset.level, config.algorithm), ('dynamics', 'sideways'))
    self.assertEqual(config.init_from, 'workdirs/default')  # the README's main command
    self.assertEqual(builders.frozen_modules(config, 5), (1, 2, 3))
    self.assertEqual(builders.module_lr_scales(config, 5), (0, 0, 0, 0.3, 1))
    self.assertEqual(builders.init_modules(config, 5), (1, 2, 3, 4))
    config.dataset.num_clips = 16
    train_set, _ = builders.make_datasets(config)
    self.assertEqual(train_set.augment, ('roll', 'rot90', 'colors'))
    _, network = builders.make_task_and_network(config, train_set)
    self.assertEqual(network.local_heads, ())
    # Four taps of module 3 (the oldest 6 + 1 ticks behind it): the top is first valid at
    # tick 2 + 7 = 9, so a 16-frame clip has seven outputs.
    self.assertEqual(network.graph().valid_from(5), 9)
    checks.check_network(config, network, train_set.frame_shape)
    # Its source run is the README's main command; without it, one error says how to make it.
    config.init_from = os.path.join(self.tmpdir(), 'default')
    config.eval_clips = 16
    workdir = self.tmpdir()
    with self.assertRaisesRegex(checks.ConfigError, r'init_from=.*not a run folder.*train '
                                r'one there first \(python -m experiments.train --workdir='):
      train.train_and_evaluate(config, workdir)
    self.assertEqual(os.listdir(workdir), [])

  def test_real_data_configs_read_a_plain_root_key_and_flip(self):
    for name in ('ucf101', 'hmdb51', 'kinetics600', 'moving_mnist'):
      config = default.get_config(name)
      config.dataset.root = f'/data/{name}'
      kwargs = checks.dataset_kwargs(config)
      self.assertEqual(kwargs['root'], f'/data/{name}')
      self.assertEqual(kwargs['flip'], name != 'moving_mnist')
      self.assertNotIn('num_workers', kwargs)
      self.assertIn('Compute', default.VARIANTS[name].__doc__)

  def test_unknown_variant(self):
    with self.assertRaisesRegex(ValueError, 'Unknown config variant'):
      default.get_config('ucf')

  def test_models_come_from_the_registry_with_every_model_key(self):
    seen = {}

    def my_net(*, extra_option, **kwargs):
      seen['extra_option'] = extra_option
      return models.vgg('tiny', **kwargs)

    self.enter_context(mock.patch.dict(models.MODELS, {'my_net': my_net}))
    config = tiny()
    config.model = {'name': 'my_net', 'extra_option': 7}
    train_set, _ = train.make_datasets(config)
    task, network = train.make_task_and_network(config, train_set)
    self.assertEqual(seen, {'extra_option': 7})
    self.assertEqual((task.name, network.num_modules), ('classification', 3))
    config.task = 'prediction'
    config.skips = 'none'
    self.assertEqual(train.make_task_and_network(config, train_set)[0].name, 'prediction')

  def test_public_builders_keep_their_signatures(self):
    config = tiny()
    self.assertEqual(train.updates_per_step(config, 3), 6 + 2)
    self.assertIsNotNone(train.make_optimizer(config, 3))
    batch = {'frames': np.ones((1, 2, 4, 4, 3), np.float32)}
    self.assertAlmostEqual(float(np.abs(train.preprocess(config)(batch)['frames']).max()), 0.)


if __name__ == '__main__':
  absltest.main()
