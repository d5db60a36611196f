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


def make_optimizer(config):
  if config.optimizer not in OPTIMIZERS:
    raise ValueError(f'Unknown optimizer {config.optimizer!r}; use one of '
                     f'{sorted(OPTIMIZERS)}.')
  return OPTIMIZERS[config.optimizer](config.learning_rate)


def make_task_and_network(config, dataset):
  prediction = config.dataset.name in ('moving_digits', 'moving_mnist')
  if config.model.name != 'vgg':
    raise ValueError(f'Unknown model {config.model.name!r}; use "vgg".')
  network = sj.models.vgg(config.model.size, num_classes=dataset.num_classes,
                          task='prediction' if prediction else 'classification',
                          frame_shape=dataset.frame_shape, skips=config.skips,
                          hidden=config.model.hidden or None)
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
  trainer = sj.build(network, make_optimizer(config), task, algorithm=config.algorithm,
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
      record = {'step': step, 'split': 'train', **{k: v / count for k, v in sums.items()},
                'ticks_per_s': count * ticks_per_step / elapsed}
      write(record)
      print(f'step {step}/{config.num_steps} ' + ' '.join(
          f'{k}={v:.4g}' for k, v in record.items() if k not in ('step', 'split')),
            flush=True)
      start, sums, count = time.time(), {}, 0
    if step % config.eval_every == 0 or step == config.num_steps:
      final = evaluate(trainer, state.params, test_set, config)
      write({'step': step, 'split': 'eval', **final})
      print(f'eval step {step}: ' + ' '.join(f'{k}={v:.4g}' for k, v in final.items()),
            flush=True)
  log.close()
  print(json.dumps({'step': config.num_steps, 'split': 'eval', **final}))
  return final


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  workdir = _WORKDIR.value or os.path.join('workdirs', time.strftime('%Y%m%d-%H%M%S'))
  logging.info('workdir: %s', workdir)
  train_and_evaluate(_CONFIG.value, workdir)


if __name__ == '__main__':
  app.run(main)
