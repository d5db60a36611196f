"""The learning benchmark's harness (benchmarks/learning.py): runs race and stop at the
target. It times nothing: the benchmark itself does that."""

import math
import os
import sys
import tempfile

from absl.testing import absltest
import jax

from benchmarks import accelerator
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


class AcceleratorSuiteTest(absltest.TestCase):
  """The accelerator suite at its tiniest (VGG-8 at 1/8 width, 2 frames of 16x16, batch
  2, one timed step), on the test's 8 CPU devices: a CPU, so achieved TFLOP/s and no MFU,
  and more than one device, so the placed Sideways step too."""

  def test_records_at_the_tiniest_size(self):
    self.assertGreater(len(jax.devices()), 1)  # conftest: 8 CPU devices
    records = accelerator.accelerator(True, resolution=16, frames=2, batch_size=2,
                                      width=0.125, steps=1, algorithms=('sideways', 'gpipe'))
    units = {r['name']: r['unit'] for r in records}
    want = {f'accelerator[{a}:{m}]' for a in ('sideways', 'gpipe')
            for m in ('step_s', 'frames_per_s', 'compile_s', 'tflops_per_s')}
    want |= {'accelerator[sideways_placed:frames_per_s]',
             'accelerator[sideways_placed/one_device]'}
    self.assertEqual(set(units), want)
    self.assertFalse([n for n in units if 'mfu' in n])  # no peak for a CPU
    self.assertEqual(units['accelerator[sideways:step_s]'], 's per step')
    self.assertEqual(units['accelerator[gpipe:frames_per_s]'],
                     'frames/s (batch * frames / step)')
    self.assertIn('no peak', units['accelerator[sideways:tflops_per_s]'])
    self.assertEqual(units['accelerator[sideways_placed:frames_per_s]'],
                     'frames/s on 8 stage devices')
    for r in records:
      self.assertTrue(math.isfinite(r['value']) and r['value'] > 0, r)
      config = r['config']
      self.assertEqual((config['platform'], config['dtype'], config['resolution'],
                        config['frames'], config['batch_size'], config['width']),
                       ('cpu', 'float32', 16, 2, 2, 0.125))
      self.assertTrue(config['reduced'])
      self.assertIn('MFU left out', config['peak'])
      self.assertIn('load_avg_1min', config)
    step = {r['name']: r for r in records}['accelerator[sideways:step_s]']
    self.assertGreater(step['config']['model_flops_per_step'], 0)
    fps = {r['name']: r['value'] for r in records}
    self.assertAlmostEqual(fps['accelerator[sideways:frames_per_s]'],
                           2 * 2 / fps['accelerator[sideways:step_s]'])

  def test_peaks_match_device_kind_and_dtype(self):
    peak, basis = accelerator.peak_flops('NVIDIA H100 80GB HBM3', 'float32')
    self.assertEqual((peak, 'TF32' in basis), (494.5e12, True))
    self.assertEqual(accelerator.peak_flops('NVIDIA H100 80GB HBM3', 'float32', 'highest')[0],
                     67e12)
    self.assertEqual(accelerator.peak_flops('NVIDIA H100 PCIe', 'bfloat16')[0], 756.5e12)
    self.assertEqual(accelerator.peak_flops('NVIDIA H200', 'bfloat16')[0], 989.5e12)
    self.assertEqual(accelerator.peak_flops('NVIDIA A100-SXM4-80GB', 'float32')[0], 156e12)
    self.assertEqual(accelerator.peak_flops('TPU v5 lite', 'bfloat16')[0], 197e12)
    self.assertEqual(accelerator.peak_flops('TPU v5p', 'bfloat16')[0], 459e12)
    self.assertEqual(accelerator.peak_flops('TPU v4', 'float32')[0], 275e12)
    self.assertIsNone(accelerator.peak_flops('TPU v4', 'float32', 'highest')[0])
    self.assertIsNone(accelerator.peak_flops('cpu')[0])


if __name__ == '__main__':
  absltest.main()
