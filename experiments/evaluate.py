"""Evaluate a run's newest checkpoint on the held-out split; print one JSON line.

  python -m experiments.evaluate --workdir=DIR [--step=N] [--eval_clips=N] [--per_class]

Reads DIR/config.json and DIR/checkpoints/ (nothing else is needed) and prints
{"step", "split": "eval", "num_clips", and the metrics: loss, accuracy, clip_accuracy
(classification) or mse, psnr, ssim, copy_last_mse, copy_last_psnr (prediction)}.
`--per_class` (classification) adds per_class_clip_accuracy {class name: accuracy} and
clip_confusion (clip counts, row = true class, column = predicted), and prints the
per-class accuracies.
A corrupt newest checkpoint is skipped with a warning (the previous one is used).
"""

import contextlib
import json
import os
import sys

from absl import flags

from sideways_jax import checkpoints

from experiments import builders
from experiments import checks
from experiments import cli
from experiments import workdir as workdir_lib


def _define_flags():
  """Defined when run as a program, so that importing this module next to
  experiments.train (which has its own --workdir) defines nothing."""
  if 'workdir' not in flags.FLAGS:
    flags.DEFINE_string('workdir', None, 'The run folder experiments.train wrote.')
  flags.DEFINE_integer('step', None, 'Checkpoint step to evaluate (default: newest).')
  flags.DEFINE_integer('eval_clips', None,
                       "Held-out clips to score (default: the run's eval_clips).")
  flags.DEFINE_bool('per_class', False, 'Also report clip accuracy per class and the clip '
                    'confusion matrix (classification).')


def evaluate_workdir(workdir, step=None, num_clips=None, per_class=False):
  """The eval record of checkpoint `step` (default the newest readable) of a run folder."""
  config = workdir_lib.read_config(workdir)
  if per_class and config.task != 'classification':
    raise checks.FlagError(f'--per_class: the run is {config.task!r}; per-class accuracy '
                           'needs a classification run (drop --per_class)')
  config, test_set, trainer, restored = load_run(workdir, step)
  metrics = builders.evaluate_clips(trainer, builders.eval_params(trainer, restored.state,
                                                                 config),
                                    test_set, config, num_clips, per_class=per_class)
  return {'step': restored.step, 'split': 'eval', **metrics}


def load_run(workdir, step=None):
  """A run folder's config, test set, single-device trainer and restored checkpoint `step`
  (default the newest readable)."""
  config = workdir_lib.read_config(workdir)
  config_file = workdir_lib.read_record(workdir).get('run_info', {}).get('config_file')
  if config_file and os.path.isfile(config_file.partition(':')[0]):
    cli.load_config(config_file)  # a config file may register its own models
  with config.unlocked():  # evaluation runs on one device, however the run was placed
    config.stage_devices, config.data_devices = 1, 1
  checks.check_config(config)
  _, test_set = builders.make_datasets(config)
  task, network = builders.make_task_and_network(config, test_set)
  trainer = builders.make_trainer(config, network, task, placed=False)
  abstract = builders.abstract_state(config, trainer, test_set)
  with contextlib.closing(checkpoints.Checkpoints(os.path.join(workdir, 'checkpoints'),
                                                   read_only=True)) as store:
    restored = _restore(store, abstract, workdir, step)
  return config, test_set, trainer, restored


def _restore(store, abstract, workdir, step):
  """Checkpoint `step`, or the newest readable one; a missing one is one FlagError line."""
  if not store.steps():
    raise checks.FlagError(f'--workdir={workdir}: the run has no checkpoint yet; train it '
                           'first (python -m experiments.train --workdir=...)')
  if step is None:
    restored = store.restore_latest(abstract)
  elif step not in store.steps():
    raise checks.FlagError(f'--step={step}: no such checkpoint; the run has steps '
                           f'{", ".join(map(str, store.steps()))}')
  else:
    restored = store.restore(step, abstract)
  return restored


def main(argv):
  args = flags.FLAGS
  if len(argv) > 1:
    raise checks.FlagError(f'unexpected arguments {argv[1:]}; give --workdir=DIR')
  if not args.workdir:
    raise checks.FlagError('--workdir is required: the folder experiments.train wrote')
  if not os.path.isdir(args.workdir):
    raise checks.FlagError(f'--workdir={args.workdir}: no such folder')
  if args.eval_clips is not None and args.eval_clips < 1:
    raise checks.FlagError(f'--eval_clips={args.eval_clips}: give a positive number')
  record = evaluate_workdir(args.workdir, args.step, args.eval_clips, args.per_class)
  print(f'eval step {record["step"]}: {builders.summary(record)}', file=sys.stderr)
  for name, accuracy in record.get('per_class_clip_accuracy', {}).items():
    text = 'no clips' if accuracy is None else f'{accuracy:.3f}'
    print(f'  {name}: {text}', file=sys.stderr)
  print(json.dumps(record), flush=True)


def run():
  """Console entry point (`sideways-evaluate`)."""
  _define_flags()
  cli.run(main, __doc__)


if __name__ == '__main__':
  run()
