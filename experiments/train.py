"""Train a video model with Sideways / Skip-Sideways or a baseline; evaluate; resume.

  python -m experiments.train --workdir=DIR [--config=experiments/configs/default.py[:VARIANT]]
      [--config.KEY=VALUE ...]           e.g. --config.algorithm=bptt --config.skips=none
  python -m experiments.train --print_config [--config=...]   every key, value and meaning
  python -m experiments.evaluate --workdir=DIR                 the newest checkpoint, as JSON

Rerunning the same command resumes from the newest checkpoint in DIR/checkpoints/ (a
corrupt one is skipped with a warning); SIGINT / SIGTERM save a checkpoint and exit
(status 130 / 143). A run writes DIR/config.json (the resolved config plus version, commit,
devices, start time), DIR/metrics.jsonl (each step once), TensorBoard events (`tensorboard
--logdir DIR`: the scalars, the config as text, hparams with the final metrics, predicted
frames beside their targets), and at the end DIR/result.json (the final eval metrics and
train_time_s, seconds of training without evaluation, compilation included).

Flags: --config, --workdir (default workdirs/<time>, printed), --print_config, --traceback.
One run at a time holds DIR (a lock, DIR/.lock): a second launcher there exits at once
naming the other; a lock left by a killed run is taken over with one line.
Mistakes in flags, config values or data are one `error:` line, exit status 2 (a bad video
met mid-run after saving a checkpoint of the last completed step); a NaN or Inf gradient
stops the run with one line naming the module and tick, exit status 1.

This file builds a run and opens its folder; the loop (steps, evaluations, checkpoints)
is experiments/train_loop.py, its TensorBoard extras experiments/train_events.py, and
signals and resuming experiments/resume.py.
"""

import contextlib
import json
import os
import sys
import time

from absl import flags
import jax
import numpy as np
from ml_collections import config_flags

from sideways_jax import checkpoints
from sideways_jax import metrics_writer
from sideways_jax.data import errors as data_errors

from . import builders
from . import checks
from . import cli
from . import evaluate
from . import workdir as workdir_lib
# Re-exported: other tools import these from experiments.train.
from .builders import (  # pylint: disable=unused-import
    OPTIMIZERS, make_batches, make_datasets, make_optimizer, make_task_and_network,
    make_trainer, preprocess, rng, updates_per_step)
from .configs import keys
from . import resume
from . import train_loop
from . import warm_start
from .resume import Interrupted
from .train_loop import DataInputError, check_frames as _check_frames


def _define_config_flag():
  """--config, defaulting to experiments/configs/default.py wherever the launcher runs.

  Without --config on the command line, ml_collections loads the default while this module
  is imported and applies the --config.KEY overrides of sys.argv then; a bad key would raise
  there, before any flag parser can answer it. So on failure the flag is defined without
  looking at overrides, and `cli.parse_flags` reports the bad key in one line.
  """
  help_string = 'Experiment config file[:variant] (default: experiments/configs/default.py).'
  try:
    return config_flags.DEFINE_config_file('config', cli.DEFAULT_CONFIG, help_string)
  except Exception:  # pylint: disable=broad-except
    return config_flags.DEFINE_config_file('config', cli.DEFAULT_CONFIG, help_string,
                                           sys_argv=sys.argv[:1])


_CONFIG = _define_config_flag()
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the run writes its files.')
_PRINT_CONFIG = flags.DEFINE_bool('print_config', False,
                                  'Print every config key with its value and meaning, exit.')


