"""`experiments.diagnose` end to end on the `tiny` config: the records it writes."""
import json
import os
import shutil
import tempfile

from absl.testing import absltest

from experiments import diagnose
from experiments.configs import default


class DiagnoseTest(absltest.TestCase):

  def test_probes_a_run_trained_as_the_launcher_trains_it(self):
    workdir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
    config = default.get_config('tiny')
    config.module_lr_scales = '0'   # module 1 frozen, as the default freezes 1-2
    config.num_steps = 3
    records = diagnose.run(config, workdir, probe_every=2, probe_clips=2)
    self.assertEqual([r['step'] for r in records], [0, 2, 3])
    with open(os.path.join(workdir, 'diagnostics.jsonl')) as f:
      self.assertEqual([json.loads(line)['step'] for line in f], [0, 2, 3])
    self.assertTrue(os.path.isfile(os.path.join(workdir, 'diagnostics.png')))
    for record in records:
      self.assertEqual(len(record['cosine_moving']), 3)       # K = 3 modules
      self.assertEqual(record['effective_step'][0], 0.0)      # the frozen module holds
      self.assertGreater(record['effective_step'][-1], 0.0)   # the top learns
      # The top's Sideways gradient is exact: it agrees with bptt on moving clips too.
      self.assertGreater(record['cosine_moving'][-1], 0.999)

  def test_by_class_probes_each_class_on_its_own_clips(self):
    workdir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
    config = default.get_config('tiny')
    config.num_steps = 0
    records = diagnose.run(config, workdir, probe_every=1, probe_clips=1, by_class=True)
    by_class = records[0]['cosine_by_class']
    train_set, test_set = diagnose.builders.make_datasets(config)
    self.assertEqual(list(by_class), list(test_set.class_names))
    for cosines in by_class.values():
      self.assertLen(cosines, 3)
      self.assertGreater(cosines[-1], 0.999)  # the top's gradient is exact in every class
    # The batches hold the clips of their class only.
    batches = diagnose.class_batches(test_set, 1, lambda b: b)
    for c, batch in enumerate(batches.values()):
      self.assertTrue((batch['labels'] == c).all())
    with self.assertRaisesRegex(ValueError, 'fewer than probe_clips=100000'):
      diagnose.class_batches(test_set, 100000, lambda b: b)


if __name__ == '__main__':
  absltest.main()
