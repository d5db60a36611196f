"""What several algorithms share, written once against the stage interface (stage.py): the
start of a step (reset), the forward-only scan of the clock, and one window per clip."""

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import updates
from sideways_jax.stage import Carry
from sideways_jax.train_state import Options


def frame_of(batch) -> jax.ShapeDtypeStruct:
  """The frame batch [B, H, W, C] of a batch of clips [B, T, H, W, C]."""
  frames = batch['frames']
  return jax.ShapeDtypeStruct((frames.shape[0],) + tuple(frames.shape[2:]), frames.dtype)


def _empty_window(stage, local):
  del stage
  opt_state, _ = local['rest']
  return {'rest': (opt_state, updates.empty_window(local['params']))}, None


def start(ex, opts: Options, carry: Carry, batch, with_messages=None) -> Carry:
  """With `reset`, empties the buffers (`with_messages`: None for an algorithm that carries
  none) and the update windows, and rewinds the clock."""
  if not opts.reset:
    return carry
  buffers = None if with_messages is None else ex.empty_buffers(frame_of(batch),
                                                                  with_messages)
  rest = ex.run(_empty_window, {'params': carry.params, 'rest': carry.rest})[0]['rest']
  return Carry(carry.params, rest, buffers, jnp.zeros((), jnp.int32))


def forward_scan(ex, params, buffers, first, num_ticks: int, read, record, frame_valid=None):
  """Runs the clock forward only over `num_ticks` ticks (bptt, gpipe, evaluation).

  Args:
    params: the stages' parameters (frozen modules' behind a stop_gradient here).
    first: the frame index of tick 0.
    read: `read(i) -> TickInput`.
    record: `(stage, top activation, targets) -> dict` kept per tick.
    frame_valid: `i -> bool`, whether tick i's input is a real frame (default: all are).

  Returns:
    (buffers, records stacked over ticks).
  """
  def tick(stage, local, x, i):
    clock, buffers = stage.clock, local['buffers']
    held = {k: jax.lax.stop_gradient(p) if k in clock.frozen else p
            for k, p in zip(stage.modules, local['params'])}
    valid = True if frame_valid is None else frame_valid(i)
    frame_act = routing.frame_activation(x.frame, first + i, x.labels, x.video_ids, valid)
    targets = clk.targets_for(clock.history, clock.router.past_frames(buffers), frame_act,
                              x.loss_on)
    acts = clk.forward_tick(clock, held, buffers, frame_act, stage.modules, x.frozen)
    buffers = clock.router.route(buffers, frame_act, acts)
    return {'buffers': buffers}, (record(stage, acts[stage.num_modules], targets)
                                  if stage.has_top else {})

  def body(buffers, i):
    out, rec = ex.run(tick, {'params': params, 'buffers': buffers}, read(i), i)
    return ex.exchange(out['buffers']), rec

  return jax.lax.scan(body, buffers, jnp.arange(num_ticks, dtype=jnp.int32))


def loss_record(stage, activation, targets):
  """Metric sums of the top's output at one tick."""
  return clk.loss_record(stage.clock, activation, targets)


def one_window(ex, opts: Options, carry: Carry, grads, has_loss):
  """One optimizer step per module with the clip's gradient (if it had any loss); frozen
  modules take none. Returns (params, rest, trace)."""
  def fn(stage, local, has_loss):
    params, (opt_state, _) = local['params'], local['rest']
    window = updates.accumulate(updates.empty_window(params), local['grads'],
                                [has_loss & (k not in stage.clock.frozen)
                                 for k in stage.modules])
    params, opt_state, window, _, nonfinite = updates.close_window(
        [opts.optimizers[k - 1] for k in stage.modules], params, opt_state, window,
        jnp.array(True))
    return {'params': params, 'rest': (opt_state, window)}, stage.spread(nonfinite)

  out, nonfinite = ex.run(fn, {'params': carry.params, 'rest': carry.rest, 'grads': grads},
                          has_loss)
  trace = {'nonfinite': ex.any_stage(nonfinite)[None], 'tick': jnp.zeros((1,), jnp.int32)}
  return out['params'], out['rest'], trace


def scan_summing(tick_fn, init, num_ticks: int):
  """`lax.scan` of `tick_fn(*carry, i) -> (carry, metric sums, trace)` over `num_ticks`
  ticks, adding up the sums. Returns (carry, sums, trace stacked over ticks)."""
  def body(carry, i):
    *carry, sums = carry
    carry, tick_sums, trace = tick_fn(*carry, i)
    return (*carry, jax.tree.map(jnp.add, sums, tick_sums)), trace

  zero = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(
      lambda c: tick_fn(*c, jnp.zeros((), jnp.int32))[1], tuple(init)))
  (*carry, sums), trace = jax.lax.scan(body, tuple(init) + (zero,),
                                       jnp.arange(num_ticks, dtype=jnp.int32))
  return tuple(carry), sums, trace


def finish(ex, opts: Options, sums, trace):
  """The step's metrics: the sums joined over stages and shards, each over its count."""
  return clk.finish_metrics(ex.sum_metrics(sums), clk.step_extras(trace, opts.diagnostics))
