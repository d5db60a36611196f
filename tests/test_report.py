"""experiments.report reads runs still training: a torn last metrics line is skipped, a
corrupt line before it is one error line naming the file and line."""

import json
import os
import subprocess
import sys
import tempfile

from absl.testing import absltest

from experiments import report
from experiments import sweep

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _eval(step, value):
  return json.dumps({'step': step, 'split': 'eval', 'train_time_s': float(step),
                     'clip_accuracy': value}) + '\n'


class ReadMetricsTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()

  def write(self, run, text):
    os.makedirs(os.path.join(self.dir, run), exist_ok=True)
    with open(os.path.join(self.dir, run, 'metrics.jsonl'), 'w') as f:
      f.write(text)
    return os.path.join(self.dir, run)

  def test_a_torn_last_line_is_skipped(self):
    workdir = self.write('a', _eval(10, 0.5) + _eval(20, 0.6) + '{"step": 30, "spl')
    evals, result = report.read_run(workdir)
    self.assertEqual([r['step'] for r in evals], [10, 20])
    self.assertIsNone(result)
    # A whole last record (newline not written yet) is read.
    workdir = self.write('b', _eval(10, 0.5) + _eval(20, 0.6).rstrip('\n'))
    self.assertEqual([r['step'] for r in report.read_run(workdir)[0]], [10, 20])

  def test_a_corrupt_line_in_the_middle_names_file_and_line(self):
    workdir = self.write('a', _eval(10, 0.5) + '{"step": 20, "spl\n' + _eval(30, 0.7))
    with self.assertRaisesRegex(report.CorruptMetricsError,
                                r'a/metrics\.jsonl:2: not a JSON record'):
      report.read_run(workdir)

  def test_the_command_reports_a_corrupt_line_in_one_line(self):
    sweep_file = os.path.join(self.dir, 'sweep.py')
    with open(sweep_file, 'w') as f:
      f.write("SEEDS = (0,)\nRUNS = {'a': {'num_steps': 3}}\n")
    (_, suffix, _), = sweep.expand(sweep.load_sweep(sweep_file))
    self.write(suffix, _eval(10, 0.5) + 'oops\n' + _eval(30, 0.7))
    proc = subprocess.run(
        [sys.executable, '-m', 'experiments.report', f'--sweep={sweep_file}',
         f'--root={self.dir}', f'--out={os.path.join(self.dir, "out")}'],
        cwd=_REPO, capture_output=True, text=True, timeout=120)
    self.assertEqual(proc.returncode, 1, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    self.assertLen(lines, 1, proc.stderr)
    self.assertRegex(lines[0], r'^error: .*metrics\.jsonl:2: not a JSON record')


if __name__ == '__main__':
  absltest.main()
