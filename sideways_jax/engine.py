"""The engine: training state, `build` (checks and dispatch), and the Sideways step.

    trainer = build(network, optax.adam(1e-3), Classification(10), algorithm='sideways')
    state = trainer.init(jax.random.PRNGKey(0), batch)
    state, metrics = trainer.step(state, batch)      # batch: frames [B,T,H,W,C], labels
                                                     # [B,T], video_ids [B,T]
    eval_metrics = trainer.evaluate(state.params, batch)

Algorithms (SIDEWAYS.md): `sideways` (Skip-Sideways when the network has skips; this file),
and the exact baselines on the same graph in baselines.py: `bptt` (the gradient through the
unrolled clock, one update per clip), `backprop` (per-frame, same-frame DAG, stepping every
`update_every` frames) and `gpipe` (same-frame gradients, frames as micro-batches through
pipeline stages, one update per clip). Each step is one jitted `lax.scan` over ticks.
"""

import functools
from typing import Any, Callable, NamedTuple, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from sideways_jax import baselines
from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import updates
from sideways_jax.network import Network
from sideways_jax.train_state import Options, TrainState, start, window_ends

ALGORITHMS = ('sideways', 'bptt', 'backprop', 'gpipe')


class Trainer(NamedTuple):
  """Pure functions over `TrainState` (jitted), plus the settings they were built with."""
  init: Callable
  step: Callable
  evaluate: Callable
  network: Network
  task: Any
  algorithm: str
  update_every: Union[int, str]
  reset: bool
  drain: bool


def sideways_compute(clock: clk.Clock, modules, params, buffers, x: clk.TickInput,
                     first_frame):
  """The Sideways tick of `modules` (SIDEWAYS.md): each reads last tick's buffers, does its
  forward and VJP at its current input, and its outputs are routed for the next tick.

  Args:
    params: {k: theta_k} of `modules`.
    x: this tick's input frame and labels.
    first_frame: frame index of the call's first frame (streams continue the count).

  Returns:
    (buffers, {k: ModuleTick}, metric sums of the top's loss, or None when the top module
    is not among `modules`).
  """
  frame_act = routing.frame_activation(x.frame, first_frame + x.index, x.labels, x.video_ids)
  targets = clk.targets_for(clock.history, clock.router.past_frames(buffers), frame_act,
                            x.loss_on)
  ticks = clk.network_tick(clock, params, buffers, frame_act, targets, modules)
  buffers = clock.router.route(buffers, frame_act, {k: t.activation for k, t in ticks.items()},
                               {k: t.messages for k, t in ticks.items()})
  top = ticks.get(clock.network.num_modules)
  sums = None if top is None else clk.metric_sums(clock.task, top.loss, top.activation)
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


