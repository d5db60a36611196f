"""Which held-out clips evaluation scores (experiments/evaluation.py): a fixed,
class-stratified sample at every periodic evaluation (not the split's first clips, which on
a class-ordered test list are the first few classes), the whole split at the end and in
experiments.evaluate, loaded on worker threads with the same numbers, and the mean over
runs (UCF101 / HMDB51 folds) with its refusals."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

from absl.testing import absltest
import jax
import numpy as np

from sideways_jax import data as data_lib
from sideways_jax.data import batching
from sideways_jax.data import export

from experiments import builders
from experiments import checks
from experiments import evaluate
from experiments import evaluation
from experiments import train
from experiments.configs import default

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(**overrides):
  config = default.get_config('tiny')
  config.update(overrides)
  return config


class ClassOrdered:
  """A test split listed by class, as UCF101's and HMDB51's are: `sizes[c]` items of
  class c, then class c + 1. Frames are blank; `video_ids` say which items were read."""

  def __init__(self, sizes=(5,) * 8, labelled=True):
    self.num_classes = len(sizes)
    self.class_names = [f'class{c}' for c in range(self.num_classes)]
    self.frame_shape, self.frames_per_clip = (4, 4, 1), 2
    self._labels = np.repeat(np.arange(self.num_classes), sizes).astype(np.int32)
    if labelled:
      self.item_labels = self._labels

  def __len__(self):
    return len(self._labels)

  def __getitem__(self, i):
    return dict(frames=np.zeros((2, 4, 4, 1), np.float32), label=int(self._labels[i]),
                video_id=int(i))

  def get_batch(self, indices, epoch=0):
    return batching.collate([self[int(i)] for i in indices])


class Recorder:
  """A trainer whose `evaluate` notes the items it is shown; clip accuracy 1 on class 0."""

  def __init__(self):
    self.items = []

  def evaluate(self, params, batch):
    del params
    self.items.extend(batch['video_ids'][:, 0].tolist())
    labels = batch['labels'][:, 0]
    return {'clip_accuracy': np.mean(labels == 0), 'num_outputs': len(labels)}


def scored(test_set, config, num_clips=None):
  trainer = Recorder()
  record = builders.evaluate_clips(trainer, None, test_set, config, num_clips)
  return trainer.items, record


class SampleTest(absltest.TestCase):

  def test_periodic_sample_covers_every_class_of_a_class_ordered_split(self):
    test_set = ClassOrdered()  # 40 items, 8 classes of 5
    items, record = scored(test_set, tiny(eval_clips=20))
    labels = test_set.item_labels[items]
    self.assertEqual(record['num_clips'], 20)
    self.assertEqual((record['num_classes_scored'], record['num_classes']), (8, 8))
    counts = np.bincount(labels, minlength=8)
    self.assertEqual(counts.sum(), 20)
    self.assertLessEqual(counts.max() - counts.min(), 1)  # 2 or 3 of each class
    self.assertLen(set(items), 20)
    self.assertGreater(max(items), 20)  # the first 20 items are classes 0-3 only
    self.assertTrue(builders.summary(record).endswith('on 20 clips, 8 of 8 classes'))
    # Within a class, items spread over its list (UCF101 lists a class actor by actor).
    self.assertEqual([i for i in items if i < 5], [0, 2, 4])  # class 0: 3 of its 5

  def test_uneven_classes_get_what_the_split_allows(self):
    labels = np.repeat(np.arange(4), [1, 2, 10, 10])
    picks = evaluation.stratified(labels, 15)
    self.assertLen(set(picks.tolist()), 15)
    self.assertEqual(np.bincount(labels[picks]).tolist(), [1, 2, 6, 6])
    self.assertEqual(np.bincount(labels[evaluation.stratified(labels, 3)]).tolist(),
                     [1, 1, 1])
    # Fewer clips than classes: the lowest labels, one clip each.
    self.assertEqual(labels[evaluation.stratified(labels, 2)].tolist(), [0, 1])

  def test_the_same_sample_at_every_evaluation_whatever_the_seed(self):
    test_set = ClassOrdered(sizes=(3, 7, 2, 9, 4))
    first, _ = scored(test_set, tiny(eval_clips=11))
    again, _ = scored(test_set, tiny(eval_clips=11))
    other_seed, _ = scored(test_set, tiny(eval_clips=11, seed=7))
    self.assertEqual(first, again)
    self.assertEqual(first, other_seed)

  def test_without_item_labels_or_for_prediction_items_evenly_spaced(self):
    for test_set, task in ((ClassOrdered(labelled=False), 'classification'),
                           (ClassOrdered(), 'prediction')):
      items = evaluation.sample_indices(test_set, 8, task)
      self.assertEqual(items.tolist(), [2, 7, 12, 17, 22, 27, 32, 37], task)
    items, record = scored(ClassOrdered(labelled=False), tiny(eval_clips=8))
    self.assertEqual(items, [2, 7, 12, 17, 22, 27, 32, 37])
    self.assertEqual(record['num_classes_scored'], 8)  # counted from the labels read
    config = tiny(eval_clips=8, task='prediction', center_frames=False)
    _, record = scored(ClassOrdered(), config)
    self.assertNotIn('num_classes', record)
    self.assertTrue(builders.summary(record).endswith('on 8 clips'))

  def test_whole_split_when_asked_or_when_it_is_small(self):
    test_set = ClassOrdered()
    self.assertEqual(scored(test_set, tiny(eval_clips=100))[0], list(range(40)))
    self.assertEqual(scored(test_set, tiny(eval_clips=4), num_clips=40)[0], list(range(40)))

  def test_bad_item_labels(self):
    test_set = ClassOrdered()
    test_set.item_labels = test_set.item_labels[:-1]
    with self.assertRaisesRegex(ValueError, r'item_labels has shape \(39,\).*\(40,\)'):
      evaluation.sample_indices(test_set, 8)

  def test_embedded_sets_list_their_labels_without_rendering(self):
    for name in ('temporal_actions', 'moving_digits'):
      ds = data_lib.get_dataset(name, 'test', num_clips=30, resolution=16)
      np.testing.assert_array_equal(ds.item_labels, ds.get_batch(np.arange(30))['labels'][:, 0])


class RunTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.root = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)

  def test_a_run_scores_one_sample_then_the_whole_split(self):
    workdir = os.path.join(self.root, 'run')
    picked = []

    def spy(test_set, num_clips, task='classification'):
      picked.append(sample(test_set, num_clips, task).tolist())
      return np.asarray(picked[-1])
    sample = evaluation.sample_indices
    with mock.patch.object(evaluation, 'sample_indices', spy):
      train.train_and_evaluate(tiny(num_steps=3, eval_every=1, eval_clips=4), workdir)
    self.assertLen(picked, 3)
    self.assertEqual(picked[0], picked[1])                 # steps 1 and 2: one sample
    self.assertEqual(picked[2], list(range(16)))           # step 3, the last: all 16
    with open(os.path.join(workdir, 'metrics.jsonl')) as f:
      evals = [r for r in map(json.loads, f) if r['split'] == 'eval']
    self.assertEqual([r['num_clips'] for r in evals], [4, 4, 16])
    self.assertEqual([r['num_classes_scored'] for r in evals], [4, 4, 8])
    with open(os.path.join(workdir, 'result.json')) as f:
      self.assertEqual(json.load(f)['num_clips'], 16)
    # experiments.evaluate: the whole split by default, the run's sample with eval_clips.
    self.assertEqual(evaluate.evaluate_workdir(workdir)['num_clips'], 16)
    self.assertAlmostEqual(evaluate.evaluate_workdir(workdir)['loss'], evals[-1]['loss'],
                           places=5)
    with mock.patch.object(evaluation, 'sample_indices', spy):
      self.assertEqual(evaluate.evaluate_workdir(workdir, num_clips=4)['num_clips'], 4)
    self.assertEqual(picked[-1], picked[0])  # the run's sample


class ClassOrderedFilesTest(absltest.TestCase):
  """The temporal action set written in UCF101's layout (its test list ordered by class,
  like the real one) and read back by the video loader."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    export.export('temporal_actions', cls.root, train_clips=2, test_clips=32,
                  resolution=16, frames_per_clip=6, level='motion')
    cls.config = tiny(eval_clips=8)
    cls.config.dataset = {'name': 'ucf101', 'root': cls.root, 'fold': 1, 'resolution': 16,
                          'short_side': 16, 'temporal_stride': 1, 'flip': False,
                          'num_workers': 0}

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_sample_covers_every_class_where_the_prefix_covers_few(self):
    _, test_set = builders.make_datasets(self.config)
    labels = np.array([test_set[i]['label'] for i in range(len(test_set))])
    self.assertTrue(np.all(np.diff(labels) >= 0))  # listed by class
    self.assertLess(len(set(labels[:8])), 4)        # what the first 8 clips would score
    items, record = scored(test_set, self.config)
    self.assertEqual(record['num_clips'], 8)
    self.assertEqual(record['num_classes_scored'], 8)
    self.assertEqual(sorted(set(labels[items])), list(range(8)))

  def test_worker_threads_give_the_numbers_of_serial_loading(self):
    _, test_set = builders.make_datasets(self.config)
    task, network = builders.make_task_and_network(self.config, test_set)
    trainer = builders.make_trainer(self.config, network, task, placed=False)
    batch = builders.preprocess(self.config)(test_set.get_batch([0, 1]))
    params = trainer.init(jax.random.PRNGKey(0), batch).params
    records = []
    for workers in (0, 3):
      config = self.config.copy_and_resolve_references()
      config.dataset.num_workers = workers
      with mock.patch.object(batching, 'batches', wraps=batching.batches) as loader:
        records.append(builders.evaluate_clips(trainer, params, test_set, config,
                                               num_clips=len(test_set), per_class=True))
      self.assertEqual(loader.call_args.kwargs['num_workers'], workers)
    self.assertEqual(records[0]['num_clips'], 32)
    self.assertEqual(records[0], records[1])


