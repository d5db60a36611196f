"""Train a video model with Sideways / Skip-Sideways or a baseline, then evaluate.

  python -m experiments.train --config=experiments/configs/default.py --workdir=/tmp/sw

Writes DIR/config.json and DIR/metrics.jsonl (CONTRACTS.md) and prints progress and the
held-out metrics as one JSON line at the end.
"""

import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import jax
import numpy as np
import optax
from ml_collections import config_flags

import sideways_jax as sj
from sideways_jax import data
from sideways_jax.data import pipeline
from sideways_jax.data import streams

_CONFIG = config_flags.DEFINE_config_file('config', 'experiments/configs/default.py',
                                          'Experiment config file.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the run writes its files.')

OPTIMIZERS = {'adam': optax.adam, 'sgd': optax.sgd, 'adamw': optax.adamw,
              'momentum': lambda lr: optax.sgd(lr, momentum=0.9)}


def updates_per_step(config, num_modules):
  """Optimizer updates a module takes per engine step (schedules count engine steps)."""
  ticks = config.frames_per_clip
  if config.algorithm == 'sideways' and not config.stream:
    ticks += num_modules - 1  # drain
  if config.algorithm in ('bptt', 'gpipe') or config.update_every == 'clip':
    return 1
  return -(-ticks // config.update_every)


def make_optimizer(config, num_modules=1):
  if config.optimizer not in OPTIMIZERS:
    raise ValueError(f'Unknown optimizer {config.optimizer!r}; use one of '
                     f'{sorted(OPTIMIZERS)}.')
  per_step = updates_per_step(config, num_modules)
  total = config.num_steps * per_step
  warmup = config.get('warmup_steps', 0) * per_step
  schedule = config.get('schedule', 'constant')
  lr = config.learning_rate
  if schedule == 'constant':
    lr_fn = (optax.linear_schedule(0., lr, warmup) if warmup else lr)
    if warmup:
      lr_fn = optax.join_schedules([lr_fn, optax.constant_schedule(lr)], [warmup])
  elif schedule == 'cosine':
    lr_fn = optax.warmup_cosine_decay_schedule(0., lr, max(warmup, 1), max(total, warmup + 1),
                                               end_value=lr * 0.01)
  else:
    raise ValueError(f"Unknown schedule {schedule!r}; use 'constant' or 'cosine'.")
  opt = OPTIMIZERS[config.optimizer](lr_fn)
  if config.get('grad_clip', 0):
    opt = optax.chain(optax.clip_by_global_norm(config.grad_clip), opt)
  return opt


def make_task_and_network(config, dataset):
  prediction = config.dataset.name in ('moving_digits', 'moving_mnist')
  if config.model.name != 'vgg':
    raise ValueError(f'Unknown model {config.model.name!r}; use "vgg".')
  network = sj.models.vgg(config.model.size, num_classes=dataset.num_classes,
                          task='prediction' if prediction else 'classification',
                          frame_shape=dataset.frame_shape, skips=config.skips,
                          hidden=config.model.hidden or None,
                          norm=config.model.get('norm', 'none'),
                          width=config.model.get('width', 1.0))
  task = sj.FramePrediction() if prediction else sj.Classification(dataset.num_classes)
  return task, network


def preprocess(config):
  """Per-frame, per-channel mean subtraction (classification): the synthetic scenes have
  random background colours, and centred inputs train several times faster."""
  if not config.center_frames:
    return lambda batch: batch
  def center(batch):
    frames = batch['frames']
    return {**batch, 'frames': frames - frames.mean(axis=(2, 3), keepdims=True)}
  return center


def evaluate(trainer, params, test_set, config):
  """Mean metrics over the first `eval_clips` held-out clips."""
  totals, weight = {}, 0.
  n = min(config.eval_clips, len(test_set))
  for start in range(0, n - config.batch_size + 1, config.batch_size):
    batch = preprocess(config)(test_set.get_batch(np.arange(start, start + config.batch_size)))
    metrics = jax.device_get(trainer.evaluate(params, batch))
    for k, v in metrics.items():
      totals[k] = totals.get(k, 0.) + float(v)
    weight += 1
  return {k: v / max(weight, 1) for k, v in totals.items() if k != 'num_outputs'}


def train_and_evaluate(config, workdir):
  """Runs the experiment; returns the final held-out metrics."""
  if config.stage_devices != 1 or config.data_devices != 1:
    raise ValueError('stage_devices / data_devices > 1 need placement, which is not '
                     'implemented yet; set both to 1.')
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'config.json'), 'w') as f:
    f.write(config.to_json(indent=1))
  kwargs = dict(config.dataset.kwargs)
  train_set = data.get_dataset(config.dataset.name, 'train', seed=config.seed,
                               frames_per_clip=config.frames_per_clip, **kwargs)
  test_set = data.get_dataset(config.dataset.name, 'test', seed=config.seed,
                              frames_per_clip=config.frames_per_clip, **kwargs)
  task, network = make_task_and_network(config, train_set)
  trainer = sj.build(network, make_optimizer(config, network.num_modules), task,
                     algorithm=config.algorithm,
                     update_every=config.update_every, stream=config.stream)
  if config.stream:
    batches = streams.video_stream(train_set, config.batch_size, config.frames_per_clip,
                                   seed=config.seed)
  else:
    batches = pipeline.batches(train_set, config.batch_size, seed=config.seed)
  if config.center_frames and task.name != 'classification':
    raise ValueError('center_frames=True is for classification; frame prediction compares '
                     'outputs with the raw frames. Set --config.center_frames=False.')
  batches = map(preprocess(config), batches)
  first = next(batches)
  state = trainer.init(jax.random.PRNGKey(config.seed), first)
  log = open(os.path.join(workdir, 'metrics.jsonl'), 'a')

  def write(record):
    log.write(json.dumps(record) + '\n')
    log.flush()

  ticks_per_step = config.batch_size * config.frames_per_clip
  start, sums, count = time.time(), {}, 0
  train_time = 0.  # seconds spent training (evaluation excluded), compile included
  batch = first
  final = {}
  for step in range(1, config.num_steps + 1):
    state, metrics = trainer.step(state, batch)
    batch = next(batches)
    for k, v in jax.device_get(metrics).items():
      sums[k] = sums.get(k, 0.) + float(v)
    count += 1
    if step % config.log_every == 0 or step == config.num_steps:
      elapsed = time.time() - start
      train_time += elapsed
      record = {'step': step, 'split': 'train', **{k: v / count for k, v in sums.items()},
                'ticks_per_s': count * ticks_per_step / elapsed}
      write(record)
      print(f'step {step}/{config.num_steps} ' + ' '.join(
          f'{k}={v:.4g}' for k, v in record.items() if k not in ('step', 'split')),
            flush=True)
      start, sums, count = time.time(), {}, 0
    if step % config.eval_every == 0 or step == config.num_steps:
      train_time += time.time() - start
      final = evaluate(trainer, state.params, test_set, config)
      write({'step': step, 'split': 'eval', 'train_time_s': train_time, **final})
      start = time.time()
      print(f'eval step {step}: ' + ' '.join(f'{k}={v:.4g}' for k, v in final.items()),
            flush=True)
  log.close()
  result = {'step': config.num_steps, 'split': 'eval', 'train_time_s': train_time, **final}
  with open(os.path.join(workdir, 'result.json'), 'w') as f:
    json.dump(result, f)
  print(json.dumps(result))
  return final


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  workdir = _WORKDIR.value or os.path.join('workdirs', time.strftime('%Y%m%d-%H%M%S'))
  logging.info('workdir: %s', workdir)
  train_and_evaluate(_CONFIG.value, workdir)


if __name__ == '__main__':
  app.run(main)
