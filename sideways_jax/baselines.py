"""Exact baselines on the same graph (SIDEWAYS.md), and evaluation for every algorithm.

- `bptt`: unroll the frame clock (same skips, same delays) over the clip with parameters
  fixed; loss = mean of l_t over valid outputs; the exact gradient by `jax.grad` through the
  scan; one update per clip.
- `backprop`: the same network read as an ordinary same-frame DAG, each frame its own
  forward and backward, stepping every `update_every` frames (or once a clip).
- `gpipe`: exact gradients of the same-frame network with frames as micro-batches flowing
  through pipeline stages (fill / drain), one update per clip. Its gradient is per-frame
  backprop's averaged over the clip (`update_every='clip'`); placement runs its stages on
  different devices.
"""

import functools

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import sideways as sw
from sideways_jax import updates
from sideways_jax.tasks import TickTargets
from sideways_jax.train_state import Options, TrainState, check_batch, start, window_ends


def _one_window(opts: Options, params, opt_state, grads, valid, frozen=frozenset()):
  """One optimizer step per module with the clip's gradient (if it had any loss); frozen
  modules take none."""
  window = updates.accumulate(updates.empty_window(params), grads,
                              [valid & (k not in frozen)
                               for k in range(1, len(params) + 1)])
  params, opt_state, window, _, nonfinite = updates.close_window(
      opts.optimizers, params, opt_state, window, jnp.array(True))
  return params, opt_state, window, {'nonfinite': nonfinite[None], 'tick': jnp.zeros(
      (1,), jnp.int32)}


def bptt_loss(clock: clk.Clock, sums):
  """bptt's loss from the per-tick metric sums: the mean over every valid output."""
  sums = jax.tree.map(jnp.sum, sums)
  return sums['loss'] / jnp.maximum(clock.total(sums['count']), 1.), sums


def bptt_step(clock: clk.Clock, opts: Options, state: TrainState, batch):
  """The exact gradient of the mean loss of the clip through the unrolled frame clock."""
  state = start(clock, opts, state, batch)
  num_ticks, read = clk.tick_reader(batch)
  clk.check_frozen_values(clock, batch, num_ticks)
  pipeline = jax.lax.stop_gradient(state.pipeline)

  def loss_fn(params):
    params = clk.hold_frozen(clock, params)
    buffers, sums = clk.forward_clock(clock, params, pipeline, state.clock, num_ticks, read,
                                      functools.partial(clk.loss_record, clock))
    loss, sums = bptt_loss(clock, sums)
    return loss, (sums, buffers)

  grads, (sums, pipeline) = jax.grad(loss_fn, has_aux=True)(state.params)
  has_loss = clock.total(sums['count']) > 0
  params, opt_state, window, trace = _one_window(opts, state.params, state.opt_state,
                                                 grads, has_loss, clock.frozen)
  state = TrainState(params, opt_state, pipeline, window, state.clock + num_ticks,
                     state.step + 1)
  trace['grads'] = grads
  return state, clk.finish_metrics(sums, clk.step_extras(trace, opts.diagnostics))


def next_frame_targets(batch, index):
  """TickTargets for an output of frame `index` of `batch`: frames index+1 (the prediction
  target, there only inside the clip) and index (copy-last), read from the batch."""
  frames = jnp.asarray(batch['frames'])
  num_frames = frames.shape[1]
  labels = clk.per_frame(batch, 'labels')
  video_ids = clk.per_frame(batch, 'video_ids')
  take = lambda x, j: jax.lax.dynamic_index_in_dim(x, j, axis=1, keepdims=False)
  nxt = jnp.minimum(index + 1, num_frames - 1)
  entries = [routing.frame_activation(take(frames, j), j, take(labels, j),
                                      take(video_ids, j), valid)
             for j, valid in ((nxt, index + 1 < num_frames), (index, True))]
  entries[0] = entries[0]._replace(oldest=index + 1, newest=index + 1)
  hist = jax.tree.map(lambda a, b: jnp.stack([a, b]), *entries)
  return TickTargets(hist, jnp.array(True))


def _same_frame_output(clock: clk.Clock, params, batch, index):
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
  sums = clk.loss_record(clock, *_same_frame_output(clock, params, batch, index))
  return sums['loss'] / jnp.maximum(clock.total(sums['count']), 1.), sums


def backprop_step(clock: clk.Clock, opts: Options, state: TrainState, batch):
  """Per-frame backprop: each frame's own forward and backward, windows of frames."""
  state = start(clock, opts, state, batch)
  num_frames = batch['frames'].shape[1]
  num_modules = clock.network.num_modules

  def frame_fn(params, opt_state, window, tick, i):
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
    return (params, opt_state, window, tick + 1), sums, trace

  def body(carry, i):
    *carry, total = carry
    carry, sums, trace = frame_fn(*carry, i)
    return (*carry, jax.tree.map(jnp.add, total, sums)), trace

  carry = (state.params, state.opt_state, state.window, state.clock)
  zero = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(
      lambda c: frame_fn(*c, jnp.zeros((), jnp.int32))[1], carry))
  (params, opt_state, window, tick, sums), trace = jax.lax.scan(
      body, carry + (zero,), jnp.arange(num_frames, dtype=jnp.int32))
  state = TrainState(params, opt_state, None, window, tick, state.step + 1)
  return state, clk.finish_metrics(sums, clk.step_extras(trace, opts.diagnostics))


