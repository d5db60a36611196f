"""backprop: the network read as an ordinary same-frame DAG, each frame its own forward and
backward, stepping every `update_every` frames (or once a clip). It needs every module in
one place (no pipeline to place: gpipe is its placed form)."""

import functools

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import sideways as sw
from sideways_jax import updates
from sideways_jax.algorithms import base
from sideways_jax.algorithms.gpipe import next_frame_targets
from sideways_jax.stage import Carry
from sideways_jax.train_state import Options, window_ends

MESSAGES = None    # nothing carried between steps
PLACEABLE = False


def same_frame_output(clock: clk.Clock, params, batch, index):
  """Frame `index` through the ordinary same-frame network: (top activation, targets)."""
  x = clk.tick_reader(batch)[1](index)
  frame_act = routing.frame_activation(x.frame, index, x.labels, x.video_ids)
  outs = {0: frame_act}
  for k in range(1, clock.network.num_modules + 1):
    inputs = [outs[e.source] for e in clock.network.same_frame_inputs(k)]
    outs[k] = sw.merge_metadata(inputs, clock.fns[k - 1](params[k - 1],
                                                         *[a.value for a in inputs]))
  return outs[clock.network.num_modules], next_frame_targets(batch, index)


def _frame_loss(clock: clk.Clock, params, batch, index):
  """The loss of one frame: the mean over its valid outputs (and its metric sums)."""
  params = clk.hold_frozen(clock, params)
  sums = clk.loss_record(clock, *same_frame_output(clock, params, batch, index))
  return sums['loss'] / jnp.maximum(clock.total(sums['count']), 1.), sums


def step(ex, opts: Options, carry: Carry, batch):
  """Per-frame backprop: each frame's own forward and backward, windows of frames."""
  carry = base.start(ex, opts, carry, batch)
  clock = ex.clock
  num_frames = batch['frames'].shape[1]
  num_modules = clock.network.num_modules

  def frame_fn(params, rest, tick, i):
    opt_state, window = rest
    grads, sums = jax.grad(functools.partial(_frame_loss, clock), has_aux=True)(
        params, batch, i)
    valid = clock.total(sums['count']) > 0
    window = updates.accumulate(window, grads, [valid & (k not in clock.frozen)
                                                for k in range(1, num_modules + 1)])
    params, opt_state, window, stepped, nonfinite = updates.close_window(
        opts.optimizers, params, opt_state, window, window_ends(opts, tick, num_frames - 1))
    trace = {'nonfinite': nonfinite, 'tick': tick}
    if opts.diagnostics:
      trace.update({'grads': grads, 'stepped': stepped})
    return (params, (opt_state, window), tick + 1), sums, trace

  (params, rest, tick), sums, trace = base.scan_summing(
      frame_fn, (carry.params, carry.rest, carry.clock), num_frames)
  return Carry(params, rest, None, tick), base.finish(ex, opts, sums, trace)
