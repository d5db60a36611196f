"""Evaluate runs' newest checkpoints on the held-out split; print one JSON line per run.

  python -m experiments.evaluate --workdir=DIR [--step=N] [--eval_clips=N] [--per_class]
  python -m experiments.evaluate --workdir=FOLD1,FOLD2,FOLD3     the mean over runs

Reads DIR/config.json and DIR/checkpoints/ (nothing else is needed) and prints
{"step", "split": "eval", "workdir", "num_clips", and the metrics: loss, accuracy,
clip_accuracy (classification, with num_classes_scored of num_classes) or mse, psnr, ssim,
copy_last_mse, copy_last_psnr (prediction)}.
It scores the whole test split (decoded on the run's `dataset.num_workers` threads);
`--eval_clips=N` scores a fixed sample of N clips, class-stratified where the dataset
lists its labels (as a run's periodic evaluations do; experiments/evaluation.py).
`--per_class` (classification) adds per_class_clip_accuracy {class name: accuracy} and
clip_confusion (clip counts, row = true class, column = predicted), and prints the
per-class accuracies.
A corrupt newest checkpoint is skipped with a warning (the previous one is used).

Several run folders, comma-separated (`--workdir=a,b,c`): each is evaluated and printed as
above, then one more line {"split": "eval", "workdirs", "runs", "mean": {...}, "std":
{...}} with the mean and sample standard deviation of every metric over the runs (stderr:
`mean over 3 runs: clip_accuracy=0.612 +- 0.018 ...`). That is the UCF101 / HMDB51
protocol: one model trained per official fold (--config.dataset.fold=1, 2, 3), the mean
over folds 1-3 reported. The runs must be of one dataset, and no fold may appear twice;
otherwise one `error:` line.
"""

import contextlib
import json
import os
import sys

from absl import flags
import numpy as np

from sideways_jax import checkpoints

from . import builders
from . import checks
from . import cli
from . import workdir as workdir_lib


def _define_flags():
  """Defined when run as a program, so that importing this module next to
  experiments.train (which has its own --workdir) defines nothing."""
  if 'workdir' not in flags.FLAGS:
    flags.DEFINE_string('workdir', None, 'The run folder experiments.train wrote, or '
                        'several, comma-separated (each fold of UCF101 / HMDB51): their mean.')
  flags.DEFINE_integer('step', None, 'Checkpoint step to evaluate (default: newest).')
  flags.DEFINE_integer('eval_clips', None,
                       'Held-out clips to score: a fixed, class-stratified sample '
                       '(default: the whole test split).')
  flags.DEFINE_bool('per_class', False, 'Also report clip accuracy per class and the clip '
                    'confusion matrix (classification).')


def evaluate_workdir(workdir, step=None, num_clips=None, per_class=False):
  """The eval record of checkpoint `step` (default the newest readable) of a run folder:
  the whole test split, or the sample of `num_clips` its periodic evaluations score."""
  config = workdir_lib.read_config(workdir)
  if per_class and config.task != 'classification':
    raise checks.FlagError(f'--per_class: the run is {config.task!r}; per-class accuracy '
                           'needs a classification run (drop --per_class)')
  config, test_set, trainer, restored = load_run(workdir, step)
  metrics = builders.evaluate_clips(trainer, builders.eval_params(trainer, restored.state,
                                                                 config),
                                    test_set, config, num_clips or len(test_set),
                                    per_class=per_class)
  return {'step': restored.step, 'split': 'eval', **metrics}


