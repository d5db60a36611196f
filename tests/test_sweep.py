"""The sweep runner skips finished runs; the report averages seeds and times a target."""

import json
import os
import subprocess
import sys
import tempfile

from absl import app
from absl.testing import absltest

from experiments import report
from experiments import sweep


def _write_run(workdir, curve, finished=True):
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'metrics.jsonl'), 'w') as f:
    for step, seconds, value in curve:
      f.write(json.dumps({'step': step, 'split': 'eval', 'train_time_s': seconds,
                          'clip_accuracy': value}) + '\n')
  if finished:
    step, seconds, value = curve[-1]
    with open(os.path.join(workdir, 'result.json'), 'w') as f:
      json.dump({'step': step, 'train_time_s': seconds, 'clip_accuracy': value}, f)


class SweepTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()
    self.sweep_file = os.path.join(self.dir, 'sweep.py')
    with open(self.sweep_file, 'w') as f:
      f.write("SEEDS = (0, 1, 2)\nRUNS = {'a': {'num_steps': 3}, 'b': {'skips': 'none'}}\n")

  def test_expand_and_commands(self):
    module = sweep.load_sweep(self.sweep_file)
    runs = sweep.expand(module)
    self.assertLen(runs, 6)
    self.assertEqual(runs[0], ('a', os.path.join('a', 'seed_0'), {'num_steps': 3, 'seed': 0}))
    cmd = sweep.command('cfg.py', '/w', runs[0][2])
    self.assertIn('--config.num_steps=3', cmd)
    self.assertIn('--config.seed=0', cmd)
    cmd = sweep.command('cfg.py', '/w', {'config': 'cfg.py:appearance', 'seed': 1})
    self.assertEqual(cmd[3:], ['--config=cfg.py:appearance', '--workdir=/w', '--config.seed=1'])
    _write_run(os.path.join(self.dir, 'a', 'seed_0'), [(1, 1., 0.5)])
    self.assertTrue(sweep.finished(os.path.join(self.dir, 'a', 'seed_0')))
    self.assertFalse(sweep.finished(os.path.join(self.dir, 'a', 'seed_1')))
    # A finished run that an entry now asks to take further is not done: it resumes.
    self.assertTrue(sweep.finished(os.path.join(self.dir, 'a', 'seed_0'), num_steps=1))
    self.assertFalse(sweep.finished(os.path.join(self.dir, 'a', 'seed_0'), num_steps=3))

  def test_earlier_sweeps_keep_the_regime_they_measured(self):
    from experiments import sweeps  # pylint: disable=g-import-not-at-top
    runs = sweeps.before_ema({
        'plain': {'num_steps': 3},
        'own_rate': {'learning_rate': 1e-3, 'config': 'default.py:bptt'},
        'digits': {'config': 'experiments/configs/default.py:moving_digits'}})
    self.assertEqual(runs['plain'], {'num_steps': 3, **sweeps.BEFORE_EMA})
    self.assertEqual(runs['own_rate'], {'learning_rate': 1e-3, 'ema_decay': 0.0,
                                        'config': 'default.py:bptt'})
    self.assertEqual(runs['digits'], {'config': 'experiments/configs/default.py:moving_digits'})
    # Every sweep file still loads and expands (their commands are what RESULTS cites).
    folder = os.path.join(os.path.dirname(__file__), '..', 'experiments', 'sweeps')
    for name in sorted(os.listdir(folder)):
      if name.endswith('.py') and name != '__init__.py':
        self.assertNotEmpty(sweep.expand(sweep.load_sweep(os.path.join(folder, name))), name)

  def test_a_run_another_sweep_is_training_is_skipped(self):
    live, dead = os.path.join(self.dir, 'a', 'seed_0'), os.path.join(self.dir, 'a', 'seed_1')
    for workdir in (live, dead):
      os.makedirs(workdir)
    sweep.write_lock(live, os.getpid())  # a live process holds it
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()
    sweep.write_lock(dead, gone.pid)     # a run that died: stale, taken over
    self.assertEqual(sweep.running_elsewhere(live), os.getpid())
    self.assertIsNone(sweep.running_elsewhere(dead))
    out = subprocess.run([sys.executable, '-m', 'experiments.sweep', f'--sweep={self.sweep_file}',
                          f'--root={self.dir}', '--dry_run'], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__))).stdout
    self.assertIn(f'running elsewhere (pid {os.getpid()}), skipped: a/seed_0', out)
    self.assertIn('5 of 6 runs to do', out)
    self.assertNotIn('workdir=' + live, out)
    self.assertIn('workdir=' + dead, out)
    sweep.release_lock(live)
    self.assertIsNone(sweep.running_elsewhere(live))

  def test_report_means_seeds_and_times_the_target(self):
    module = sweep.load_sweep(self.sweep_file)
    for seed, final in enumerate((0.90, 0.94, 0.98)):
      _write_run(os.path.join(self.dir, 'a', f'seed_{seed}'),
                 [(100, 10., 0.5), (200, 20. + seed, final)])
    _write_run(os.path.join(self.dir, 'b', 'seed_0'), [(100, 10., 0.2)], finished=False)
    summary = report.summarise(module, self.dir, 'clip_accuracy', 0.92)
    a, b = summary['runs']['a'], summary['runs']['b']
    self.assertAlmostEqual(a['mean'], 0.94)
    self.assertAlmostEqual(a['std'], 0.04)
    self.assertEqual(a['steps_to_target'], [None, 200, 200])
    self.assertEqual(a['seconds_to_target'], [None, 21., 22.])
    self.assertEqual(b['n'], 0)
    self.assertLen(b['missing'], 3)
    # What an unfinished run evaluated is kept apart, out of every mean.
    self.assertEqual(b['partial'], {os.path.join('b', 'seed_0'): [(100, 10., 0.2)]})
    self.assertEqual(a['partial'], {})
    report.plot(summary, os.path.join(self.dir, 'curves.png'))
    self.assertTrue(os.path.getsize(os.path.join(self.dir, 'curves.png')) > 1000)

  def test_report_plots_runs_of_earlier_summaries_beside_and_refuses_bad_ones(self):
    module = sweep.load_sweep(self.sweep_file)
    _write_run(os.path.join(self.dir, 'a', 'seed_0'), [(100, 10., 0.5), (200, 20., 0.9)])
    earlier = os.path.join(self.dir, 'earlier.json')
    with open(earlier, 'w') as f:
      json.dump(report.summarise(module, self.dir, 'clip_accuracy', 0.8), f)
    beside = report.beside_runs([f'{earlier}:a'], 'clip_accuracy')
    self.assertEqual(list(beside), ['a (earlier.json)'])
    self.assertEqual(beside['a (earlier.json)']['finals'], [0.9])
    report.plot(report.summarise(module, self.dir, 'clip_accuracy', 0.8),
                os.path.join(self.dir, 'beside.png'), beside)
    self.assertTrue(os.path.getsize(os.path.join(self.dir, 'beside.png')) > 1000)
    for spec, message in ((f'{earlier}:zzz', "no run 'zzz'"),
                          (os.path.join(self.dir, 'nope.json'), 'no such summary')):
      with self.assertRaisesRegex(app.UsageError, message):
        report.beside_runs([spec], 'clip_accuracy')
    with self.assertRaisesRegex(app.UsageError, 'compare like with like'):
      report.beside_runs([earlier], 'mse')


if __name__ == '__main__':
  absltest.main()
