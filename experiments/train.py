"""Train a video model with Sideways / Skip-Sideways or a baseline; evaluate; resume.

  python -m experiments.train --workdir=DIR [--config=experiments/configs/default.py[:VARIANT]]
      [--config.KEY=VALUE ...]           e.g. --config.algorithm=bptt --config.skips=none
  python -m experiments.train --print_config [--config=...]   every key, value and meaning
  python -m experiments.evaluate --workdir=DIR                 the newest checkpoint, as JSON

Rerunning the same command resumes from the newest checkpoint in DIR/checkpoints/ (a
corrupt one is skipped with a warning); SIGINT / SIGTERM save a checkpoint and exit
(status 130 / 143). A run writes DIR/config.json (the resolved config plus version, commit,
devices, start time), DIR/metrics.jsonl (each step once), TensorBoard events
(`tensorboard --logdir DIR`), and at the end DIR/result.json (the final eval metrics and
train_time_s, seconds of training without evaluation, compilation included).

Flags: --config, --workdir (default workdirs/<time>, printed), --print_config, --traceback.
One run at a time holds DIR (a lock, DIR/.lock): a second launcher there exits at once
naming the other; a lock left by a killed run is taken over with one line.
Mistakes in flags, config values or data are one `error:` line, exit status 2 (a bad video
met mid-run after saving a checkpoint of the last completed step); a NaN or Inf gradient
stops the run with one line naming the module and tick, exit status 1.
"""

import contextlib
import json
import os
import signal
import sys
import threading
import time

from absl import flags
import jax
import numpy as np
from ml_collections import config_flags

from sideways_jax import checkpoints
from sideways_jax import metrics_writer
from sideways_jax.data import errors as data_errors

from experiments import builders
from experiments import checks
from experiments import cli
from experiments import evaluate
from experiments import workdir as workdir_lib
# Re-exported: other tools import these from experiments.train.
from experiments.builders import (  # pylint: disable=unused-import
    OPTIMIZERS, make_batches, make_datasets, make_optimizer, make_task_and_network,
    make_trainer, preprocess, rng, updates_per_step)
from experiments.configs import keys


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


class Interrupted(Exception):
  """SIGINT / SIGTERM: the run saved a checkpoint and stopped."""

  def __init__(self, signum, step):
    self.signum = signum
    name = signal.Signals(signum).name
    super().__init__(f'{name}: stopped at step {step} with a checkpoint; rerun the same '
                     'command to resume.' if step else
                     f'{name}: stopped before the first step; nothing was kept.')


class _Signals:
  """While active, SIGINT / SIGTERM set `received`; the loop saves and stops. A second one
  quits at once without saving."""

  def __init__(self):
    self.received = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def _handle(self, signum, frame):
    del frame
    name = signal.Signals(signum).name
    if self.received is not None:
      os.write(2, f'{name} again: quitting without saving.\n'.encode())
      os._exit(128 + signum)  # pylint: disable=protected-access
    self.received = signum
    os.write(2, f'{name}: saving a checkpoint after this step, then exiting (send it again '
                'to quit without saving).\n'.encode())

  def __exit__(self, *exc):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def _duration(seconds):
  seconds = int(round(seconds))
  h, rest = divmod(seconds, 3600)
  m, s = divmod(rest, 60)
  return f'{h}h{m:02d}m{s:02d}s' if h else f'{m}m{s:02d}s'


def _check_finite(metrics, step, network):
  """A non-finite gradient (the engine refused that module's update) or loss stops the run
  before any such state is kept."""
  module, tick = int(metrics.get('nonfinite_module', 0)), int(metrics.get('nonfinite_tick', -1))
  loss = float(metrics.get('loss', 0.))
  if module:
    raise checks.NonFiniteError(
        f'step {step}: a NaN or Inf gradient in module {module} ({network.names[module - 1]}) '
        f'at tick {tick}; the update was refused and the run stopped (its last checkpoint is '
        'intact). Lower --config.learning_rate, set --config.grad_clip, or check the data.')
  if not np.isfinite(loss):
    raise checks.NonFiniteError(
        f'step {step}: the loss of the top module ({network.names[-1]}) is {loss}; the run '
        'stopped (its last checkpoint is intact). Check the data and labels, or lower '
        '--config.learning_rate.')


