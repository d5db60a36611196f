"""The Sideways training step: a scan of Sideways ticks over the clip, with update windows.

Every tick, every module does its forward and VJP on last tick's buffers (sideways.py,
clock.py), its outputs are routed for the next tick, and its gradient joins its update
window; at a window's end each module steps (updates.py). The two halves,
`sideways_compute` and `sideways_update`, run over any set of modules, so placement
(placed.py) runs the same ones per device group.
"""

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import updates
from sideways_jax.train_state import Options, TrainState, start, window_ends


def sideways_compute(clock: clk.Clock, modules, params, buffers, x: clk.TickInput,
                     first_frame):
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


def sideways_update(opts: Options, modules, params, opt_state, window, grads, valid,
                    window_end):
  """Adds this tick's gradients of `modules` to their window and, at its end, steps.

  `params`, `opt_state` and `window` hold `modules` only, in order; `grads` / `valid` are
  dicts by module. Returns `updates.close_window`'s (params, opt_state, window, stepped,
  nonfinite)."""
  window = updates.accumulate(window, [grads[k] for k in modules], [valid[k] for k in modules])
  return updates.close_window([opts.optimizers[k - 1] for k in modules], params, opt_state,
                              window, window_end)


def step(clock: clk.Clock, opts: Options, state: TrainState, batch):
  """One call: a scan of Sideways ticks over the clip (and its drain), with updates."""
  state = start(clock, opts, state, batch)
  num_modules = clock.network.num_modules
  modules = tuple(range(1, num_modules + 1))
  num_ticks, read = clk.tick_reader(
      batch, clk.drain_ticks(num_modules, clock.frozen) if opts.drain else 0)
  clk.check_frozen_values(clock, batch, num_ticks)
  first_frame = state.clock

  def tick_fn(params, opt_state, buffers, window, tick, i):
    buffers, ticks, sums = sideways_compute(clock, modules, dict(zip(modules, params)),
                                            buffers, read(i), first_frame)
    params, opt_state, window, stepped, nonfinite = sideways_update(
        opts, modules, params, opt_state, window, {k: t.grads for k, t in ticks.items()},
        {k: t.grads_valid for k, t in ticks.items()}, window_ends(opts, tick, num_ticks - 1))
    trace = {'nonfinite': nonfinite, 'tick': tick}
    if opts.diagnostics:
      trace.update({'ticks': tuple(ticks[k]._replace(loss=None, head=None) for k in modules),
                    'loss': ticks[num_modules].loss, 'stepped': stepped})
    return (params, opt_state, buffers, window, tick + 1), sums, trace

  def body(carry, i):
    *carry, sums = carry
    carry, tick_sums, trace = tick_fn(*carry, i)
    return (*carry, jax.tree.map(jnp.add, sums, tick_sums)), trace

  carry = (state.params, state.opt_state, state.pipeline, state.window, state.clock)
  zero = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(
      lambda c: tick_fn(*c, jnp.zeros((), jnp.int32))[1], carry))
  (params, opt_state, pipeline, window, tick, sums), trace = jax.lax.scan(
      body, carry + (zero,), jnp.arange(num_ticks, dtype=jnp.int32))
  state = TrainState(params, opt_state, pipeline, window, tick, state.step + 1)
  return state, clk.finish_metrics(sums, clk.step_extras(trace, opts.diagnostics))