def _run_evaluate(*args):
  env = dict(os.environ, PYTHONPATH=_REPO)
  return subprocess.run([sys.executable, '-m', 'experiments.evaluate', *args], cwd=_REPO,
                        env=env, capture_output=True, text=True, timeout=300)


class FoldMeanTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.root = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)

  def fake_run(self, folder, **dataset):
    """A run folder holding only a config.json (enough for the checks before loading)."""
    workdir = os.path.join(self.root, folder)
    os.makedirs(workdir)
    config = tiny().to_dict()
    config['dataset'].update(dataset)
    with open(os.path.join(workdir, 'config.json'), 'w') as f:
      json.dump(config, f)
    return workdir

  def test_refuses_runs_that_cannot_be_averaged(self):
    a = self.fake_run('a', name='ucf101', fold=1)
    b = self.fake_run('b', name='ucf101', fold=1)
    c = self.fake_run('c', name='hmdb51', fold=2)
    d = self.fake_run('d', name='ucf101', fold=2)
    evaluate.check_runs([a, d])  # folds 1 and 2 of one dataset: fine
    for runs, expected in (([a, b], 'are both fold 1'),
                           ([a, c], 'different datasets'),
                           ([a, a], 'given twice')):
      with self.assertRaisesRegex(checks.FlagError, expected):
        evaluate.check_runs(runs)
    proc = _run_evaluate(f'--workdir={a},{b}')
    self.assertEqual(proc.returncode, 2, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    self.assertLen(lines, 1, proc.stderr)
    self.assertTrue(lines[0].startswith('error: '), lines[0])
    self.assertIn('are both fold 1', lines[0])

  def test_mean_and_std_over_runs(self):
    runs = []
    for seed in (0, 1):
      runs.append(os.path.join(self.root, f'seed{seed}'))
      train.train_and_evaluate(tiny(num_steps=2, seed=seed), runs[-1])
    proc = _run_evaluate(f'--workdir={",".join(runs)}')
    self.assertEqual(proc.returncode, 0, proc.stderr)
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    self.assertLen(lines, 3)
    self.assertEqual([r['workdir'] for r in lines[:2]], runs)
    self.assertEqual(lines[2]['runs'], 2)
    accuracies = [r['clip_accuracy'] for r in lines[:2]]
    self.assertAlmostEqual(lines[2]['mean']['clip_accuracy'], np.mean(accuracies))
    self.assertAlmostEqual(lines[2]['std']['clip_accuracy'], np.std(accuracies, ddof=1))
    self.assertIn('mean over 2 runs: ', proc.stderr)
    for r in lines[:2]:
      self.assertEqual(r['num_clips'], 16)  # the whole split


if __name__ == '__main__':
  absltest.main()
