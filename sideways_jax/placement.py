"""Placement: which device runs which modules, and the routing between devices.

A mesh has a `stage` axis (consecutive groups of modules, one group per device along it)
and an optional `data` axis (the batch split, each module's gradient summed over it).
Placement changes where work runs, never the numbers: every device runs the same tick
(sideways.py, clock.py) for its own modules, and `StageRouter` is a second implementation
of the router interface of routing.py — local FIFOs for the stage's own modules, plus an
inbox of what other stages sent last tick (activations up, gradient messages down, one
`ppermute` per distance, skip edges across several devices included). The shard_map step
that drives it is in placed.py.

    placement = sj.place(network, sj.make_mesh(stage=4, data=2))
    trainer = sj.build(network, optax.adam(1e-3), task, placement=placement)
"""

from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import jax
import numpy as np
from jax.sharding import AxisType, Mesh

from sideways_jax import routing
from sideways_jax.network import Graph, Network
from sideways_jax.sideways import Activation, GradMessage

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


def _flop_counts(network: Network, frame) -> Tuple[float, ...]:
  """Measured cost of each module's tick (forward + VJP), from XLA's cost analysis."""
  params = jax.eval_shape(lambda f: network.init(jax.random.PRNGKey(0), f), frame)
  outs = [frame] + list(network.output_shapes(frame.shape, frame.dtype))
  fns = network.apply_fns()
  costs = []
  for k in range(1, network.num_modules + 1):
    ins = [outs[e.source] for e in network.inputs(k)]
    def tick(p, xs, fn=fns[k - 1]):
      out, vjp = jax.vjp(lambda p, xs: fn(p, *xs), p, xs)
      return vjp(out)
    analysis = jax.jit(tick).lower(params[k - 1], ins).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
    costs.append(float((analysis or {}).get('flops', 0.)) or 1.)
  return tuple(costs)


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
  """A mesh and the stage of every module (consecutive, non-decreasing from 0)."""
  mesh: Mesh
  stages: Tuple[int, ...]

  @property
  def num_stages(self) -> int:
    return self.mesh.shape[STAGE]

  @property
  def num_data(self) -> int:
    return self.mesh.shape[DATA]

  def modules_of(self, stage: int) -> Tuple[int, ...]:
    return tuple(k for k, s in enumerate(self.stages, start=1) if s == stage)


