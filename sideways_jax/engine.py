"""The engine: `build` checks its arguments and puts an algorithm together with an executor.

    trainer = build(network, optax.adam(1e-3), Classification(10), algorithm='sideways')
    state = trainer.init(jax.random.PRNGKey(0), batch)
    state, metrics = trainer.step(state, batch)      # batch: frames [B,T,H,W,C], labels
                                                     # [B,T], video_ids [B,T]
    eval_metrics = trainer.evaluate(state.params, batch)

Each algorithm (SIDEWAYS.md) is one file in algorithms/, its step written once against the
stage interface (stage.py): `sideways` (Skip-Sideways when the network has skips), and the
exact baselines on the same graph: `bptt` (the gradient through the unrolled clock, one
update per clip), `backprop` (per-frame, same-frame DAG, stepping every `update_every`
frames) and `gpipe` (same-frame gradients, frames as micro-batches through pipeline
stages, one update per clip); evaluation in algorithms/evaluate.py. `build` runs it on one
device (`stage.LocalExecutor`: every module, no packing) or, given a placement, across a
mesh (mesh/executor.py: `shard_map`, one stage per device). Either way the step is one
jitted `lax.scan` over ticks, and one `Trainer` type. Frozen modules are part of the
clock (`clock.Clock.frozen`).
"""

import functools
from typing import Callable, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import updates
from sideways_jax.algorithms import BY_NAME
from sideways_jax.algorithms.evaluate import evaluate as evaluate_fn
from sideways_jax.mesh import executor as mesh_executor
from sideways_jax.network import Network
from sideways_jax.stage import Carry, LocalExecutor
from sideways_jax.train_state import Options, Trainer, TrainState, check_batch

ALGORITHMS = ('sideways', 'bptt', 'backprop', 'gpipe')


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

  if hasattr(fn, 'lower'):
    checked.lower = fn.lower  # keep AOT lowering (benchmarks)
  return checked