def sideways_step(clock: clk.Clock, opts: Options, state: TrainState, batch):
  """One call: a scan of Sideways ticks over the clip (and its drain), with updates."""
  state = start(clock, opts, state, batch)
  num_modules = clock.network.num_modules
  modules = tuple(range(1, num_modules + 1))
  num_ticks, read = clk.tick_reader(batch, num_modules - 1 if opts.drain else 0)
  first_frame = state.clock

  def tick_fn(params, opt_state, buffers, window, tick, i):
    buffers, ticks, sums = sideways_compute(clock, modules, dict(zip(modules, params)),
                                            buffers, read(i), first_frame)
    params, opt_state, window, stepped, nonfinite = sideways_update(
        opts, modules, params, opt_state, window, {k: t.grads for k, t in ticks.items()},
        {k: t.grads_valid for k, t in ticks.items()}, window_ends(opts, tick, num_ticks - 1))
    trace = {'nonfinite': nonfinite, 'tick': tick}
    if opts.diagnostics:
      trace.update({'ticks': tuple(ticks[k]._replace(loss=None) for k in modules),
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


def check_output(network: Network, task, frame):
  """The top module's output must fit the task: [B, num_classes] logits, or a frame."""
  out = network.output_shapes(frame.shape, frame.dtype)[-1].shape
  if task.name == 'classification':
    want = (frame.shape[0], task.num_classes)
    what = f'logits [B, num_classes={task.num_classes}]'
  else:
    want, what = tuple(frame.shape), f'a frame of shape {tuple(frame.shape)}'
  if tuple(out) != want:
    raise ValueError(f'The top module ({network.names[-1]}) outputs shape {tuple(out)}; the '
                     f'{task.name} task needs {what}. Match the head to the task.')


def checking_labels(fn: Callable, task, batch_arg: int) -> Callable:
  """`fn` with the labels of a host (numpy) batch checked to lie in [0, num_classes)."""
  if task.name != 'classification':
    return fn

  @functools.wraps(fn)
  def checked(*args):
    labels = args[batch_arg].get('labels') if isinstance(args[batch_arg], dict) else None
    if isinstance(labels, np.ndarray) and labels.size:
      lo, hi = int(labels.min()), int(labels.max())
      if lo < 0 or hi >= task.num_classes:
        raise ValueError(f'labels run from {lo} to {hi}; this classification task has '
                         f'num_classes={task.num_classes}, so labels must lie in '
                         f'[0, {task.num_classes - 1}].')
    return fn(*args)

  checked.lower = fn.lower  # keep AOT lowering (benchmarks)
  return checked


def build(network: Network, optimizer, task, *, algorithm: str = 'sideways',
          update_every: Union[int, str] = 1, reset: bool = True,
          drain: Optional[bool] = None, stream: bool = False,
          diagnostics: bool = False) -> Trainer:
  """Builds the trainer of `algorithm` for `network`, `task` and an optax `optimizer`.

  Args:
    network: the modules and skips (`Network`).
    optimizer: one optax transformation for every module, or one per module.
    task: `tasks.Classification(num_classes)` or `tasks.FramePrediction()`.
    algorithm: one of 'sideways', 'bptt', 'backprop', 'gpipe'.
    update_every: ticks per optimizer step (sideways, backprop), or 'clip': one step at the
      clip's last tick, drain included. bptt and gpipe step once a clip.
    reset: empty the buffers at every call (clips). `stream=True` sets it False.
    drain: after a clip's last frame, run K-1 more ticks (the last frame held, no new loss)
      so gradients in flight reach every module. Defaults to `reset`.
    stream: the clock continues across calls: no reset, no drain.
    diagnostics: `step` also returns `metrics['trace']` (O(T) memory). sideways: every
      module's activation, gradient messages, parameter gradient and validity at every tick,
      the top's loss terms and which modules stepped; bptt and gpipe: the clip gradient
      (`grads`); backprop: the per-frame gradients and steps.

  Returns:
    A `Trainer` whose `init`, `step` and `evaluate` are jitted and pure: `step` checks a
    batch against the shapes of the state it is given.
  """
  if not isinstance(network, Network):
    raise TypeError(f'network must be a sj.Network (modules plus skips), got '
                    f'{type(network).__name__}; wrap Haiku functions as '
                    'sj.Network(modules=(f1, f2, ...)).')
  if not hasattr(task, 'loss_terms'):
    raise TypeError(f'task must be sj.Classification(num_classes) or sj.FramePrediction(), '
                    f'got {task!r}.')
  if algorithm not in ALGORITHMS:
    raise ValueError(f'Unknown algorithm {algorithm!r}; use one of {ALGORITHMS}.')
  if stream:
    if drain:
      raise ValueError('stream=True continues the clock across calls: it cannot drain.')
    if algorithm == 'gpipe':
      raise ValueError('gpipe fills and drains its pipeline within each clip; it has no '
                       'stream mode. Use sideways or bptt with stream=True.')
    reset, drain = False, False
  if update_every == 'clip':
    if not reset:
      raise ValueError("update_every='clip' steps at a clip's last tick; a stream has no "
                       'clips. Use an integer update_every with stream=True or reset=False.')
  elif (not isinstance(update_every, int) or isinstance(update_every, bool)
        or update_every < 1):
    raise ValueError(f"update_every must be a positive integer or 'clip', got "
                     f'{update_every!r}.')
  drain = reset if drain is None else drain
  per_clip = update_every == 'clip'
  opts = Options(algorithm, updates.per_module(optimizer, network.num_modules),
                 1 if per_clip else update_every, per_clip, reset, drain, diagnostics)
  history = task.history_length(network)
  if algorithm == 'gpipe':  # on one device: one stage, every frame through in one tick
    graph, history = network.stage_graph([0] * network.num_modules), 1
  else:
    graph = network.graph()
  output_shapes = lambda frame: network.output_shapes(frame.shape, frame.dtype)
  router = routing.LocalRouter(graph, output_shapes,
                               max(graph.fifo_length(0), history - 1))
  clock = clk.Clock(network, graph, network.apply_fns(), task, router, history)
  with_pipeline = algorithm in ('sideways', 'bptt')

  def init(rng, batch) -> TrainState:
    frames = batch['frames'] if isinstance(batch, dict) else batch
    if not jnp.issubdtype(frames.dtype, jnp.floating):
      raise ValueError(f'frames have dtype {frames.dtype}; give floating-point frames '
                       '(e.g. uint8 / 255.).')
    frame = jax.ShapeDtypeStruct((frames.shape[0],) + tuple(frames.shape[2:]), frames.dtype)
    params = network.init(rng, jnp.zeros(frame.shape, frame.dtype))
    check_output(network, task, frame)
    pipeline = router.empty(frame, algorithm == 'sideways') if with_pipeline else None
    return TrainState(params, tuple(o.init(p) for o, p in zip(opts.optimizers, params)),
                      pipeline, updates.empty_window(params), jnp.zeros((), jnp.int32),
                      jnp.zeros((), jnp.int32))

  if algorithm == 'sideways':
    step = functools.partial(sideways_step, clock, opts)
  else:
    step = functools.partial(baselines.STEPS[algorithm], clock, opts)
  evaluate = functools.partial(baselines.evaluate, clock, algorithm)
  step, evaluate = jax.jit(step), jax.jit(evaluate)
  return Trainer(init=jax.jit(init), step=checking_labels(step, task, 1),
                 evaluate=checking_labels(evaluate, task, 1),
                 network=network, task=task, algorithm=algorithm, update_every=update_every,
                 reset=reset, drain=drain)
