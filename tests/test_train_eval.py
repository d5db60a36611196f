"""The launcher's evaluations on the `tiny` config: the clips scored, experiments.evaluate on
a run's newest checkpoint, per-class accuracy, and what TensorBoard reads of a run."""

import importlib
import io

from absl.testing import absltest

import numpy as np

from experiments import builders
from experiments import checks
from experiments import evaluate
from experiments import evaluation
from experiments import train

from test_train import (  # the launcher test helpers
    tiny, tiny_digits, records, TmpDirs)


class TrainEvalTest(TmpDirs):

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
    # The resolved config (config.json) as text at each launch's first step.
    texts = acc.Tensors('config/text_summary')
    self.assertEqual([e.step for e in texts], [0, 3])
    text = texts[-1].tensor_proto.string_val[0].decode()
    self.assertTrue(text.startswith('```json'))
    self.assertIn('"num_steps": 4', text)
    self.assertIn('"run_info"', text)
    # hparams with the final metrics: every config key against the eval scalars.
    plugin_data = importlib.import_module('tensorboard.plugins.hparams.plugin_data_pb2')
    content = lambda tag: plugin_data.HParamsPluginData.FromString(
        acc.SummaryMetadata(tag).plugin_data.content)
    start = content('_hparams_/session_start_info').session_start_info
    self.assertEqual(start.hparams['algorithm'].string_value, 'sideways')
    self.assertEqual(start.hparams['dataset.name'].string_value, tiny().dataset.name)
    self.assertIn('learning_rate', start.hparams)
    metrics = [m.name.tag for m in content('_hparams_/experiment').experiment.metric_infos]
    self.assertIn('eval/clip_accuracy', metrics)
    self.assertTrue(content('_hparams_/session_end_info').HasField('session_end_info'))

  def test_tensorboard_shows_predicted_frames_above_their_targets(self):
    event_accumulator = importlib.import_module(
        'tensorboard.backend.event_processing.event_accumulator')
    image_module = importlib.import_module('PIL.Image')
    workdir = self.tmpdir()
    config = tiny_digits(num_steps=2)
    train.train_and_evaluate(config, workdir)
    acc = event_accumulator.EventAccumulator(workdir, size_guidance={
        event_accumulator.IMAGES: 0})
    acc.Reload()
    image, = acc.Images('eval/predicted_frames')  # eval_every = num_steps = 2
    self.assertEqual(image.step, 2)
    side = config.dataset.resolution
    self.assertEqual(image.height, 2 * side + 1)
    count = (image.width + 1) // (side + 1)
    self.assertEqual(image.width, count * (side + 1) - 1)
    self.assertBetween(count, 1, config.frames_per_clip - 1)
    grid = np.asarray(image_module.open(io.BytesIO(image.encoded_image_string)),
                      np.float32) / 255.
    # The bottom row: frames of the first clip of the evaluation sample, in order.
    test_set = builders.make_datasets(config)[1]
    index = evaluation.sample_indices(test_set, config.eval_clips, config.task)[0]
    clip = np.asarray(test_set.get_batch([index])['frames'][0])  # [T, H, W, C]
    targets = [grid[side + 1:, i * (side + 1):i * (side + 1) + side] for i in range(count)]
    times = [int(np.argmin([np.abs(frame[..., :1] - t[..., :1]).max() for frame in clip]))
             for t in targets]
    for target, t in zip(targets, times):
      np.testing.assert_allclose(target[..., :1], clip[t][..., :1], atol=1 / 255 + 1e-6)
    self.assertEqual(times, list(range(times[0], times[0] + count)))


if __name__ == '__main__':
  absltest.main()