def build(network: Network, optimizer, task, *, algorithm: str = 'sideways',
          update_every: Union[int, str] = 1, reset: bool = True,
          drain: Optional[bool] = None, stream: bool = False,
          diagnostics: bool = False, placement=None, frozen=()):
  """Builds the trainer of `algorithm` for `network`, `task` and an optax `optimizer`.

  Args:
    network: the modules and skips (`Network`).
    optimizer: one optax transformation for every module, or one per module.
    task: `tasks.Classification(num_classes)` or `tasks.FramePrediction()`.
    algorithm: one of 'sideways', 'bptt', 'backprop', 'gpipe'; or 'infer', streaming
      inference (forward only, nothing trained: `step` returns the top's `outputs`
      [B, T, ...] and their `valid` [T]; with `stream=True` the buffers carry across calls).
    update_every: ticks per optimizer step (sideways, backprop), or 'clip': one step at the
      clip's last tick, drain included. bptt and gpipe step once a clip.
    reset: empty the buffers at every call (clips). `stream=True` sets it False.
    drain: after a clip's last frame, run K-1 more ticks (the last frame held, no new loss)
      so gradients in flight reach every module; K-1-m with modules 1..m `frozen` (the
      gradients are then at module m+1, and later ticks would only carry zero-loss
      messages: the same numbers, fewer ticks; `sj.drain_ticks`). Defaults to `reset`.
    stream: the clock continues across calls: no reset, no drain.
    diagnostics: `step` also returns `metrics['trace']` (O(T) memory). sideways: every
      module's activation, gradient messages, parameter gradient and validity at every tick,
      the top's loss terms and which modules stepped; bptt and gpipe: the clip gradient
      (`grads`); backprop: the per-frame gradients and steps.
    placement: a `Placement` (`sj.place(network, sj.make_mesh(stage=S, data=D))`): every
      module on its stage's devices, one compiled scan across the mesh (sideways, bptt,
      gpipe). The numbers are the single-device engine's; the state lives on the mesh
      (`PlacedState`), and `trainer.place` / `unplace` convert it from / to `TrainState`.
    frozen: the lowest modules (1..m) held at their initial parameters: they only run
      forward, no gradient is computed for them, and they never step (their optimizer
      state stays untouched). Under Sideways on fast motion the gradients of the lowest
      modules are many frames stale (docs/RESULTS.md); this is how to hold them. On clips
      (reset) their outputs depend on the clip alone: `trainer.frozen_values(params,
      batch)` computes them, and a batch carrying them as `batch['frozen_values']` gets
      the same step (sideways, bptt; one device) without running them, so a clip seen
      again need not pay for them (the launcher's `frozen_cache_gb`).

  Returns:
    A `Trainer` whose `init`, `step` and `evaluate` are jitted and pure: `step` checks a
    batch against the shapes of the state it is given. Without a placement `place` /
    `unplace` are the identity.
  """
  if not isinstance(network, Network):
    raise TypeError(f'network must be a sj.Network (modules plus skips), got '
                    f'{type(network).__name__}; wrap Haiku functions as '
                    'sj.Network(modules=(f1, f2, ...)).')
  if not hasattr(task, 'loss_terms'):
    raise TypeError(f'task must be sj.Classification(num_classes) or sj.FramePrediction(), '
                    f'got {task!r}.')
  if algorithm not in BY_NAME:
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
  frozen = tuple(sorted(set(int(k) for k in frozen)))
  if frozen and (frozen[0] < 1 or frozen != tuple(range(1, len(frozen) + 1)) or
                 len(frozen) >= network.num_modules):
    raise ValueError(f'frozen={frozen}: frozen modules must be the lowest ones, 1..m with '
                     f'm < {network.num_modules} (the top must train), e.g. frozen=(1, 2).')
  algo = BY_NAME[algorithm]
  opts = Options(updates.per_module(optimizer, network.num_modules),
                 1 if per_clip else update_every, per_clip, reset, drain, diagnostics)
  clock_of = getattr(algo, 'graph', lambda net, task, stages: (net.graph(),
                                                                task.history_length(net)))
  graph, history = clock_of(network, task, [0] * network.num_modules)
  output_shapes = lambda frame: network.output_shapes(frame.shape, frame.dtype)
  router = routing.LocalRouter(graph, output_shapes,
                               max(graph.fifo_length(0), history - 1))
  heads = tuple(k for k, _ in network.local_heads)
  if heads and algorithm != 'sideways':
    raise ValueError(f'local heads (modules {heads}) are a Sideways training regime; '
                     f'{algorithm} trains the exact gradient of the top\'s loss. Drop '
                     'the heads for the baseline (the launcher: --config.model.local_heads=); '
                     'they are not part of the model.')
  if set(heads) & set(frozen):
    raise ValueError(f'modules {sorted(set(heads) & set(frozen))} are frozen and have a local '
                     'head: a frozen module never trains, so its head would never learn. Put '
                     'heads on trained modules only, or unfreeze them (the launcher: '
                     '--config.module_lr_scales).')
  clock = clk.Clock(network, graph, network.apply_fns(), task, router, history,
                    frozen=frozenset(frozen), local_fns=network.local_head_fns())
  messages = algo.MESSAGES
  empty = lambda frame: None if messages is None else router.empty(frame, messages)

  def init(rng, batch) -> TrainState:
    frames = batch['frames'] if isinstance(batch, dict) else batch
    if not jnp.issubdtype(frames.dtype, jnp.floating):
      raise ValueError(f'frames have dtype {frames.dtype}; give floating-point frames '
                       '(e.g. uint8 / 255.).')
    frame = jax.ShapeDtypeStruct((frames.shape[0],) + tuple(frames.shape[2:]), frames.dtype)
    params = network.init(rng, jnp.zeros(frame.shape, frame.dtype))
    check_output(network, task, frame)
    return TrainState(params, tuple(o.init(p) for o, p in zip(opts.optimizers, params)),
                      empty(frame), updates.empty_window(params), jnp.zeros((), jnp.int32),
                      jnp.zeros((), jnp.int32))

  local = LocalExecutor(clock)
  evaluate = jax.jit(functools.partial(evaluate_fn, local, algorithm))
  init = jax.jit(init)
  if placement is not None:
    if not getattr(algo, 'PLACEABLE', True):
      raise ValueError('Per-frame backprop has no pipeline to place; use gpipe (the same '
                       "gradients as backprop with update_every='clip', across stages).")
    if diagnostics:
      raise ValueError('diagnostics=True traces the unplaced engine; placement never '
                       'changes the numbers, so trace without placement.')
    placed_graph, _ = clock_of(network, task, placement.stages)
    parts = mesh_executor.build(clock._replace(graph=placed_graph), algo.step, messages, opts,
                                placement, local_init=init, local_evaluate=evaluate,
                                local_empty=empty)
    return Trainer(init=parts['init'], step=checking_labels(parts['step'], task, 1),
                   evaluate=checking_labels(parts['evaluate'], task, 1), network=network,
                   task=task, place=parts['place'], unplace=parts['unplace'],
                   lower=parts['lower'], init_unplaced=init, placement=placement)

  def step(state: TrainState, batch):
    check_batch(network, state.params, batch, None if reset else state.pipeline)
    carry = Carry(state.params, (state.opt_state, state.window), state.pipeline, state.clock)
    carry, metrics = algo.step(local, opts, carry, batch)
    opt_state, window = carry.rest
    return TrainState(carry.params, opt_state, carry.buffers, window, carry.clock,
                      state.step + 1), metrics

  step = jax.jit(step)
  frozen_values = None
  if messages is not None and reset and clk.given_modules(clock):
    extra = getattr(algo, 'extra_ticks', lambda opts, clock: 0)(opts, clock)
    frozen_values = jax.jit(lambda params, batch: clk.frozen_stream(clock, params, batch,
                                                                    extra))
  return Trainer(init=init, step=checking_labels(step, task, 1),
                 evaluate=checking_labels(evaluate, task, 1), network=network, task=task,
                 frozen_values=frozen_values, lower=step.lower, init_unplaced=init)
