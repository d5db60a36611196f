"""The frame clock every algorithm shares: reading ticks, targets, one network tick.

At tick t frame x[t] enters and every module works on buffers written before t
(SIDEWAYS.md). `network_tick` runs the Sideways tick of a set of modules (forward, VJP,
messages; sideways.py); `forward_tick` runs only their forwards (bptt, gpipe, evaluation).
Both talk to the buffers through a router (routing.py on one device, mesh/router.py per
stage on a mesh), so the same code runs unplaced and placed. The frozen modules are part
of the clock (`Clock.frozen`).
"""

from typing import Callable, Dict, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp

from sideways_jax import routing
from sideways_jax import sideways as sw
from sideways_jax import updates
from sideways_jax.network import Graph, Network
from sideways_jax.tasks import TickTargets


class Clock(NamedTuple):
  """What a scan over ticks needs to know about the network, the task and the buffers."""
  network: Network
  graph: Graph        # edges and delays (the frame clock's, or GPipe's stage clock)
  fns: tuple          # per module, apply(params, main, *skips)
  task: object
  router: object      # routing.LocalRouter, or a stage's mesh.router.StageRouter
  history: int        # frames the targets look back on (1 for classification)
  total: Callable = lambda x: x  # sums a count over the whole batch (data parallel)
  frozen: frozenset = frozenset()  # the lowest modules, held fixed: forward only
  local_fns: Dict[int, Callable] = {}  # modules with a local head: apply -> (a_k, h_k)


class TickInput(NamedTuple):
  frame: jax.Array      # [B, ...]
  labels: jax.Array     # int32 [B]
  video_ids: jax.Array  # int32 [B]
  loss_on: jax.Array    # bool []: a new frame entered (False on drain ticks)
  index: jax.Array      # int32 []: frame index within the batch (held during drain)
  frozen: Optional[Dict[int, jax.Array]] = None  # given outputs of frozen modules, or None


def per_frame(batch, key):
  """`batch[key]` as int32 [B, T] (a per-clip [B] value is broadcast over frames)."""
  frames = batch['frames']
  return jnp.broadcast_to(jnp.asarray(batch[key], jnp.int32).reshape(frames.shape[0], -1),
                          frames.shape[:2])


def tick_reader(batch, extra_ticks: int = 0):
  """Reads tick i's inputs from the batch-major arrays (no O(T) time-major copy). The
  `extra_ticks` after the last frame (drain) hold the last frame (same frame, same index)
  and take no loss. A batch's `frozen_values` ({k: [B, ticks, ...]}, `frozen_stream`) are
  read at tick i itself.

  Returns:
    (number of ticks, read(i) -> TickInput).
  """
  frames = jnp.asarray(batch['frames'])
  num_frames = frames.shape[1]
  labels, video_ids = per_frame(batch, 'labels'), per_frame(batch, 'video_ids')
  given = batch.get('frozen_values') if isinstance(batch, dict) else None

  def read(i):
    j = jnp.minimum(i, num_frames - 1)
    take = lambda x, t=j: jax.lax.dynamic_index_in_dim(x, t, axis=1, keepdims=False)
    frozen = None if given is None else {k: take(v, i) for k, v in given.items()}
    return TickInput(take(frames), take(labels), take(video_ids), i < num_frames, j, frozen)

  return num_frames + extra_ticks, read


def given_modules(clock: 'Clock') -> tuple:
  """The frozen modules whose outputs a learning module reads: those `frozen_stream`
  gives. (A frozen module read only by frozen ones is not needed once theirs are given.)"""
  return tuple(k for k in sorted(clock.frozen)
               if any(c not in clock.frozen for c, _ in clock.graph.consumers(k)))


def check_frozen_values(clock: 'Clock', batch, num_ticks: int):
  """Raises a ValueError naming the problem when a batch's `frozen_values` do not fit."""
  given = batch.get('frozen_values') if isinstance(batch, dict) else None
  if given is None:
    return
  how = 'make them with trainer.frozen_values(params, batch), or leave the key out'
  want = given_modules(clock)
  if tuple(sorted(given)) != want:
    raise ValueError(f"batch['frozen_values'] holds modules {tuple(sorted(given))}; this "
                     f'network reads the frozen modules {want}: {how}.')
  batch_size = batch['frames'].shape[0]
  for k, v in given.items():
    if tuple(v.shape[:2]) != (batch_size, num_ticks):
      raise ValueError(f"batch['frozen_values'][{k}] has shape {tuple(v.shape)}; this step "
                       f'runs {num_ticks} ticks on {batch_size} clips, so it needs '
                       f'[{batch_size}, {num_ticks}, ...]: {how}.')