def _build(config):
  """Datasets, network and trainer of an accepted config; their errors in one line."""
  try:
    train_set, test_set = make_datasets(config)
    task, network = make_task_and_network(config, train_set)
    checks.check_network(config, network, train_set.frame_shape)
    return train_set, test_set, network, make_trainer(config, network, task,
                                                      train_set.frame_shape)
  except (ValueError, TypeError) as err:
    if isinstance(err, (checks.ConfigError, checks.FlagError, checks.InputError)):
      raise
    raise checks.InputError(str(err).splitlines()[0]) from err
  except MemoryError as err:  # e.g. dataset.cache's buffer for a huge resolution
    raise checks.InputError(f'--config.dataset.* (dataset {config.dataset.name!r}): the '
                            f'dataset needs more memory than this machine has ({err}); '
                            'lower dataset.resolution or dataset.num_clips, or set '
                            '--config.dataset.cache=False') from err


def _preflight(config, abstract, train_set):
  """`checks.check_memory` of the state `abstract` describes, one batch, the kept clips."""
  state = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(abstract))
  batch = (config.batch_size * config.frames_per_clip * 4
           * int(np.prod(train_set.frame_shape)))
  checks.check_memory(config, state, batch, getattr(train_set, 'kept_bytes', 0))


def initial_state(config, trainer, train_set, batch):
  """A new run's first state: `trainer.init`, its frozen modules (or `init_modules`) from
  `init_from` if set."""
  state = trainer.init(rng(config), batch)
  if config.get('init_from'):
    state = warm_start.warm_start(config, trainer, state, train_set.frame_shape,
                                  source_params(config.init_from))
  return state


def source_params(source):
  """The newest checkpoint's parameters of the run folder `init_from` names."""
  if not os.path.isfile(os.path.join(source, 'config.json')):
    raise checks.ConfigError('init_from', source, 'is not a run folder (it has no '
                             'config.json)', 'give the --workdir of a trained run, or train '
                             f'one there first (python -m experiments.train --workdir={source})')
  try:
    return evaluate.load_run(source)[3].state.params
  except checks.FlagError as err:
    raise checks.ConfigError('init_from', source, 'the run has no checkpoint yet',
                             'train it first, or give another run') from err


def train_and_evaluate(config, workdir, *, config_file=None):
  """Trains `config` in `workdir` (resuming from its newest checkpoint); returns the final
  held-out metrics and writes result.json. `config_file` (PATH[:ARG], recorded in
  config.json) is what experiments.evaluate runs again to register custom models.

  Raises:
    checks.ConfigError, checks.FlagError, checks.InputError: what the user must fix (before
      the first step, nothing is left behind in `workdir`).
    checks.NonFiniteError: a NaN / Inf loss or gradient stopped the run; its last
      checkpoint is intact.
    Interrupted: SIGINT / SIGTERM; a checkpoint of the last step was saved.
  """
  checks.check_config(config)
  workdir_lib.check_writable(workdir)
  with workdir_lib.WorkdirLock(workdir) as lock:  # one run per folder; FlagError if busy
    return _train_locked(config, workdir, lock.created, config_file)


