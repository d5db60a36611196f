"""The engine: training state, one jitted step = one `lax.scan` over ticks, per algorithm.

    trainer = build(network, optax.adam(1e-3), Classification(10), algorithm='sideways')
    state = trainer.init(jax.random.PRNGKey(0), batch)
    state, metrics = trainer.step(state, batch)      # batch: frames [B,T,H,W,C], labels
                                                     # [B,T], video_ids [B,T]
    eval_metrics = trainer.evaluate(state.params, batch)

Algorithms (SIDEWAYS.md): `sideways` (Skip-Sideways when the network has skips), `bptt`
(exact gradient through the unrolled clock, one update per clip) and `backprop` (per-frame,
same-frame DAG, stepping every `update_every` frames).
"""

import functools
from typing import Any, Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp

from sideways_jax import routing
from sideways_jax import sideways as sw
from sideways_jax import updates
from sideways_jax.network import Network
from sideways_jax.tasks import TickTargets

ALGORITHMS = ('sideways', 'bptt', 'backprop')


class TrainState(NamedTuple):
  params: tuple                      # per module theta_k
  opt_state: tuple                   # per module optimizer state
  pipeline: Optional[routing.Pipeline]  # buffers carried between steps (streams)
  window: updates.Window             # gradients of the current update window
  clock: jax.Array                   # int32: ticks since the clip / stream began
  step: jax.Array                    # int32: engine calls so far


class Trainer(NamedTuple):
  """Pure functions over `TrainState` (jitted), plus the settings they were built with."""
  init: Callable
  step: Callable
  evaluate: Callable
  network: Network
  task: Any
  algorithm: str
  update_every: int
  reset: bool
  drain: bool


def _time_major(batch):
  frames = jnp.asarray(batch['frames'])
  labels = jnp.asarray(batch['labels'], jnp.int32)
  video_ids = jnp.asarray(batch['video_ids'], jnp.int32)
  if labels.ndim == 1:  # one label per clip
    labels = jnp.broadcast_to(labels[:, None], frames.shape[:2])
  if video_ids.ndim == 1:
    video_ids = jnp.broadcast_to(video_ids[:, None], frames.shape[:2])
  swap = lambda x: jnp.swapaxes(x, 0, 1)
  return swap(frames), swap(labels), swap(video_ids)


def _check_batch(batch, frame_shape):
  shape = tuple(batch['frames'].shape)
  if len(shape) < 3 or (shape[0],) + shape[2:] != tuple(frame_shape):
    raise ValueError(
        f'frames have shape {shape}; this trainer was initialised for frames [B, T, ...] '
        f'with B and the frame shape = {tuple(frame_shape)}. Re-initialise (trainer.init) '
        'for a new shape.')
  for key in ('labels', 'video_ids'):
    if key not in batch:
      raise ValueError(f'The batch has no {key!r}; give {key} of shape [B, T] (or [B]).')