def _frozen_value(clock: 'Clock', k: int, params, inputs, frozen_values):
  """A frozen module's output this tick: given, or (when others are given and only frozen
  modules read it) zeros, since nothing reads it; None: compute it."""
  if frozen_values is None:
    return None
  if k in frozen_values:
    return frozen_values[k]
  shape = jax.eval_shape(clock.fns[k - 1], params, *(a.value for a in inputs))
  return jnp.zeros(shape.shape, shape.dtype)


def drain_ticks(num_modules: int, frozen=frozenset()) -> int:
  """Ticks the clock runs after a clip's last frame so that the gradient of every loss the
  clip took reaches every module that learns: K - 1, or K - 1 - m with modules 1..m frozen.

  A message moves one edge per tick and the longest path down is the main chain, from the
  top to module m + 1 (K - 1 - m edges; skips only shorten it). Drain ticks take no loss,
  so a tick after those would only carry zero-loss messages, which no window counts: the
  numbers are those of a K - 1 tick drain, at (K - 1 - m) / (K - 1) of its cost."""
  return num_modules - 1 - len(frozen)


def targets_for(history: int, past_frames, frame_act: routing.Activation, loss_on):
  """The frames the top's loss may look at this tick: [x[t], x[t-1], ...]."""
  if past_frames is None or history == 1:
    hist = jax.tree.map(lambda x: x[None], frame_act)
  else:
    hist = jax.tree.map(lambda n, p: jnp.concatenate([n[None], p[:history - 1]]),
                        frame_act, past_frames)
  return TickTargets(hist, loss_on)


def metric_sums(task, terms: sw.LossTerms, activation,
                prefix: str = '') -> Dict[str, jax.Array]:
  """Per-tick sums of the training metrics (divided by the count at the end). `prefix`
  names another loss's metrics (a local head's: `local_head_K/`), with its own count."""
  dtype = terms.per_example.dtype
  m = terms.mask.astype(dtype)
  sums = {'loss': (terms.per_example * m).sum(), 'count': m.sum()}
  if task.name == 'classification':
    correct = jnp.argmax(activation.value, -1) == activation.label
    sums['accuracy'] = (correct * m).sum()
  return {prefix + k: v for k, v in sums.items()}


def head_metric_sums(task, ticks: Dict[int, sw.ModuleTick]) -> Dict[str, jax.Array]:
  """`metric_sums` of every local head among `ticks`, under `local_head_K/`."""
  sums = {}
  for k, tick in ticks.items():
    if tick.head is not None:
      sums.update(metric_sums(task, tick.loss, tick.head, f'local_head_{k}/'))
  return sums


def finish_metrics(sums, extra=None):
  """Each sum over its own count: `P/count` divides the `P/` metrics, `count` the rest."""
  sums = dict(sums)
  counts = {k[:-len('count')]: jnp.maximum(sums.pop(k), 1.) for k in list(sums)
            if k.endswith('count')}
  out = {k: v / counts[k[:k.rfind('/') + 1]] for k, v in sums.items()}
  out.update(extra or {})
  return out


def step_extras(trace, diagnostics: bool):
  """The metrics a step adds beside its sums: where a non-finite gradient was first met
  (`nonfinite_module` 1..K, 0 if none, and `nonfinite_tick`), and the diagnostic trace."""
  trace = dict(trace)
  module, tick = updates.first_nonfinite(trace.pop('nonfinite'), trace.pop('tick'))
  extras = {'nonfinite_module': module, 'nonfinite_tick': tick}
  if diagnostics:
    extras['trace'] = trace
  return extras