def _train_locked(config, workdir, created, config_file):
  """`train_and_evaluate` once the folder is locked (`created`: the lock made it)."""
  store = checkpoints.Checkpoints(os.path.join(workdir, 'checkpoints'),
                                  keep=config.get('keep_checkpoints', 3))
  with resume.Signals() as signals, contextlib.closing(store):
    try:
      train_set, test_set, network, trainer = _build(config)
      abstract = builders.abstract_state(config, trainer, train_set)
      _preflight(config, abstract, train_set)
      restored, written = resume.open_run(config, workdir, store, abstract, config_file)
    except BaseException:
      workdir_lib.remove_failed_start(workdir, created, [])
      raise
    log = metrics_writer.MetricsLog(os.path.join(workdir, 'metrics.jsonl'))
    start_step = restored.step if restored else 0
    extra = restored.extra if restored else {}
    log.truncate_after(start_step)
    if start_step == config.num_steps:
      return _finish(config, workdir, log, trainer, restored.state, test_set, extra)
    try:
      # Clip datasets give uint8 frames; prep makes them floats on the device.
      batches = make_batches(config, train_set, state=extra.get('data'), uint8=True)
      prep = preprocess(config, train_set)
      batch = next(batches)
      _check_frames(batch, start_step + 1, train_set)
      batch = prep(batch)
      state = (builders.from_checkpoint(trainer, restored.state, config,
                                        train_set.frame_shape)
               if restored else initial_state(config, trainer, train_set, batch))
      keep = builders.frozen_cache(config, trainer, state.params, train_set)  # frozen outputs
      batch = keep(batch)
      compile_start = time.time()
      jax.block_until_ready(trainer.step(state, batch))  # compile (result discarded)
      if signals.received is not None and not restored:
        raise Interrupted(signals.received, 0)
    except BaseException as err:
      workdir_lib.remove_failed_start(workdir, created, written)
      if isinstance(err, (ValueError, TypeError)) and not isinstance(
          err, (checks.ConfigError, checks.FlagError, checks.InputError)):
        raise checks.InputError(train_loop.data_message(
            err, start_step, f'step {start_step + 1}')) from err
      raise
    compile_s = time.time() - compile_start
    print(f'compiled the step in {compile_s:.1f}s', flush=True)
    old_result = workdir_lib.read_result(workdir)
    if old_result is not None:  # a finished run, extended: keep its result beside
      os.replace(os.path.join(workdir, 'result.json'),
                 os.path.join(workdir, f'result_step{old_result.get("step")}.json'))
    loop = train_loop.Loop(config, workdir, store, log, trainer, network, test_set, batches,
                           extra)
    loop.train_time += compile_s
    try:
      state, final = loop.run(state, batch, lambda b: keep(prep(b)), start_step, signals,
                              train_set)
    finally:
      loop.close()
    return _finish(config, workdir, log, trainer, state, test_set,
                   {'train_time_s': loop.train_time}, final)


def _finish(config, workdir, log, trainer, state, test_set, extra, final=None):
  """Writes result.json (final eval metrics + train_time_s) and prints it as JSON."""
  if not final:  # resumed at the end: the eval record of the last step, else a fresh eval
    evals = [r for r in log.records() if r.get('split') == 'eval'
             and r.get('step') == config.num_steps]
    try:
      final = ({k: v for k, v in evals[-1].items()
                if k not in ('step', 'split', 'train_time_s')}
               if evals else builders.evaluate_state(trainer, state, test_set, config,
                                                     num_clips=len(test_set)))
    except (data_errors.DataError, DataInputError) as err:
      raise checks.InputError(train_loop.data_message(
          err, config.num_steps, f'evaluating step {config.num_steps}')) from err
  log.close()
  result = {'step': config.num_steps, 'split': 'eval',
            'train_time_s': extra.get('train_time_s', 0.), **final}
  workdir_lib.write_result(workdir, result)
  print(json.dumps(result), flush=True)
  return final


def main(argv):
  if len(argv) > 1:
    raise checks.FlagError(f'unexpected arguments {argv[1:]}; config keys are set as '
                           '--config.KEY=VALUE')
  config = _CONFIG.value
  if _PRINT_CONFIG.value:
    print(keys.describe(config))
    return
  workdir = _WORKDIR.value
  if workdir is not None and not workdir.strip():
    raise checks.FlagError('--workdir is empty; give the folder the run writes to (or leave '
                           'the flag out for a new workdirs/<time>)')
  if workdir is None:
    workdir = os.path.join('workdirs', time.strftime('%Y%m%d-%H%M%S'))
    print(f'--workdir not given: writing to {workdir}', flush=True)
  try:
    train_and_evaluate(config, workdir,
                       config_file=config_flags.get_config_filename(flags.FLAGS['config']))
  except Interrupted as err:
    print(str(err), file=sys.stderr, flush=True)
    sys.exit(128 + err.signum)


def run():
  """Console entry point (`sideways-train`)."""
  cli.run(main, __doc__)


if __name__ == '__main__':
  run()
