"""The training loop of experiments.train: steps, train records, periodic evaluations,
checkpoints, and the one-line errors of bad data met on the way.

`Loop.run` trains from a step to `num_steps` (or a signal), writing each `log_every`-th
train record (means over the window since the last one) to metrics.jsonl and TensorBoard,
evaluating every `eval_every` steps (the last evaluation scores the whole test split),
saving every `checkpoint_every` steps. A checkpoint also holds what a resume needs to
continue bitwise: the data iterator's state, the train window, the training time.
"""

import time

import jax
import numpy as np

from sideways_jax import metrics_writer
from sideways_jax.data import errors as data_errors

from . import builders
from . import checks
from . import train_events
from .resume import Interrupted


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


class Window:
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


def check_frames(batch, step, dataset):
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
  """Bad input data met by the loop (passed on by `Loop` as a one-line InputError)."""


def data_message(err, kept_step, where):
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


class Loop:
  """The training loop of one process: steps, records, evaluations, checkpoints, and
  their TensorBoard events (train_events: the config, predicted frames, hparams)."""

  def __init__(self, config, workdir, store, log, trainer, network, test_set, batches,
               extra):
    self.config, self.store, self.log = config, store, log
    self.trainer, self.network, self.test_set, self.batches = (trainer, network, test_set,
                                                               batches)
    self.workdir = workdir
    self.events = metrics_writer.EventWriter(workdir)
    self.frames = (train_events.PredictedFrames(config, network, test_set)
                   if config.task == 'prediction' else None)
    self.train_time = extra.get('train_time_s', 0.)
    self.window = Window(extra.get('window'))
    self.pending_eval = extra.get('pending_eval')

  def save(self, step, state, pending_eval=None):
    self.log.sync()  # the checkpoint covers every record written so far
    extra = {'data': self.batches.get_state(), 'train_time_s': self.train_time,
             'window': self.window.state(),
             'rng': np.asarray(jax.random.key_data(builders.rng(self.config))).tolist()}
    if pending_eval is not None:
      extra['pending_eval'] = pending_eval
    self.store.save(step, builders.to_checkpoint(self.trainer, state), extra)

  def run(self, state, batch, prep, step, signals, train_set=None):
    config, log, events = self.config, self.log, self.events
    if step:
      events.restart(step + 1)
    events.text('config', step, train_events.config_text(self.workdir))
    ticks_per_step = config.batch_size * config.frames_per_clip
    start, final, saved_step = time.time(), {}, step
    if step and self.pending_eval == step:  # its evaluation failed before the stop
      final = self.evaluate(step, state, saved_step)
    while step < config.num_steps and signals.received is None:
      t = time.time()
      if batch is None:
        try:
          batch = next(self.batches)
          check_frames(batch, step + 1, train_set)
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
        self.window = Window()
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
    train_events.hparams(events, config, final, step)
    return state, final

  def evaluate(self, step, state, saved_step):
    """The evaluation of `step` (the last one scores the whole test split, the others a
    fixed sample), recorded. Bad test data stops the run, its training kept."""
    config = self.config
    try:
      final = builders.evaluate_state(
          self.trainer, state, self.test_set, config,
          num_clips=len(self.test_set) if step == config.num_steps else None)
      if self.frames is not None:  # predicted frames beside their targets, as an image
        self.frames.write(self.events, step,
                          builders.eval_params(self.trainer, state, config))
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
    raise checks.InputError(data_message(err, step, where)) from err

  def close(self):
    self.events.close()
    self.log.close()


def _progress(record, num_steps, window, elapsed):
  """`step 250/1500 loss=... | 9.1 steps/s, elapsed 0m27s, ETA 2m17s` (ETA: training)."""
  rate = window.timed / max(window.seconds, 1e-9)
  metrics = ' '.join(f'{k}={v:.4g}' for k, v in record.items() if k not in ('step', 'split'))
  return (f'step {record["step"]}/{num_steps} {metrics} | {rate:.3g} steps/s, elapsed '
          f'{_duration(elapsed)}, ETA {_duration((num_steps - record["step"]) / rate)}')