def check_runs(workdirs):
  """Refuses (FlagError) run folders that cannot be averaged: one given twice, runs of
  different datasets or tasks, or two runs of the same fold."""
  if len(set(map(os.path.realpath, workdirs))) < len(workdirs):
    raise checks.FlagError(f'--workdir={",".join(workdirs)}: a run folder is given twice; '
                           'give each run once')
  configs = [workdir_lib.read_config(w) for w in workdirs]
  kinds = {(c.dataset.name, c.task) for c in configs}
  if len(kinds) > 1:
    runs = ', '.join(f'{w} ({c.dataset.name}, {c.task})' for w, c in zip(workdirs, configs))
    raise checks.FlagError(f'--workdir: the runs are of different datasets or tasks ({runs}); '
                           'a mean needs runs of one dataset and task')
  folds = [c.dataset.get('fold', None) for c in configs]
  for fold in set(f for f in folds if f is not None):
    same = [w for w, f in zip(workdirs, folds) if f == fold]
    if len(same) > 1:
      raise checks.FlagError(f'--workdir: {" and ".join(same)} are both fold {fold}; a fold '
                             'mean takes one run per fold (train the others with '
                             '--config.dataset.fold=N)')


def mean_over_runs(records):
  """{"mean": {metric: mean}, "std": {metric: sample std, None for one run}} of the float
  metrics the records share."""
  names = [k for k, v in records[0].items() if isinstance(v, float)
           and all(isinstance(r.get(k), float) for r in records)]
  values = {k: np.array([r[k] for r in records]) for k in names}
  return {'mean': {k: float(v.mean()) for k, v in values.items()},
          'std': {k: float(v.std(ddof=1)) if len(v) > 1 else None
                  for k, v in values.items()}}


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
    try:
      restored = store.restore_latest(abstract)
    except ValueError as err:  # every checkpoint corrupt, or another config's
      raise checks.FlagError(f'--workdir={workdir}: {err}') from err
  elif step not in store.steps():
    raise checks.FlagError(f'--step={step}: no such checkpoint; the run has steps '
                           f'{", ".join(map(str, store.steps()))}')
  else:
    try:
      restored = store.restore(step, abstract)
    except ValueError as err:
      raise checks.FlagError(f'--step={step}: {err} Give another --step (the run has '
                             f'{", ".join(map(str, store.steps()))}), or none for the '
                             'newest readable one.') from err
  return restored


def main(argv):
  args = flags.FLAGS
  if len(argv) > 1:
    raise checks.FlagError(f'unexpected arguments {argv[1:]}; give --workdir=DIR')
  if not args.workdir:
    raise checks.FlagError('--workdir is required: the folder experiments.train wrote')
  workdirs = [w for w in args.workdir.split(',') if w]
  if not workdirs:
    raise checks.FlagError(f'--workdir={args.workdir}: give a run folder, or several '
                           'separated by commas')
  for workdir in workdirs:
    if not os.path.isdir(workdir):
      raise checks.FlagError(f'--workdir={workdir}: no such folder')
  if args.eval_clips is not None and args.eval_clips < 1:
    raise checks.FlagError(f'--eval_clips={args.eval_clips}: give a positive number')
  check_runs(workdirs)
  records = []
  for workdir in workdirs:
    record = evaluate_workdir(workdir, args.step, args.eval_clips, args.per_class)
    record = {'step': record['step'], 'split': 'eval', 'workdir': workdir, **record}
    where = f' ({workdir})' if len(workdirs) > 1 else ''
    print(f'eval step {record["step"]}{where}: {builders.summary(record)}', file=sys.stderr)
    for name, accuracy in record.get('per_class_clip_accuracy', {}).items():
      text = 'no clips' if accuracy is None else f'{accuracy:.3f}'
      print(f'  {name}: {text}', file=sys.stderr)
    print(json.dumps(record), flush=True)
    records.append(record)
  if len(records) > 1:
    stats = mean_over_runs(records)
    print(f'mean over {len(records)} runs: ' + ' '.join(
        f'{k}={m:.4g} +- {stats["std"][k]:.2g}' for k, m in stats['mean'].items()),
          file=sys.stderr)
    print(json.dumps({'split': 'eval', 'workdirs': workdirs, 'runs': len(records), **stats}),
          flush=True)


def run():
  """Console entry point (`sideways-evaluate`)."""
  _define_flags()
  cli.run(main, __doc__)


if __name__ == '__main__':
  run()
