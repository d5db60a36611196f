"""Sideways (Skip-Sideways with skips): a scan of Sideways ticks over the clip, with windows.

Every tick, every module does its forward and VJP on last tick's buffers (sideways.py,
clock.py), its outputs are routed for the next tick, and its gradient joins its update
window; at a window's end (`train_state.window_ends`) each module steps (updates.py).
A tick is: each stage's compute -> gradients summed over the batch split -> each stage's
update -> the exchange of what stages sent. With a split batch the top's loss is
normalised by the whole batch's count, taken first from metadata alone.
"""

import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import sideways as sw
from sideways_jax import updates
from sideways_jax.algorithms import base
from sideways_jax.stage import Carry
from sideways_jax.train_state import Options, window_ends

MESSAGES = True   # the buffers carry gradient messages between steps


def compute(clock: clk.Clock, modules, params, buffers, x: clk.TickInput, first_frame):
  """The Sideways tick of `modules` (SIDEWAYS.md): each reads last tick's buffers, does its
  forward and VJP at its current input, and its outputs are routed for the next tick.

  Args:
    params: {k: theta_k} of `modules`.
    x: this tick's input frame and labels.
    first_frame: frame index of the call's first frame (streams continue the count).

  Returns:
    (buffers, {k: ModuleTick}, metric sums: of the top's loss when the top is among
    `modules`, and of each local head's among them, under `local_head_K/`).
  """
  frame_act = routing.frame_activation(x.frame, first_frame + x.index, x.labels, x.video_ids)
  targets = clk.targets_for(clock.history, clock.router.past_frames(buffers), frame_act,
                            x.loss_on)
  ticks = clk.network_tick(clock, params, buffers, frame_act, targets, modules, x.frozen)
  buffers = clock.router.route(buffers, frame_act, {k: t.activation for k, t in ticks.items()},
                               {k: t.messages for k, t in ticks.items()})
  top = ticks.get(clock.network.num_modules)
  sums = {} if top is None else clk.metric_sums(clock.task, top.loss, top.activation)
  sums.update(clk.head_metric_sums(clock.task, ticks))
  return buffers, ticks, sums


def _top_count(stage, local, x, first_frame):
  """How many examples the top's loss is taken on this tick (from metadata only), so a
  split batch can be normalised by the whole batch's count."""
  if not stage.has_top:
    return {}, jnp.zeros((), jnp.int32)
  clock, buffers, top = stage.clock, local['buffers'], stage.num_modules
  frame_act = routing.frame_activation(x.frame, first_frame + x.index, x.labels, x.video_ids)
  inputs = clock.router.read_inputs(buffers, top, frame_act)
  out = clock.network.output_shapes(x.frame.shape, x.frame.dtype)[-1]
  act = sw.merge_metadata(inputs, jnp.zeros(out.shape, out.dtype))
  targets = clk.targets_for(clock.history, clock.router.past_frames(buffers), frame_act,
                            x.loss_on)
  _, mask = clock.task.loss_terms(act, targets)
  return {}, jnp.sum(mask & act.valid).astype(jnp.int32)


def extra_ticks(opts: Options, clock: clk.Clock) -> int:
  """The drain: ticks after a clip's last frame (`clk.drain_ticks`), or none."""
  return clk.drain_ticks(clock.network.num_modules, clock.frozen) if opts.drain else 0


def step(ex, opts: Options, carry: Carry, batch):
  """One call: a scan of Sideways ticks over the clip (and its drain), with updates."""
  carry = base.start(ex, opts, carry, batch, MESSAGES)
  num_modules = ex.clock.network.num_modules
  num_ticks, read = clk.tick_reader(batch, extra_ticks(opts, ex.clock))
  clk.check_frozen_values(ex.clock, batch, num_ticks)
  first_frame = carry.clock

  def compute_fn(stage, local, x, count):
    clock = stage.clock
    if count is not None:
      clock = clock._replace(total=lambda c: count.astype(c.dtype))
    buffers, ticks, sums = compute(clock, stage.modules, dict(zip(stage.modules,
                                                                  local['params'])),
                                   local['buffers'], x, first_frame)
    grads = tuple(ticks[k].grads for k in stage.modules)
    valid = stage.spread(jnp.stack([ticks[k].grads_valid for k in stage.modules]))
    trace = {}
    if opts.diagnostics:
      trace = {'ticks': tuple(ticks[k]._replace(loss=None, head=None) for k in stage.modules),
               'loss': ticks[num_modules].loss}
    return {'buffers': buffers, 'grads': grads}, (valid, sums, trace)

  def update_fn(stage, local, valid, window_end):
    opt_state, window = local['rest']
    window = updates.accumulate(window, local['grads'], [valid[k - 1] for k in stage.modules])
    params, opt_state, window, stepped, nonfinite = updates.close_window(
        [opts.optimizers[k - 1] for k in stage.modules], local['params'], opt_state, window,
        window_end)
    return {'params': params, 'rest': (opt_state, window)}, (stage.spread(nonfinite),
                                                             stage.spread(stepped))

  def tick_fn(params, rest, buffers, i):
    x, tick = read(i), first_frame + i
    count = None
    if ex.splits_data:
      count = ex.sum_data(ex.run(_top_count, {'buffers': buffers}, x, first_frame)[1])
    out, (valid, sums, trace) = ex.run(compute_fn, {'params': params, 'buffers': buffers},
                                       x, count)
    new, (nonfinite, stepped) = ex.run(
        update_fn, {'params': params, 'rest': rest, 'grads': ex.sum_data(out['grads'])},
        valid, window_ends(opts, tick, first_frame + num_ticks - 1))
    trace.update({'nonfinite': nonfinite, 'tick': tick})
    if opts.diagnostics:
      trace['stepped'] = stepped
    return (new['params'], new['rest'], ex.exchange(out['buffers'])), sums, trace

  (params, rest, buffers), sums, trace = base.scan_summing(
      tick_fn, (carry.params, carry.rest, carry.buffers), num_ticks)
  trace['nonfinite'] = ex.any_stage(trace['nonfinite'])
  return Carry(params, rest, buffers, first_frame + num_ticks), base.finish(ex, opts, sums,
                                                                            trace)