def gpipe_record(clock: clk.Clock, batch):
  """Metric sums of a stage-clock output: its frame is `activation.newest`, and its
  targets come from the batch (GPipe has the whole clip; no causality to respect)."""
  num_frames = batch['frames'].shape[1]

  def record(activation, targets):
    del targets
    index = jnp.clip(activation.newest, 0, num_frames - 1)
    return clk.loss_record(clock, activation, next_frame_targets(batch, index))

  return record


def gpipe_loss_from(clock: clk.Clock, sums):
  """GPipe's loss from per-tick sums (one frame leaves the top per tick): the mean over
  frames with a loss of each frame's mean loss, so its gradient is per-frame backprop's
  averaged over the clip. Returns (loss, (summed metric sums, frames with a loss))."""
  count = clock.total(sums['count'])
  frame_loss = sums['loss'] / jnp.maximum(count, 1.)
  frames_with_loss = jnp.sum(count > 0)
  loss = jnp.sum(frame_loss) / jnp.maximum(frames_with_loss, 1)
  return loss, (jax.tree.map(jnp.sum, sums), frames_with_loss)


def gpipe_ticks(clock: clk.Clock, batch) -> int:
  """T + S ticks: frame i enters stage 0 at tick i and leaves the top stage S ticks later."""
  return batch['frames'].shape[1] + clock.graph.newest_lag(clock.network.num_modules)


def gpipe_loss(clock: clk.Clock, params, batch):
  """GPipe's forward through its stage clock (fill / drain), and its loss."""
  params = clk.hold_frozen(clock, params)
  num_frames = batch['frames'].shape[1]
  num_ticks, read = clk.tick_reader(batch, gpipe_ticks(clock, batch) - num_frames)
  frame = jax.ShapeDtypeStruct((batch['frames'].shape[0],) + tuple(batch['frames'].shape[2:]),
                               batch['frames'].dtype)
  buffers = clock.router.empty(frame, with_messages=False)
  _, sums = clk.forward_clock(clock, params, buffers, jnp.zeros((), jnp.int32), num_ticks,
                              read, gpipe_record(clock, batch),
                              frame_valid=lambda i: i < num_frames)
  return gpipe_loss_from(clock, sums)


def gpipe_step(clock: clk.Clock, opts: Options, state: TrainState, batch):
  """One GPipe update per clip: exact same-frame gradients, frames as micro-batches."""
  state = start(clock, opts, state, batch)
  grads, (sums, frames_with_loss) = jax.grad(
      functools.partial(gpipe_loss, clock), has_aux=True)(state.params, batch)
  params, opt_state, window, trace = _one_window(opts, state.params, state.opt_state,
                                                 grads, frames_with_loss > 0, clock.frozen)
  state = TrainState(params, opt_state, None, window,
                     state.clock + batch['frames'].shape[1], state.step + 1)
  trace['grads'] = grads
  return state, clk.finish_metrics(sums, clk.step_extras(trace, opts.diagnostics))


STEPS = {'bptt': bptt_step, 'backprop': backprop_step, 'gpipe': gpipe_step}


def evaluate(clock: clk.Clock, algorithm: str, params, batch):
  """Task metrics on a batch of clips, each algorithm reading the graph it trains: the
  frame clock for sideways and bptt, the same-frame network for backprop and gpipe."""
  check_batch(clock.network, params, batch)
  task = clock.task

  def record(activation, targets):
    per_example, mask = task.loss_terms(activation, targets)
    rec = task.eval_record(activation, targets)
    rec['mask'] = mask & activation.valid
    return rec

  num_frames = batch['frames'].shape[1]
  if algorithm in ('backprop', 'gpipe'):
    records = jax.vmap(lambda i: record(*_same_frame_output(clock, params, batch, i)))(
        jnp.arange(num_frames, dtype=jnp.int32))
  else:
    frame = jax.ShapeDtypeStruct(
        (batch['frames'].shape[0],) + tuple(batch['frames'].shape[2:]), batch['frames'].dtype)
    buffers = clock.router.empty(frame, with_messages=False)
    num_ticks, read = clk.tick_reader(  # evaluation computes every module itself
        {k: v for k, v in batch.items() if k != 'frozen_values'})
    _, records = clk.forward_clock(clock, params, buffers, jnp.zeros((), jnp.int32),
                                   num_ticks, read, record)
  mask = records.pop('mask')
  return task.eval_metrics(records, mask)