class _Window:
  """Train metrics summed over the steps since the last train record (checkpointed too)."""

  def __init__(self, saved=None):
    saved = saved or {}
    self.sums = dict(saved.get('sums', {}))
    self.count = saved.get('count', 0)
    self.seconds, self.timed = 0., 0

  def add(self, metrics, seconds):
    for k, v in metrics.items():
      if not k.startswith('nonfinite_'):
        self.sums[k] = self.sums.get(k, 0.) + float(v)
    self.count += 1
    self.seconds += seconds
    self.timed += 1

  def record(self, step, ticks_per_step):
    out = {'step': step, 'split': 'train', **{k: v / self.count for k, v in self.sums.items()}}
    if self.timed:
      out['ticks_per_s'] = self.timed * ticks_per_step / max(self.seconds, 1e-9)
    return out

  def state(self):
    return {'sums': self.sums, 'count': self.count}


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


def _open(config, workdir, store, abstract, config_file):
  """Checks the folder (made and locked already) against a previous run, restores its
  newest checkpoint (or None), writes config.json. Returns (restored, files written by a
  fresh start)."""
  resuming = bool(store.steps())
  if resuming:
    info = workdir_lib.check_same_run(workdir, config)
  elif workdir_lib.read_result(workdir) is not None:
    raise checks.FlagError(f'--workdir={workdir} holds a finished run without checkpoints '
                           '(result.json); use a new --workdir')
  restored = _restore(store, abstract, workdir) if resuming else None
  if restored is None:
    info = workdir_lib.run_info(config_file)
  elif restored.step > config.num_steps:
    raise checks.ConfigError('num_steps', config.num_steps, 'the run already has a '
                             f'checkpoint at step {restored.step}',
                             f'give --config.num_steps={restored.step} or more')
  elif restored.step == config.num_steps:
    print(f'the run is finished (step {restored.step}); its result:', flush=True)
  else:
    info.setdefault('resumes', []).append({'step': restored.step,
                                           'time': time.strftime('%Y-%m-%dT%H:%M:%S%z')})
    print(f'resuming from the checkpoint at step {restored.step} in {store.directory}',
          flush=True)
  workdir_lib.write_config(workdir, config, info)
  written = [] if resuming else [workdir_lib.config_path(workdir),
                                 os.path.join(workdir, 'metrics.jsonl')]
  return restored, written


