"""Nothing lost: a training process killed (SIGKILL) at several points, one of them inside a
checkpoint save, or stopped by SIGTERM / SIGINT, and rerun each time with the same command,
ends with parameters bitwise equal to an uninterrupted run and each step once in
metrics.jsonl. Plus the checkpoint store, the metrics log and the TensorBoard events on
their own."""

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import warnings

from absl.testing import absltest
import jax
import jax.numpy as jnp
import numpy as np

from sideways_jax import checkpoints
from sideways_jax import metrics_writer

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs the launcher's console entry point after arranging for this process to receive
# SIGNAL at one point: `save:N` inside the save of checkpoint N (all files written, the
# final rename not done), `after_save:N` right after it, `step:N` right after step N has
# been computed (before its records are written).
_DRIVER = textwrap.dedent('''
    import os, signal, sys
    kind, at, sig = sys.argv[1], int(sys.argv[2]), getattr(signal, sys.argv[3])
    hit = lambda: os.kill(os.getpid(), sig)
    if kind == 'save':
      from orbax.checkpoint._src.path import atomicity
      cls = atomicity.AtomicRenameTemporaryPath
      finalize = cls.finalize
      async def finalize_then_die(self, *args, **kwargs):
        if self.get_final().name == str(at):
          hit()
        return await finalize(self, *args, **kwargs)
      cls.finalize = finalize_then_die
    elif kind == 'after_save':
      from sideways_jax import checkpoints
      save = checkpoints.Checkpoints.save
      def save_then_die(self, step, *args, **kwargs):
        save(self, step, *args, **kwargs)
        if step == at:
          hit()
      checkpoints.Checkpoints.save = save_then_die
    elif kind == 'step':
      from experiments import builders
      make_trainer = builders.make_trainer
      def make_trainer_that_dies(*args, **kwargs):
        trainer = make_trainer(*args, **kwargs)
        calls = []
        def step(state, batch):
          out = trainer.step(state, batch)
          calls.append(1)
          if len(calls) > 1 and int(out[0].step) == at:  # call 1 compiles (discarded)
            hit()
          return out
        return trainer._replace(step=step)
      builders.make_trainer = make_trainer_that_dies
    sys.argv = ['sideways-train'] + sys.argv[4:]
    from experiments import train
    train.run()
''')

_FLAGS = ['--config=experiments/configs/default.py:tiny', '--config.num_steps=8',
          '--config.checkpoint_every=2', '--config.eval_every=4', '--config.log_every=1']


def _launch(workdir, kill=None):
  args = (['-c', _DRIVER, *kill] if kill else ['-m', 'experiments.train'])
  return subprocess.run([sys.executable, *args, *_FLAGS, f'--workdir={workdir}'],
                        cwd=_REPO, capture_output=True, text=True, timeout=300)


