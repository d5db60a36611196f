"""The README's Python examples run as written (docs that drift fail here)."""

import os
import re

from absl.testing import absltest
import numpy as np

_README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'README.md')


class ReadmeTest(absltest.TestCase):

  def test_python_examples_run_each_on_its_own(self):
    with open(_README) as f:
      blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    self.assertLen(blocks, 3)
    first, custom, placed = {}, {}, {}
    exec(blocks[0], first)  # pylint: disable=exec-used
    self.assertIn('clip_accuracy', first['trainer'].evaluate(
        first['state'].params, first['batch']))
    exec(blocks[1], custom)  # pylint: disable=exec-used  (a fresh namespace: no imports lent)
    self.assertEqual(custom['net'].num_modules, 3)
    self.assertTrue(np.isfinite(float(custom['metrics']['loss'])))
    exec(blocks[2], placed)  # pylint: disable=exec-used  (placement, on 4 of the 8 devices)
    self.assertEqual(len(set(placed['placement'].stages)), 2)
    self.assertTrue(np.isfinite(float(placed['metrics']['loss'])))
    self.assertLen(placed['single'].params, 5)

  def test_first_lines_give_the_two_commands(self):
    with open(_README) as f:
      head = f.read().split('---')[0]
    self.assertIn('python -m experiments.train', head)
    self.assertIn('python -m pytest -n 2 -q tests', head)
    with open(os.path.join(os.path.dirname(_README), '.ci', 'run')) as f:
      self.assertIn('python -m pytest -n 2 -q tests', f.read())


if __name__ == '__main__':
  absltest.main()
