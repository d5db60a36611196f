"""Placement: which device runs which modules, and the routing between devices.

A mesh has a `stage` axis (consecutive groups of modules, one group per device along it)
and an optional `data` axis (the batch split, each module's gradient summed over it).
Placement changes where work runs, never the numbers: every device runs the same
algorithm (algorithms/) for its own modules; the mesh executor (mesh/) runs it under
`shard_map`, with `StageRouter` (mesh/router.py) as the router of one
stage.

    placement = sj.place(network, sj.make_mesh(stage=4, data=2))
    trainer = sj.build(network, optax.adam(1e-3), task, placement=placement)
"""

import time
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import jax
import numpy as np
from jax.sharding import AxisType, Mesh

from sideways_jax.network import Network

STAGE, DATA = 'stage', 'data'


def make_mesh(stage: int = 1, data: int = 1, devices: Optional[Sequence] = None) -> Mesh:
  """A (stage, data) mesh over the first stage * data devices (all processes' devices).

  Raises:
    ValueError: when there are fewer devices than stage * data.
  """
  for name, n in (('stage', stage), ('data', data)):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
      raise ValueError(f'{name} must be a positive integer, got {n!r}.')
  devices = list(jax.devices() if devices is None else devices)
  if stage * data > len(devices):
    raise ValueError(
        f'A mesh of stage={stage} x data={data} needs {stage * data} devices; there are '
        f'{len(devices)}. On CPU, fake devices come from '
        f'XLA_FLAGS=--xla_force_host_platform_device_count={stage * data} set before jax '
        'is imported.')
  return jax.make_mesh((stage, data), (STAGE, DATA), axis_types=(AxisType.Auto,) * 2,
                       devices=devices[:stage * data])


def _param_counts(network: Network, frame) -> Tuple[int, ...]:
  shapes = jax.eval_shape(lambda f: network.init(jax.random.PRNGKey(0), f), frame)
  return tuple(int(sum(np.prod(x.shape) for x in jax.tree.leaves(p))) for p in shapes)


def _tick_fns(network: Network, frame, frozen=()):
  """Per module, (jitted tick, its arguments): the work its stage does for it each tick.

  A learning module's forward and VJP (with its local head under Sideways); a frozen
  module's forward only; with the data of one frame batch `frame`."""
  params = jax.eval_shape(lambda f: network.init(jax.random.PRNGKey(0), f), frame)
  outs = [frame] + list(network.output_shapes(frame.shape, frame.dtype))
  heads = network.local_head_fns()  # sj.build takes heads under Sideways alone
  fns = network.apply_fns()
  ticks = []
  for k in range(1, network.num_modules + 1):
    ins = [jax.ShapeDtypeStruct(outs[e.source].shape, outs[e.source].dtype)
           for e in network.inputs(k)]
    if k in frozen:
      def tick(p, xs, fn=fns[k - 1]):
        return fn(p, *xs)
    else:
      def tick(p, xs, fn=heads.get(k, fns[k - 1])):
        out, vjp = jax.vjp(lambda p, xs: fn(p, *xs), p, xs)
        return vjp(out)
    ticks.append((jax.jit(tick), (params[k - 1], ins)))
  return ticks


def _flop_counts(network: Network, frame, frozen=()) -> Tuple[float, ...]:
  """Cost of each module's tick (`_tick_fns`), from XLA's cost analysis of it as compiled
  for the default device."""
  costs = []
  for fn, args in _tick_fns(network, frame, frozen):
    analysis = fn.lower(*args).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
    analysis = analysis or {}
    # Flops, and bytes moved at a nominal 4 flops per byte (memory-bound ops cost too).
    costs.append(float(analysis.get('flops', 0.)) +
                 4. * float(analysis.get('bytes accessed', 0.)) or 1.)
  return tuple(costs)


def _timed_costs(network: Network, frame, frozen=(),
                 repeats: int = 5) -> Tuple[float, ...]:
  """Seconds of each module's tick (`_tick_fns`) on the default device: the fastest of
  `repeats` runs on zero inputs after one to compile."""
  costs = []
  for fn, args in _tick_fns(network, frame, frozen):
    args = jax.tree.map(lambda s: jax.numpy.zeros(s.shape, s.dtype), args)
    jax.block_until_ready(fn(*args))
    best = float('inf')
    for _ in range(repeats):
      start = time.perf_counter()
      jax.block_until_ready(fn(*args))
      best = min(best, time.perf_counter() - start)
    costs.append(best)
  return tuple(costs)


_COSTS = {}


def _module_costs(network, frame, frozen, how):
  """`_flop_counts` ('cost') or `_timed_costs` ('time'), kept per network, frame shape,
  frozen modules and device kind (a second placement of the same run does not
  measure again)."""
  key = (id(network), tuple(frame.shape), frozen, how,
         jax.devices()[0].device_kind)
  if key not in _COSTS:
    _COSTS[key] = (network, (_flop_counts if how == 'cost' else _timed_costs)(
        network, frame, frozen))
  return _COSTS[key][1]


