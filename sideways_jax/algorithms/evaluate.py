"""Evaluation for every algorithm: task metrics on a batch of clips, each algorithm reading
the graph it trains: the frame clock (forward only) for sideways and bptt, the same-frame
network for backprop and gpipe."""

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax.algorithms import base
from sideways_jax.algorithms.backprop import same_frame_output
from sideways_jax.train_state import check_batch

SAME_FRAME = ('backprop', 'gpipe')


def evaluate(ex, algorithm: str, params, batch):
  """Task metrics of `params` (every module's) on `batch`."""
  clock = ex.clock
  check_batch(clock.network, params, batch)
  task = clock.task

  def record(stage, activation, targets):
    del stage
    _, mask = task.loss_terms(activation, targets)
    rec = task.eval_record(activation, targets)
    rec['mask'] = mask & activation.valid
    return rec

  num_frames = batch['frames'].shape[1]
  if algorithm in SAME_FRAME:
    records = jax.vmap(lambda i: record(None, *same_frame_output(clock, params, batch, i)))(
        jnp.arange(num_frames, dtype=jnp.int32))
  else:
    num_ticks, read = clk.tick_reader(  # evaluation computes every module itself
        {k: v for k, v in batch.items() if k != 'frozen_values'})
    _, records = base.forward_scan(ex, params, ex.empty_buffers(base.frame_of(batch), False),
                                   jnp.zeros((), jnp.int32), num_ticks, read, record)
  mask = records.pop('mask')
  return task.eval_metrics(records, mask)