def place(network: Network, mesh: Mesh, groups: Union[str, Sequence[int]] = 'params',
          frame_shape: Optional[Sequence[int]] = None) -> Placement:
  """Assigns the network's modules to the mesh's stages.

  Args:
    network: the network.
    mesh: a mesh with a 'stage' axis (and a 'data' axis, size 1 if unused); `make_mesh`.
    groups: 'params' (balance parameter counts), 'cost' (balance the measured cost of each
      module's forward + VJP; needs `frame_shape`), or an explicit stage per module.
    frame_shape: a frame batch [B, H, W, C], for the parameter counts and costs.

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
  if isinstance(groups, str):
    if groups not in ('params', 'cost'):
      raise ValueError(f"groups must be 'params', 'cost' or a stage per module, got "
                       f'{groups!r}.')
    if num_stages == 1:
      stages = (0,) * num_modules
    else:
      if frame_shape is None:
        raise ValueError('place(..., groups=%r) needs frame_shape=[B, H, W, C] to weigh '
                         'the modules.' % groups)
      frame = jax.ShapeDtypeStruct(tuple(frame_shape), np.float32)
      weights = (_param_counts if groups == 'params' else _flop_counts)(network, frame)
      stages = balanced_stages(weights, num_stages)
  else:
    stages = tuple(int(s) for s in groups)
    if (len(stages) != num_modules or stages[0] != 0 or
        any(b - a not in (0, 1) for a, b in zip(stages, stages[1:])) or
        stages[-1] != num_stages - 1):
      raise ValueError(f'groups={tuple(groups)} must give each of the {num_modules} modules '
                       f'a stage, consecutive from 0 to {num_stages - 1} (every stage used).')
  return Placement(mesh, tuple(stages))


class StageRouter:
  """The router of one stage: its modules' FIFOs, and an inbox from the other stages.

  Buffers (a dict), as they stand at the start of tick t on stage s:
    frames            the input frame FIFO (every stage reads x[t] itself)
    acts[j]           FIFO of a_j for the stage's own modules j
    msgs[(c, i)]      e_{c->j}[t-1] from a local consumer c (input slot i) to a local j
    inbox[('up', m)]  {(j, d): a_j[t-d]} sent by stage s-m at the end of tick t-1
    inbox[('down', m)] {(c, i): e_{c->j}[t-1]} sent by stage s+m (j on s)
  `route` returns the same dict with an `outbox` in place of the inbox: what this stage
  sends up or down by each distance m; placed.py moves it with `ppermute`.
  """

  def __init__(self, graph: Graph, stages: Sequence[int], stage: int, output_shapes,
               frame_fifo: int):
    self.graph, self.stages, self.stage = graph, tuple(stages), stage
    self.output_shapes, self.frame_fifo = output_shapes, frame_fifo
    self.modules = tuple(k for k, s in enumerate(self.stages, start=1) if s == stage)
    self.num_stages = max(self.stages) + 1

  def _stage(self, j):
    return self.stages[j - 1]

  def sends_up(self, m: int) -> Tuple[Tuple[int, int], ...]:
    """(source j, delay d) this stage sends to stage s+m each tick (its FIFO entry d-1)."""
    return tuple(sorted({(e.source, e.delay)
                         for k in range(1, self.graph.num_modules + 1)
                         if self._stage(k) == self.stage + m
                         for e in self.graph.inputs(k)
                         if e.source > 0 and self._stage(e.source) == self.stage}))

  def sends_down(self, m: int) -> Tuple[Tuple[int, int], ...]:
    """(consumer c, slot i) messages this stage sends to stage s-m each tick."""
    return tuple((c, i) for c in self.modules
                 for i, e in enumerate(self.graph.inputs(c))
                 if e.source > 0 and self._stage(e.source) == self.stage - m)

  def distances(self):
    return range(1, self.num_stages)

  def _shapes(self, frame):
    return (frame,) + tuple(self.output_shapes(frame))

  def outbox_tree(self, frame, key, with_messages=True):
    """The (empty) entries of the message this stage sends under `key` = (dir, m)."""
    shapes = self._shapes(frame)
    direction, m = key
    if direction == 'up':
      return {(j, d): routing.entry(routing.empty_activation(shapes[j].shape,
                                                             shapes[j].dtype, 1), 0)
              for j, d in self.sends_up(m)}
    if not with_messages:
      return {}
    return {(c, i): routing.empty_message(shapes[self.graph.inputs(c)[i].source].shape,
                                          shapes[self.graph.inputs(c)[i].source].dtype)
            for c, i in self.sends_down(m)}

  def keys(self):
    return [(direction, m) for m in self.distances() for direction in ('up', 'down')]

  def empty(self, frame: jax.ShapeDtypeStruct, with_messages: bool = True,
            senders: Optional[Dict] = None):
    """Empty buffers; `senders[key]` is the router of the stage whose outbox arrives here
    under `key` (its inbox entries are that stage's outbox entries; none if not given)."""
    shapes = self._shapes(frame)
    frames = (routing.empty_activation(frame.shape, frame.dtype, self.frame_fifo)
              if self.frame_fifo else None)
    acts = {j: routing.empty_activation(shapes[j].shape, shapes[j].dtype,
                                        self.graph.fifo_length(j)) for j in self.modules}
    msgs = {}
    if with_messages:
      msgs = {(c, i): routing.empty_message(shapes[e.source].shape, shapes[e.source].dtype)
              for c in self.modules for i, e in enumerate(self.graph.inputs(c))
              if e.source > 0 and self._stage(e.source) == self.stage}
    inbox = {key: sender.outbox_tree(frame, key, with_messages)
             for key, sender in (senders or {}).items()}
    return {'frames': frames, 'acts': acts, 'msgs': msgs, 'inbox': inbox}

  def past_frames(self, buffers):
    return buffers['frames']

  def read_inputs(self, buffers, k: int, frame: Activation,
                  current: Optional[Dict[int, Activation]] = None):
    inputs = []
    for e in self.graph.inputs(k):
      if e.source == 0:
        inputs.append(frame if e.delay == 0 else routing.entry(buffers['frames'],
                                                               e.delay - 1))
      elif self._stage(e.source) == self.stage:
        inputs.append(current[e.source] if e.delay == 0 else
                      routing.entry(buffers['acts'][e.source], e.delay - 1))
      else:
        m = self.stage - self._stage(e.source)
        inputs.append(buffers['inbox'][('up', m)][(e.source, e.delay)])
    return tuple(inputs)

  def read_messages(self, buffers, k: int):
    messages = []
    for c, i in self.graph.consumers(k):
      if self._stage(c) == self.stage:
        messages.append(buffers['msgs'][(c, i)])
      else:
        messages.append(buffers['inbox'][('down', self._stage(c) - self.stage)][(c, i)])
    return tuple(messages)

  def route(self, buffers, frame: Activation, activations: Dict[int, Activation],
            messages: Optional[Dict[int, Sequence[GradMessage]]] = None):
    frames = buffers['frames']
    frames = routing.push(frames, frame) if frames is not None else None
    acts = {j: routing.push(fifo, activations[j]) for j, fifo in buffers['acts'].items()}
    msgs, outbox = {}, {}
    for m in self.distances():
      outbox[('up', m)] = {(j, d): routing.entry(acts[j], d - 1) for j, d in self.sends_up(m)}
      outbox[('down', m)] = {}
    if messages is not None:
      for c in self.modules:
        for i, (e, msg) in enumerate(zip(self.graph.inputs(c), messages[c])):
          if e.source == 0:
            continue
          if self._stage(e.source) == self.stage:
            msgs[(c, i)] = msg
          else:
            outbox[('down', self.stage - self._stage(e.source))][(c, i)] = msg
    return {'frames': frames, 'acts': acts, 'msgs': msgs, 'outbox': outbox}