def balanced_stages(weights: Sequence[float], num_stages: int) -> Tuple[int, ...]:
  """Consecutive groups minimising the heaviest group (exact, by dynamic programming)."""
  n = len(weights)
  prefix = np.concatenate([[0.], np.cumsum(weights)])
  best = {}  # (modules used, stages used) -> (max load, cut positions)

  def solve(i, s):
    if (i, s) in best:
      return best[(i, s)]
    if s == 1:
      result = (prefix[n] - prefix[i], (n,))
    else:
      result = None
      for j in range(i + 1, n - s + 2):  # this group is modules i..j-1, each stage >= 1
        rest, cuts = solve(j, s - 1)
        load = max(prefix[j] - prefix[i], rest)
        if result is None or load < result[0]:
          result = (load, (j,) + cuts)
    best[(i, s)] = result
    return result

  _, cuts = solve(0, num_stages)
  stages, start = [], 0
  for stage, end in enumerate(cuts):
    stages += [stage] * (end - start)
    start = end
  return tuple(stages)


class Placement(NamedTuple):
  """A mesh and the stage of every module (consecutive, non-decreasing from 0), and the
  per-module weights the grouping balanced (None for an explicit grouping)."""
  mesh: Mesh
  stages: Tuple[int, ...]
  weights: Optional[Tuple[float, ...]] = None

  def shares(self) -> Optional[Tuple[float, ...]]:
    """Each stage's fraction of the weights (None without weights)."""
    if self.weights is None:
      return None
    total = sum(self.weights) or 1.
    return tuple(sum(w for w, s in zip(self.weights, self.stages) if s == stage) / total
                 for stage in range(max(self.stages) + 1))

  @property
  def num_stages(self) -> int:
    return self.mesh.shape[STAGE]

  @property
  def num_data(self) -> int:
    return self.mesh.shape[DATA]


GROUPINGS = ('cost', 'time', 'params')


def place(network: Network, mesh: Mesh, groups: Union[str, Sequence[int]] = 'cost',
          frame_shape: Optional[Sequence[int]] = None,
          frozen: Sequence[int] = ()) -> Placement:
  """Assigns the network's modules to the mesh's stages: consecutive groups whose heaviest
  group is as light as it can be (the pipeline runs at the pace of its slowest stage).

  Args:
    network: the network.
    mesh: a mesh with a 'stage' axis (and a 'data' axis, size 1 if unused); `make_mesh`.
    groups: how to weigh each module's tick, the work its stage does for it every tick
      (forward and VJP; forward only for a `frozen` module; with its local head, if any): 'cost' (XLA's cost analysis of the tick as compiled for the default
      device: flops plus 4 per byte accessed; deterministic), 'time' (a timed probe of the
      same ticks on the default device; closest to the truth on a quiet machine), 'params'
      (parameter counts; blind to activation sizes), or an explicit stage per module.
    frame_shape: a frame batch [B, H, W, C] (per data shard), to weigh the modules.
    frozen: the modules held fixed (forward only), as given to `sj.build`.

  Raises:
    ValueError: a mesh without 'stage', more stages than modules, or a bad assignment.
  """
  names = tuple(mesh.axis_names)
  if STAGE not in names:
    raise ValueError(f"The mesh has axes {names}; placement needs a 'stage' axis (and "
                     "optionally 'data'): use sj.make_mesh(stage=..., data=...).")
  if set(names) - {STAGE, DATA}:
    raise ValueError(f"The mesh has axes {names}; placement knows only 'stage' and 'data'.")
  if DATA not in names:
    raise ValueError("The mesh has no 'data' axis; give it one of size 1 "
                     '(sj.make_mesh(stage=S) does).')
  num_stages, num_modules = mesh.shape[STAGE], network.num_modules
  if num_stages > num_modules:
    raise ValueError(f'The mesh has {num_stages} stages but the network only {num_modules} '
                     f'modules; use at most {num_modules} stage devices.')
  weights = None
  if isinstance(groups, str):
    if groups not in GROUPINGS:
      raise ValueError(f"groups must be one of {GROUPINGS} or a stage per module, got "
                       f'{groups!r}.')
    if num_stages == 1:
      stages = (0,) * num_modules
    else:
      if frame_shape is None:
        raise ValueError('place(..., groups=%r) needs frame_shape=[B, H, W, C] to weigh '
                         'the modules.' % groups)
      frame = jax.ShapeDtypeStruct(tuple(frame_shape), np.float32)
      if groups == 'params':
        weights = _param_counts(network, frame)
      else:
        weights = _module_costs(network, frame, tuple(sorted(frozen)), groups)
      stages = balanced_stages(weights, num_stages)
  else:
    stages = tuple(int(s) for s in groups)
    if (len(stages) != num_modules or stages[0] != 0 or
        any(b - a not in (0, 1) for a, b in zip(stages, stages[1:])) or
        stages[-1] != num_stages - 1):
      raise ValueError(f'groups={tuple(groups)} must give each of the {num_modules} modules '
                       f'a stage, consecutive from 0 to {num_stages - 1} (every stage used).')
  return Placement(mesh, tuple(stages), None if weights is None else tuple(weights))
