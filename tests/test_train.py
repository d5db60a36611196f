"""The launcher end to end on a shrunken config, in a temp dir (nanodo-style)."""

import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized

from experiments import train
from experiments.configs import default


def tiny_config(**overrides):
  config = default.get_config()
  config.num_steps = 3
  config.batch_size = 2
  config.frames_per_clip = 6
  config.eval_every = 3
  config.log_every = 1
  config.eval_clips = 4
  config.model.size = 'tiny'
  config.dataset.kwargs = {'level': 'dynamics', 'resolution': 16, 'num_clips': 16}
  for key, value in overrides.items():
    config[key] = value
  return config


class TrainTest(parameterized.TestCase):

  @parameterized.parameters(('sideways', 'input', False), ('sideways', 'none', True),
                            ('bptt', 'input', False), ('backprop', 'two_below', False))
  def test_runs_and_writes_contract_files(self, algorithm, skips, stream):
    workdir = tempfile.mkdtemp()
    final = train.train_and_evaluate(
        tiny_config(algorithm=algorithm, skips=skips, stream=stream), workdir)
    self.assertBetween(final['clip_accuracy'], 0., 1.)
    with open(os.path.join(workdir, 'config.json')) as f:
      self.assertEqual(json.load(f)['algorithm'], algorithm)
    with open(os.path.join(workdir, 'metrics.jsonl')) as f:
      records = [json.loads(line) for line in f]
    train_records = [r for r in records if r['split'] == 'train']
    eval_records = [r for r in records if r['split'] == 'eval']
    self.assertEqual([r['step'] for r in train_records], [1, 2, 3])
    self.assertEqual([r['step'] for r in eval_records], [3])
    for key in ('loss', 'accuracy', 'ticks_per_s'):
      self.assertIn(key, train_records[0])
    for key in ('loss', 'accuracy', 'clip_accuracy'):
      self.assertIn(key, eval_records[0])

  def test_frame_prediction_on_moving_digits(self):
    config = tiny_config(skips='none', center_frames=False)
    config.dataset = {'name': 'moving_digits', 'kwargs': {'resolution': 16, 'num_clips': 8}}
    final = train.train_and_evaluate(config, tempfile.mkdtemp())
    for key in ('mse', 'psnr', 'ssim', 'copy_last_mse', 'copy_last_psnr'):
      self.assertIn(key, final)

  def test_bad_config_names_the_key(self):
    workdir = tempfile.mkdtemp()
    with self.assertRaisesRegex(ValueError, 'optimizer'):
      train.train_and_evaluate(tiny_config(optimizer='adagrad9'), workdir)
    with self.assertRaisesRegex(ValueError, 'stage_devices'):
      train.train_and_evaluate(tiny_config(stage_devices=2), workdir)
    with self.assertRaisesRegex(ValueError, 'algorithm'):
      train.train_and_evaluate(tiny_config(algorithm='sidewise'), workdir)
    with self.assertRaisesRegex(ValueError, 'dataset'):
      config = tiny_config()
      config.dataset.name = 'ucf'
      train.train_and_evaluate(config, workdir)


if __name__ == '__main__':
  absltest.main()