def network_tick(clock: Clock, params: Dict[int, object], buffers, frame_act, targets,
                 modules: Sequence[int], frozen_values=None) -> Dict[int, sw.ModuleTick]:
  """The Sideways tick of `modules`: each reads last tick's buffers, does its forward and
  VJP at its current input, and returns its activation, gradient and messages.
  `frozen_values`: frozen modules' outputs this tick, computed before (`frozen_stream`)."""
  ticks = {}
  top = clock.network.num_modules
  for k in modules:
    inputs = clock.router.read_inputs(buffers, k, frame_act)
    if k in clock.frozen:
      ticks[k] = sw.frozen_tick(clock.fns[k - 1], params[k], inputs,
                                _frozen_value(clock, k, params[k], inputs, frozen_values))
      continue
    loss_terms = lambda a, targets=targets: clock.task.loss_terms(a, targets)
    fn, local_delta = clock.fns[k - 1], None
    if k == top:
      delta_fn = sw.top_delta(loss_terms, clock.total)
    else:
      delta_fn = sw.from_messages(clock.router.read_messages(buffers, k))
      if k in clock.local_fns:  # a local head: its loss's gradient joins delta_k, fresh
        fn = clock.local_fns[k]
        local_delta = sw.local_head_delta(loss_terms, clock.network.local_weight, clock.total)
    sends = [e.source not in clock.frozen for e in clock.graph.inputs(k)]
    ticks[k] = sw.module_tick(fn, params[k], inputs, delta_fn, sends, local_delta)
  return ticks


def forward_tick(clock: Clock, params: Dict[int, object], buffers, frame_act,
                 modules: Sequence[int], frozen_values=None) -> Dict[int, routing.Activation]:
  """The forwards of `modules` this tick (in order: a delay-0 edge reads `current`).
  `frozen_values`: frozen modules' outputs this tick, computed before (`frozen_stream`)."""
  current = {}
  for k in modules:
    inputs = clock.router.read_inputs(buffers, k, frame_act, current)
    value = (_frozen_value(clock, k, params[k], inputs, frozen_values)
             if k in clock.frozen else None)
    if value is None:
      value = clock.fns[k - 1](params[k], *[a.value for a in inputs])
    current[k] = sw.merge_metadata(inputs, value)
  return current


def loss_record(clock: Clock, activation, targets):
  """Metric sums of the top's output at one tick (forward-only clocks)."""
  per_example, mask = clock.task.loss_terms(activation, targets)
  mask = mask & activation.valid
  return metric_sums(clock.task, sw.LossTerms(None, per_example, mask), activation)


def hold_frozen(clock: Clock, params):
  """`params` with the frozen modules' behind a stop_gradient (exact baselines: no gradient
  is computed for them)."""
  return tuple(jax.lax.stop_gradient(p) if k in clock.frozen else p
               for k, p in enumerate(params, start=1))


def frozen_stream(clock: Clock, params, batch, extra_ticks: int = 0):
  """The outputs, at every tick, of the frozen modules a learning module reads, for a clip
  run from empty buffers: {k: [B, ticks, ...]} (`given_modules`; `extra_ticks` as in
  `tick_reader`).

  Frozen modules never change and read only the input and each other, so on a clip that
  starts from empty buffers (`reset`) their outputs depend on the clip alone: a batch that
  carries them as `frozen_values` gets the same step without their forwards (the
  launcher keeps them per clip, `experiments` `frozen_cache_gb`). The same ticks as the
  step's clock: the same reads, the same values."""
  num_modules = clock.network.num_modules
  frozen = tuple(sorted(clock.frozen))
  params = dict(zip(range(1, num_modules + 1), params))
  frames = jnp.asarray(batch['frames'])
  frame = jax.ShapeDtypeStruct((frames.shape[0],) + tuple(frames.shape[2:]), frames.dtype)
  num_ticks, read = tick_reader({k: batch[k] for k in ('frames', 'labels', 'video_ids')},
                                extra_ticks)
  given = given_modules(clock)

  def body(buffers, i):
    x = read(i)
    frame_act = routing.frame_activation(x.frame, x.index, x.labels, x.video_ids)
    acts = forward_tick(clock, params, buffers, frame_act, frozen)
    acts.update({k: routing.entry(buffers.acts[k - 1], 0)  # unread by frozen modules
                 for k in range(len(frozen) + 1, num_modules + 1)})
    return clock.router.route(buffers, frame_act, acts), {k: acts[k].value for k in given}

  _, values = jax.lax.scan(body, clock.router.empty(frame, False),
                           jnp.arange(num_ticks, dtype=jnp.int32))
  return {k: jnp.swapaxes(v, 0, 1) for k, v in values.items()}