def initial_state(config, trainer, train_set, batch):
  """A new run's first state: `trainer.init`, its frozen modules (or `init_modules`) from
  `init_from` if set."""
  state = trainer.init(rng(config), batch)
  if config.get('init_from'):
    state = builders.warm_start(config, trainer, state, train_set.frame_shape,
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
  with _Signals() as signals, contextlib.closing(store):
    try:
      train_set, test_set, network, trainer = _build(config)
      abstract = builders.abstract_state(config, trainer, train_set)
      _preflight(config, abstract, train_set)
      restored, written = _open(config, workdir, store, abstract, config_file)
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
      batches = make_batches(config, train_set, state=extra.get('data'))
      if restored:
        _render_kept_clips_as_before(config, train_set, start_step)
      prep = preprocess(config)
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
        raise checks.InputError(_data_message(err, start_step,
                                              f'step {start_step + 1}')) from err
      raise
    compile_s = time.time() - compile_start
    print(f'compiled the step in {compile_s:.1f}s', flush=True)
    old_result = workdir_lib.read_result(workdir)
    if old_result is not None:  # a finished run, extended: keep its result beside
      os.replace(os.path.join(workdir, 'result.json'),
                 os.path.join(workdir, f'result_step{old_result.get("step")}.json'))
    loop = _Loop(config, workdir, store, log, trainer, network, test_set, batches, extra)
    loop.train_time += compile_s
    try:
      state, final = loop.run(state, batch, lambda b: keep(prep(b)), start_step, signals,
                              train_set)
    finally:
      loop.close()
    return _finish(config, workdir, log, trainer, state, test_set,
                   {'train_time_s': loop.train_time}, final)


def _render_kept_clips_as_before(config, dataset, steps):
  """On a resume, renders the clips a dataset keeps in memory (`dataset.cache`) with the
  batches an uninterrupted run first drew them in, so that they are bitwise the same.

  A synthetic clip's pixels depend, in the last bit of float32, on the clips rendered
  with it (numpy vectorises over the rendering chunk), and with `dataset.cache` a clip
  keeps its first rendering. An uninterrupted run first renders each clip in an early
  epoch's batch; a resumed one, without this, in the batch it meets it in after the
  resume, and some clips then differ by ~6e-7: enough to move the parameters by ~6e-8
  within steps (the tiny config resumed at 40, 44 or 60 of 200 steps). Replaying the
  iterator from its start until every clip is rendered (at most `steps` batches; about
  one epoch of rendering, which the run would otherwise do over its next epoch) gives the
  clips the uninterrupted run has."""
  kept = getattr(dataset, '_kept', None)  # synthetic.SyntheticClips.keep_rendered()
  if config.stream or not steps or kept is None:
    return
  rendered = kept[2]
  replay = make_batches(config, dataset)
  try:
    for _ in range(steps):
      if rendered.all():
        break
      next(replay)
  finally:
    if hasattr(replay, 'close'):
      replay.close()


def _check_frames(batch, step, dataset):
  """Non-finite input frames are the data's fault, not the learning rate's: refused before
  the step, naming the videos (a cheap host-side check)."""
  frames = np.asarray(batch['frames'])
  finite = np.isfinite(frames)
  if finite.all():
    return
  bad = ~finite.reshape(frames.shape[0], -1).all(axis=1)  # clips with a NaN or Inf
  ids = np.asarray(batch.get('video_ids', np.full(frames.shape[:2], -1)))
  ids = sorted({int(i) for i in ids[bad].reshape(-1)})
  paths = getattr(dataset, 'paths', None)
  named = ', '.join(str(paths[i]) if paths is not None and 0 <= i < len(paths) else
                    f'video {i}' for i in ids[:3]) + (' ...' if len(ids) > 3 else '')
  raise DataInputError(
      f'step {step}: the input frames hold {int(frames.size - finite.sum())} NaN or Inf '
      f'values ({int(bad.sum())} of {frames.shape[0]} clips; {named}); the data is broken, '
      'not the learning rate: fix or remove those videos')


class DataInputError(ValueError):
  """Bad input data met by the loop (passed on by `_Loop` as a one-line InputError)."""


def _data_message(err, kept_step, where):
  """One line for an error met while training (`where`: `step 12`, `evaluating step
  10`): a data error is the dataset's line (it names the file) and how to go on from the
  checkpoint of `kept_step` that was kept; any other, its first line."""
  text = str(err).splitlines()[0] if str(err) else type(err).__name__
  if not isinstance(err, (data_errors.DataError, DataInputError)):
    return text
  if text.startswith('step '):
    text = text.split(': ', 1)[-1]
  budget = ('' if 'max_bad_fraction' not in text else
            ' (or allow more bad videos: config.dataset.max_bad_fraction in a config file of '
            'yours, e.g. 0.2; the variants have no such key, so it cannot be given as '
            '--config.dataset.max_bad_fraction)')
  kept = (f'the run kept a checkpoint of step {kept_step}; replace or re-extract the files '
          f'named{budget}, then rerun the same command to resume' if kept_step else
          f'no step was trained; replace or re-extract the files named{budget}, then rerun')
  return f'{where}: {text} -- {kept}.'


class _Loop:
  """The training loop of one process: steps, records, evaluations, checkpoints."""

  def __init__(self, config, workdir, store, log, trainer, network, test_set, batches,
               extra):
    self.config, self.store, self.log = config, store, log
    self.trainer, self.network, self.test_set, self.batches = (trainer, network, test_set,
                                                               batches)
    self.events = metrics_writer.EventWriter(workdir)
    self.train_time = extra.get('train_time_s', 0.)
    self.window = _Window(extra.get('window'))
    self.pending_eval = extra.get('pending_eval')

  def save(self, step, state, pending_eval=None):
    self.log.sync()  # the checkpoint covers every record written so far
    extra = {'data': self.batches.get_state(), 'train_time_s': self.train_time,
             'window': self.window.state(),
             'rng': np.asarray(jax.random.key_data(rng(self.config))).tolist()}
    if pending_eval is not None:
      extra['pending_eval'] = pending_eval
    self.store.save(step, builders.to_checkpoint(self.trainer, state), extra)

  def run(self, state, batch, prep, step, signals, train_set=None):
    config, log, events = self.config, self.log, self.events
    if step:
      events.restart(step + 1)
    ticks_per_step = config.batch_size * config.frames_per_clip
    start, final, saved_step = time.time(), {}, step
    if step and self.pending_eval == step:  # its evaluation failed before the stop
      final = self.evaluate(step, state, saved_step)
    while step < config.num_steps and signals.received is None:
      t = time.time()
      if batch is None:
        try:
          batch = next(self.batches)
          _check_frames(batch, step + 1, train_set)
        except (data_errors.DataError, DataInputError) as err:
          self.stop_on_data_error(err, step, state, saved_step)
        batch = prep(batch)
      try:
        new_state, metrics = self.trainer.step(state, batch)
      except (ValueError, TypeError) as err:
        raise checks.InputError(f'step {step + 1}: {str(err).splitlines()[0]}') from err
      metrics = jax.device_get(metrics)
      _check_finite(metrics, step + 1, self.network)
      state, batch, step = new_state, None, step + 1
      seconds = time.time() - t
      self.train_time += seconds
      self.window.add(metrics, seconds)
      if step % config.log_every == 0 or step == config.num_steps:
        record = self.window.record(step, ticks_per_step)
        log.write(record)
        events.scalars(step, {f'train/{k}': v for k, v in record.items()})
        print(_progress(record, config.num_steps, self.window, time.time() - start),
              flush=True)
        self.window = _Window()
      if step % config.eval_every == 0 or step == config.num_steps:
        final = self.evaluate(step, state, saved_step)
      every = config.checkpoint_every
      if (every and step % every == 0) or step == config.num_steps:
        self.save(step, state)
        saved_step = step
    if signals.received is not None:
      if step > saved_step:
        self.save(step, state)
      raise Interrupted(signals.received, step)
    return state, final

  def evaluate(self, step, state, saved_step):
    """The evaluation of `step` (the last one scores the whole test split, the others a
    fixed sample), recorded. Bad test data stops the run, its training kept."""
    config = self.config
    try:
      final = builders.evaluate_state(
          self.trainer, state, self.test_set, config,
          num_clips=len(self.test_set) if step == config.num_steps else None)
    except (data_errors.DataError, DataInputError) as err:
      self.stop_on_data_error(err, step, state, saved_step, evaluating=True)
    self.log.write({'step': step, 'split': 'eval', 'train_time_s': self.train_time, **final})
    self.events.scalars(step, {f'eval/{k}': v for k, v in final.items()})
    print(f'eval step {step}: {builders.summary(final)}', flush=True)
    return final

  def stop_on_data_error(self, err, step, state, saved_step, evaluating=False):
    """Saves the last completed step (unless saved), then raises the one-line InputError.
    A failed evaluation is marked pending in the checkpoint: a resume runs it first."""
    if step and (step > saved_step or evaluating):
      self.save(step, state, pending_eval=step if evaluating else None)
    where = f'evaluating step {step}' if evaluating else f'step {step + 1}'
    raise checks.InputError(_data_message(err, step, where)) from err

  def close(self):
    self.events.close()
    self.log.close()


def _progress(record, num_steps, window, elapsed):
  """`step 250/1500 loss=... | 9.1 steps/s, elapsed 0m27s, ETA 2m17s` (ETA: training)."""
  rate = window.timed / max(window.seconds, 1e-9)
  metrics = ' '.join(f'{k}={v:.4g}' for k, v in record.items() if k not in ('step', 'split'))
  return (f'step {record["step"]}/{num_steps} {metrics} | {rate:.3g} steps/s, elapsed '
          f'{_duration(elapsed)}, ETA {_duration((num_steps - record["step"]) / rate)}')


def _restore(store, abstract, workdir):
  """The newest readable checkpoint (a corrupt one is a CorruptCheckpointWarning)."""
  try:
    return store.restore_latest(abstract)
  except ValueError as err:
    raise checks.FlagError(f'--workdir={workdir}: {err}') from err


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
      raise checks.InputError(_data_message(err, config.num_steps,
                                            f'evaluating step {config.num_steps}')) from err
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