def _records(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [{k: v for k, v in json.loads(line).items()
             if k not in ('ticks_per_s', 'train_time_s')} for line in f]


def _checkpoint(workdir, step):
  """Checkpoint `step` read back with orbax directly (not through the launcher)."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  path = os.path.join(workdir, 'checkpoints', str(step), 'state')
  return jax.tree.leaves(ocp.StandardCheckpointer().restore(path))


class KillAndResumeTest(absltest.TestCase):

  def test_killed_and_stopped_runs_end_bitwise_equal(self):
    root = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, root, ignore_errors=True)
    straight, interrupted = os.path.join(root, 'straight'), os.path.join(root, 'killed')
    done = _launch(straight)
    self.assertEqual(done.returncode, 0, done.stderr)

    # (kill point, exit status, checkpoint it resumes from next time)
    chain = [(('step', '3', 'SIGKILL'), -signal.SIGKILL, 2),
             (('save', '4', 'SIGKILL'), -signal.SIGKILL, 2),
             (('after_save', '4', 'SIGKILL'), -signal.SIGKILL, 4),
             (('step', '5', 'SIGTERM'), 128 + signal.SIGTERM, 5),
             (('step', '7', 'SIGINT'), 128 + signal.SIGINT, 7)]
    previous = None
    for kill, status, resumes_from in chain:
      proc = _launch(interrupted, kill)
      self.assertEqual(proc.returncode, status, f'{kill}: {proc.stderr[-2000:]}')
      self.assertNotIn('Traceback', proc.stderr)
      if previous:
        self.assertIn(f'resuming from the checkpoint at step {previous}', proc.stdout)
      if kill[2] != 'SIGKILL':
        self.assertIn(f'{kill[2]}: stopped at step {kill[1]} with a checkpoint',
                      proc.stderr)
      previous = resumes_from
    proc = _launch(interrupted)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    self.assertIn('resuming from the checkpoint at step 7', proc.stdout)

    for a, b in zip(_checkpoint(straight, 8), _checkpoint(interrupted, 8)):
      np.testing.assert_array_equal(a, b)
    self.assertEqual(_records(interrupted), _records(straight))
    steps = [(r['step'], r['split']) for r in _records(interrupted)]
    self.assertEqual(len(steps), len(set(steps)))
    for name in ('result.json',):
      with open(os.path.join(straight, name)) as f, open(os.path.join(interrupted, name)) as g:
        a, b = json.load(f), json.load(g)
      a.pop('train_time_s'), b.pop('train_time_s')
      self.assertEqual(a, b)
    leftovers = [n for n in os.listdir(os.path.join(interrupted, 'checkpoints'))
                 if not n.isdigit()]
    self.assertEqual(leftovers, [])  # the half-saved checkpoint 4 was cleaned up


class CheckpointsTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

  def test_round_trip_keeps_n_and_checks_the_bytes(self):
    store = checkpoints.Checkpoints(os.path.join(self.dir, 'ck'), keep=2)
    self.assertIsNone(store.restore_latest({'w': jnp.zeros(3)}))
    for step in (1, 2, 3):
      store.save(step, {'w': jnp.arange(3.) * step, 'none': None}, {'data': {'batch': step}})
    self.assertEqual(store.steps(), [2, 3])
    restored = store.restore_latest({'w': jnp.zeros(3), 'none': None})
    self.assertEqual((restored.step, restored.extra), (3, {'data': {'batch': 3}}))
    np.testing.assert_array_equal(restored.state['w'], [0., 3., 6.])
    for other in ({'w': jnp.zeros(4)}, {'w': jnp.zeros(3, jnp.int32)}, {'v': jnp.zeros(3)}):
      with self.assertRaisesRegex(checkpoints.MismatchError, 'another config'):
        store.restore_latest(other)  # another run's state: refused, not moved aside
    self.assertEqual(store.steps(), [2, 3])

  def test_all_corrupt_is_one_clear_error(self):
    store = checkpoints.Checkpoints(os.path.join(self.dir, 'ck'))
    store.save(1, {'w': jnp.ones(2)})
    shutil.rmtree(os.path.join(self.dir, 'ck', '1', 'state'))
    with warnings.catch_warnings(record=True) as caught:  # (assertWarns trips on haiku)
      warnings.simplefilter('always')
      with self.assertRaisesRegex(ValueError, 'none of the 1 checkpoints'):
        store.restore_latest({'w': jnp.zeros(2)})
    self.assertTrue(any(issubclass(w.category, checkpoints.CorruptCheckpointWarning)
                        for w in caught))


class MetricsLogTest(absltest.TestCase):

  def test_truncate_drops_later_steps_and_a_torn_line(self):
    path = os.path.join(tempfile.mkdtemp(), 'metrics.jsonl')
    log = metrics_writer.MetricsLog(path)
    for step in (1, 2, 3):
      log.write({'step': step, 'split': 'train'})
    log.close()
    with open(path, 'a') as f:
      f.write('{"step": 4, "spl')  # a kill in the middle of a write
    log.truncate_after(2)
    self.assertEqual([r['step'] for r in log.records()], [1, 2])



class EventWriterTest(absltest.TestCase):
  """tensorboardX writes the events; tensorboard's own reader reads every kind back."""

  def test_scalars_text_image_and_hparams_read_back(self):
    event_accumulator = importlib.import_module(
        'tensorboard.backend.event_processing.event_accumulator')
    logdir = tempfile.mkdtemp()
    events = metrics_writer.EventWriter(logdir)
    events.text('config', 0, '```json\n{"seed": 3}\n```')
    events.scalars(1, {'train/loss': 2.5, 'train/split': 'train', 'train/flag': True})
    events.scalars(2, {'train/loss': np.float32(1.5)})
    frames = np.linspace(0., 1., 2 * 4 * 5).reshape(2, 4, 5, 1)
    events.image('eval/frames', 2, metrics_writer.frames_grid(frames, 1. - frames))
    events.hparams({'seed': 3, 'algorithm': 'sideways', 'stream': False, 'skips': None,
                    'dataset.resolution': (16, 16)}, {'eval/mse': 0.25}, 2)
    events.close()
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={
        event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    self.assertEqual(acc.Tags()['scalars'], ['train/loss'])  # non-numbers skipped
    self.assertEqual([(e.step, e.value) for e in acc.Scalars('train/loss')],
                     [(1, 2.5), (2, 1.5)])
    text = acc.Tensors('config/text_summary')[0]
    self.assertEqual(text.step, 0)
    self.assertIn('"seed": 3', text.tensor_proto.string_val[0].decode())
    image = acc.Images('eval/frames')[0]
    self.assertEqual((image.step, image.height, image.width), (2, 2 * 4 + 1, 2 * 5 + 1))
    self.assertEqual(image.encoded_image_string[:4], b'\x89PNG')
    plugin_data = importlib.import_module('tensorboard.plugins.hparams.plugin_data_pb2')
    start = plugin_data.HParamsPluginData.FromString(acc.SummaryMetadata(
        '_hparams_/session_start_info').plugin_data.content).session_start_info
    self.assertEqual(start.hparams['seed'].number_value, 3)
    self.assertEqual(start.hparams['algorithm'].string_value, 'sideways')
    self.assertFalse(start.hparams['stream'].bool_value)
    self.assertEqual(start.hparams['dataset.resolution'].string_value, '(16, 16)')
    self.assertNotIn('skips', start.hparams)
    experiment = plugin_data.HParamsPluginData.FromString(acc.SummaryMetadata(
        '_hparams_/experiment').plugin_data.content).experiment
    self.assertEqual([m.name.tag for m in experiment.metric_infos], ['eval/mse'])

  def test_a_resume_purges_the_steps_the_checkpoint_lost(self):
    event_accumulator = importlib.import_module(
        'tensorboard.backend.event_processing.event_accumulator')
    logdir = tempfile.mkdtemp()
    first = metrics_writer.EventWriter(logdir)
    first.scalars(1, {'loss': 1.})
    first.scalars(2, {'loss': 2.})  # the run was killed before the checkpoint of step 2
    first.close()
    second = metrics_writer.EventWriter(logdir)  # the same second: another file
    second.restart(2)
    second.scalars(2, {'loss': 3.})
    second.close()
    self.assertLen([f for f in os.listdir(logdir) if 'tfevents' in f], 2)
    acc = event_accumulator.EventAccumulator(logdir)
    acc.Reload()
    self.assertEqual([(e.step, e.value) for e in acc.Scalars('loss')], [(1, 1.), (2, 3.)])

  def test_frames_grid(self):
    pred, target = np.zeros((3, 2, 2, 3)), np.ones((3, 2, 2, 3))
    grid = metrics_writer.frames_grid(pred, target, gap=1)
    self.assertEqual(grid.shape, (5, 8, 3))
    self.assertEqual(grid[:2, :2].max(), 0.)   # predictions on top
    self.assertEqual(grid[3:, :2].min(), 1.)   # targets below


if __name__ == '__main__':
  absltest.main()
