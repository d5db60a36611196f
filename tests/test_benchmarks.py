"""The learning benchmark's harness (benchmarks/learning.py): runs race and stop at the
target. It times nothing: the benchmark itself does that."""

import os
import sys
import tempfile

from absl.testing import absltest

from benchmarks import learning


class TimeToAccuracyRaceTest(absltest.TestCase):

  def test_both_runs_start_together_and_each_stops_at_its_first_evaluation_on_target(self):
    tmp = tempfile.mkdtemp()
    runs = {'a': ('tiny', os.path.join(tmp, 'a')), 'b': ('tiny', os.path.join(tmp, 'b'))}
    side_by_side = sys.platform.startswith('linux') and (os.cpu_count() or 1) >= 2
    curves = learning._race(runs, target=0., num_steps=5000, eval_every=2,
                            side_by_side=side_by_side, overrides=('--config.eval_clips=4',),
                            poll_s=0.2)
    self.assertEqual(sorted(curves), ['a', 'b'])
    for name, evals in curves.items():
      self.assertEqual(evals[0]['step'], 2, name)
      self.assertEqual(learning._first(evals, 0.)[0], 2)
      self.assertLess(evals[-1]['step'], 5000, f'{name} ran on past its target')
      self.assertIsNone(learning._first(evals, 1.01)[0])

  def test_a_run_that_fails_is_an_error_with_its_output(self):
    tmp = tempfile.mkdtemp()
    with self.assertRaisesRegex(RuntimeError, 'a failed'):
      learning._race({'a': ('no_such_variant', os.path.join(tmp, 'a'))}, target=0.5,
                     num_steps=4, eval_every=2, side_by_side=False, poll_s=0.2)


if __name__ == '__main__':
  absltest.main()