def build(network: Network, optimizer, task, *, algorithm: str = 'sideways',
          update_every: int = 1, reset: bool = True, drain: Optional[bool] = None,
          stream: bool = False, diagnostics: bool = False) -> Trainer:
  """Builds the trainer of `algorithm` for `network`, `task` and an optax `optimizer`.

  Args:
    network: the modules and skips (`Network`).
    optimizer: one optax transformation for every module, or one per module.
    task: `tasks.Classification(num_classes)` or `tasks.FramePrediction()`.
    algorithm: one of 'sideways', 'bptt', 'backprop'.
    update_every: ticks per optimizer step (sideways, backprop); bptt steps once a clip.
    reset: empty the buffers at every call (clips). `stream=True` sets it False.
    drain: after a clip's last frame, run K-1 more ticks (the last frame held, no new loss)
      so gradients in flight reach every module. Defaults to `reset`.
    stream: the clock continues across calls: no reset, no drain.
    diagnostics: `step` also returns a per-tick trace (O(T) memory): activations, gradient
      messages, parameter gradients and validity of every module at every tick.

  Returns:
    A `Trainer` whose `init`, `step` and `evaluate` are jitted.
  """
  if algorithm not in ALGORITHMS:
    raise ValueError(f'Unknown algorithm {algorithm!r}; use one of {ALGORITHMS}.')
  if not isinstance(update_every, int) or update_every < 1:
    raise ValueError(f'update_every must be a positive integer, got {update_every!r}.')
  if stream:
    if drain:
      raise ValueError('stream=True continues the clock across calls: it cannot drain.')
    reset, drain = False, False
  drain = reset if drain is None else drain
  optimizers = updates.per_module(optimizer, network.num_modules)
  history = task.history_length(network)
  fifo = routing.frame_fifo_length(network, history - 1)
  fns = network.apply_fns()
  frame_spec = {}

  def init(rng, batch) -> TrainState:
    frames = batch['frames'] if isinstance(batch, dict) else batch
    frame = jax.ShapeDtypeStruct((frames.shape[0],) + tuple(frames.shape[2:]), frames.dtype)
    frame_spec['shape'] = frame.shape
    params = network.init(rng, jnp.zeros(frame.shape, frame.dtype))
    pipeline = (routing.empty_pipeline(network, frame, fifo, algorithm == 'sideways')
                if algorithm != 'backprop' else None)
    return TrainState(params, tuple(o.init(p) for o, p in zip(optimizers, params)), pipeline,
                      updates.empty_window(params), jnp.zeros((), jnp.int32),
                      jnp.zeros((), jnp.int32))

  def tick_reader(batch):
    """Reads tick i's inputs from the batch-major arrays (no O(T) time-major copy). With
    drain, K-1 more ticks hold the last frame (same frame, same index) and take no loss.

    Returns:
      (number of ticks, read(i) -> (frame, labels, video_ids, loss_on, frame offset)).
    """
    frames = jnp.asarray(batch['frames'])
    num_frames = frames.shape[1]
    per_frame = lambda x: jnp.broadcast_to(
        jnp.asarray(x, jnp.int32).reshape(frames.shape[0], -1), frames.shape[:2])
    labels, video_ids = per_frame(batch['labels']), per_frame(batch['video_ids'])
    extra = network.num_modules - 1 if drain else 0

    def read(i):
      j = jnp.minimum(i, num_frames - 1)
      take = lambda x: jax.lax.dynamic_index_in_dim(x, j, axis=1, keepdims=False)
      return take(frames), take(labels), take(video_ids), i < num_frames, j

    return num_frames + extra, read

  def targets_for(pipeline, frame_act, loss_on):
    past = pipeline.frames
    if past is None or history == 1:
      hist = jax.tree.map(lambda x: x[None], frame_act)
    else:
      hist = jax.tree.map(lambda n, p: jnp.concatenate([n[None], p[:history - 1]]),
                          frame_act, past)
    return TickTargets(hist, loss_on)

  def metric_sums(terms: sw.LossTerms, activation):
    m = terms.mask.astype(jnp.float32)
    sums = {'loss': (terms.per_example * m).sum(), 'count': m.sum()}
    if task.name == 'classification':
      correct = jnp.argmax(activation.value, -1) == activation.label
      sums['accuracy'] = (correct * m).sum()
    return sums

  def finish_metrics(sums, extra):
    count = jnp.maximum(sums.pop('count'), 1.)
    out = {k: v / count for k, v in sums.items()}
    out.update(extra)
    return out

  def start(state, batch):
    shape = (batch['frames'].shape[0],) + tuple(batch['frames'].shape[2:])
    _check_batch(batch, frame_spec.get('shape', shape))
    if reset:
      frame = jax.ShapeDtypeStruct(shape, batch['frames'].dtype)
      pipeline = (routing.empty_pipeline(network, frame, fifo, algorithm == 'sideways')
                  if state.pipeline is not None else None)
      state = state._replace(pipeline=pipeline, clock=jnp.zeros((), jnp.int32),
                             window=updates.empty_window(state.params))
    return state

  # --- sideways ---------------------------------------------------------------------

  def sideways_step(state: TrainState, batch):
    state = start(state, batch)
    num_ticks, read = tick_reader(batch)
    first_frame = state.clock

    def body(carry, i):
      params, opt_state, pipeline, window, clock, sums = carry
      frame, labels, video_ids, loss_on, index = read(i)
      frame_act = routing.frame_activation(frame, first_frame + index, labels, video_ids)
      targets = targets_for(pipeline, frame_act, loss_on)
      ticks = []
      for k in range(1, network.num_modules + 1):
        inputs = routing.read_inputs(network, pipeline, k, frame_act)
        if k == network.num_modules:
          delta_fn = sw.top_delta(functools.partial(task.loss_terms, targets=targets))
        else:
          delta_fn = sw.from_messages(routing.read_messages(network, pipeline, k))
        ticks.append(sw.module_tick(fns[k - 1], params[k - 1], inputs, delta_fn))
      pipeline = routing.route(network, pipeline, frame_act, ticks)
      window = updates.accumulate(window, [t.grads for t in ticks],
                                  [t.grads_valid for t in ticks])
      window_end = ((clock + 1) % update_every == 0)
      if reset:
        window_end = window_end | (clock == num_ticks - 1)
      params, opt_state, window, stepped = updates.close_window(
          optimizers, params, opt_state, window, window_end)
      top = ticks[-1]
      sums = jax.tree.map(jnp.add, sums, metric_sums(top.loss, top.activation))
      trace = None
      if diagnostics:
        trace = {'ticks': tuple(t._replace(loss=None) for t in ticks), 'loss': top.loss,
                 'stepped': stepped}
      return (params, opt_state, pipeline, window, clock + 1, sums), trace

    keys = ('loss', 'count') + (('accuracy',) if task.name == 'classification' else ())
    zero_sums = {key: jnp.zeros((), jnp.float32) for key in keys}
    carry = (state.params, state.opt_state, state.pipeline, state.window, state.clock,
             zero_sums)
    (params, opt_state, pipeline, window, clock, sums), trace = jax.lax.scan(
        body, carry, jnp.arange(num_ticks, dtype=jnp.int32))
    state = TrainState(params, opt_state, pipeline, window, clock, state.step + 1)
    extra = {'trace': trace} if diagnostics else {}
    return state, finish_metrics(sums, extra)

  # --- forward clock (bptt, evaluation of frame-clock networks) ----------------------

  def forward_clock(params, pipeline, clock, frames, labels, video_ids, loss_on, record):
    """Runs the frame clock forward only. Returns (pipeline, clock, per-tick records)."""

    def body(carry, x):
      pipeline, clock = carry
      frame, lab, vid, on = x
      frame_act = routing.frame_activation(frame, clock, lab, vid)
      targets = targets_for(pipeline, frame_act, on)
      acts = []
      for k in range(1, network.num_modules + 1):
        inputs = routing.read_inputs(network, pipeline, k, frame_act)
        acts.append(sw.merge_metadata(
            inputs, fns[k - 1](params[k - 1], *[a.value for a in inputs])))
      pipeline = routing.forward_route(network, pipeline, frame_act, acts)
      return (pipeline, clock + 1), record(acts[-1], targets)

    (pipeline, clock), records = jax.lax.scan(
        body, (pipeline, clock), (frames, labels, video_ids, loss_on))
    return pipeline, clock, records

  def loss_record(activation, targets):
    per_example, mask = task.loss_terms(activation, targets)
    mask = mask & activation.valid
    return metric_sums(sw.LossTerms(None, per_example, mask), activation)

  def bptt_step(state: TrainState, batch):
    state = start(state, batch)
    frames, labels, video_ids = _time_major(batch)
    loss_on = jnp.ones(frames.shape[0], bool)
    pipeline = jax.lax.stop_gradient(state.pipeline)

    def loss_fn(params):
      new_pipeline, clock, sums = forward_clock(params, pipeline, state.clock, frames, labels,
                                                video_ids, loss_on, loss_record)
      sums = jax.tree.map(jnp.sum, sums)
      return sums['loss'] / jnp.maximum(sums['count'], 1.), (sums, new_pipeline, clock)

    grads, (sums, pipeline, clock) = jax.grad(loss_fn, has_aux=True)(state.params)
    has_loss = sums['count'] > 0
    window = updates.accumulate(updates.empty_window(state.params), grads,
                                [has_loss] * network.num_modules)
    params, opt_state, window, _ = updates.close_window(
        optimizers, state.params, state.opt_state, window, jnp.array(True))
    state = TrainState(params, opt_state, pipeline, window, clock, state.step + 1)
    return state, finish_metrics(sums, {})

  # --- per-frame backprop on the same-frame DAG ---------------------------------------

  def same_frame_records(frames, labels, video_ids, record):
    """Each frame through the whole same-frame network: per-frame records [T, ...]."""
    num_frames = frames.shape[0]
    index = jnp.arange(num_frames, dtype=jnp.int32)
    nxt = lambda x: jnp.concatenate([x[1:], x[-1:]])
    has_next = index < num_frames - 1

    def one_frame(p, frame, lab, vid, i, next_frame, next_vid, next_ok):
      act = routing.frame_activation(frame, i, lab, vid)
      outs = [act]
      for k in range(1, network.num_modules + 1):
        inputs = [outs[e.source] for e in network.same_frame_inputs(k)]
        outs.append(sw.merge_metadata(inputs, fns[k - 1](p[k - 1], *[a.value for a in inputs])))
      nxt_act = routing.frame_activation(next_frame, i + 1, lab, next_vid)._replace(
          valid=next_ok)
      hist = jax.tree.map(lambda a, b: jnp.stack([a, b]), nxt_act, act)
      return record(outs[-1], TickTargets(hist, jnp.array(True)))

    return one_frame, (frames, labels, video_ids, index, nxt(frames), nxt(video_ids), has_next)

  def backprop_step(state: TrainState, batch):
    state = start(state, batch)
    frames, labels, video_ids = _time_major(batch)
    one_frame, xs = same_frame_records(frames, labels, video_ids, loss_record)

    def frame_loss(params, x):
      sums = one_frame(params, *x)
      return sums['loss'] / jnp.maximum(sums['count'], 1.), sums

    def body(carry, x):
      params, opt_state, window, clock, total = carry
      grads, sums = jax.grad(frame_loss, has_aux=True)(params, x)
      valid = sums['count'] > 0
      window = updates.accumulate(window, grads, [valid] * network.num_modules)
      window_end = ((clock + 1) % update_every == 0)
      if reset:
        window_end = window_end | (x[3] == frames.shape[0] - 1)
      params, opt_state, window, _ = updates.close_window(
          optimizers, params, opt_state, window, window_end)
      return (params, opt_state, window, clock + 1, jax.tree.map(jnp.add, total, sums)), None

    zero = jax.tree.map(jnp.zeros_like, jax.eval_shape(lambda: one_frame(
        state.params, *jax.tree.map(lambda x: x[0], xs))))
    (params, opt_state, window, clock, sums), _ = jax.lax.scan(
        body, (state.params, state.opt_state, state.window, state.clock, zero), xs)
    state = TrainState(params, opt_state, None, window, clock, state.step + 1)
    return state, finish_metrics(sums, {})

  # --- evaluation --------------------------------------------------------------------

  def evaluate(params, batch) -> Dict[str, jax.Array]:
    """Task metrics on a batch of clips, each algorithm reading the graph it trains."""
    _check_batch(batch, (batch['frames'].shape[0],) + tuple(batch['frames'].shape[2:]))
    frames, labels, video_ids = _time_major(batch)

    def record(activation, targets):
      per_example, mask = task.loss_terms(activation, targets)
      rec = task.eval_record(activation, targets)
      rec['mask'] = mask & activation.valid
      return rec

    if algorithm == 'backprop':
      one_frame, xs = same_frame_records(frames, labels, video_ids, record)
      records = jax.vmap(functools.partial(one_frame, params))(*xs)
    else:
      frame = jax.ShapeDtypeStruct(frames.shape[1:], frames.dtype)
      pipeline = routing.empty_pipeline(network, frame, fifo, with_messages=False)
      _, _, records = forward_clock(params, pipeline, jnp.zeros((), jnp.int32), frames,
                                    labels, video_ids, jnp.ones(frames.shape[0], bool), record)
    mask = records.pop('mask')
    return task.eval_metrics(records, mask)

  step = {'sideways': sideways_step, 'bptt': bptt_step, 'backprop': backprop_step}[algorithm]
  return Trainer(init=init, step=jax.jit(step), evaluate=jax.jit(evaluate), network=network,
                 task=task, algorithm=algorithm, update_every=update_every, reset=reset,
                 drain=drain)
