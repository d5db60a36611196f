"""The launcher's configs: every variant valid and explained, what keys reach the dataset and
network, the model registry, the builders' public signatures."""

import os
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from sideways_jax import models

from experiments import builders
from experiments import checks
from experiments import train
from experiments import warm_start
from experiments.configs import default
from experiments.configs import keys

from test_train import (  # the launcher test helpers
    tiny, tiny_digits, TmpDirs)


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
    self.assertEqual(warm_start.init_modules(config, 5), (1, 2, 3, 4))
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


if __name__ == '__main__':
  absltest.main()
