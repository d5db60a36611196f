"""The network graph: modules, skip edges, their delays, validation and per-module init.

A network is K modules H_1 ... H_K (SIDEWAYS.md numbers them from 1; 0 is the input), each an
ordinary Haiku function of one array, plus skip edges j -> k. Module k reads

    u_k[t] = C_k( a_{k-1}[t - d_main], a_{j1}[t - d1], ... )

and C_k belongs to module k, so a learned skip projection lives in theta_k. The skip edges,
their names ('input:aligned', taps, 'detach'), delays and combine rules C_k live in skips.py;
every public name there is importable from here too.
"""

import dataclasses
from typing import Callable, Dict, NamedTuple, Sequence, Tuple, Union

import haiku as hk
import jax
import jax.numpy as jnp

# The skip mini-language (skips.py), re-exported so `from sideways_jax.network import SkipEdge`
# and the rest keep working.
from sideways_jax.skips import (  # pylint: disable=unused-import
    COMBINES, KINDS, SKIP_PATTERNS, SkipEdge, check_skips, combine, edge_delay, edge_key,
    resize_spatial, skip_pattern, skip_scope)


class Edge(NamedTuple):
  """An input edge of a module, main or skip, with its delay in ticks."""
  source: int
  delay: int
  skip: Union[SkipEdge, None]


class Graph:
  """Who reads whom with which delay: the input edges of every module, and derived tables.

  Args:
    edges: per module k = 1..K, its input edges (main first), each with its delay.
  """

  def __init__(self, edges: Sequence[Sequence[Edge]]):
    self.edges = tuple(tuple(e) for e in edges)
    self.num_modules = len(self.edges)

  def inputs(self, k: int) -> Tuple[Edge, ...]:
    return self.edges[k - 1]

  def consumers(self, j: int) -> Tuple[Tuple[int, int], ...]:
    """(consumer k, input slot) of every edge that reads source j (0 = input)."""
    return tuple((k, i) for k in range(1, self.num_modules + 1)
                 for i, e in enumerate(self.inputs(k)) if e.source == j)

  def fifo_length(self, j: int) -> int:
    """How many past outputs of source j some edge needs (at least 1 for modules)."""
    delays = [self.inputs(k)[i].delay for k, i in self.consumers(j)]
    return max(delays + [0 if j == 0 else 1])

  def newest_lag(self, k: int) -> int:
    """Ticks between a frame entering and the newest frame module k's output mixes."""
    if k == 0:
      return 0
    return min(self.newest_lag(e.source) + e.delay for e in self.inputs(k))

  def valid_from(self, k: int) -> int:
    """First tick of a clip at which module k's output is valid (every input valid):
    k - 1 without skips; a skip's delay can only make it later."""
    if k == 0:
      return 0
    return max(self.valid_from(e.source) + e.delay for e in self.inputs(k))


# --- The network ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Network:
  """An ordered list of modules (Haiku functions of one array) plus skip edges.

  Example:
    net = Network(
        modules=(lambda x: jax.nn.relu(Conv2D(8, 3)(x)),
                 lambda x: hk.Linear(10)(x.mean(axis=(1, 2)))),
        skips=skip_pattern('input', 2))
  """
  modules: Tuple[Callable, ...]
  skips: Tuple[SkipEdge, ...] = ()
  names: Union[Tuple[str, ...], None] = None
  detach_main: Tuple[int, ...] = ()  # modules that read their main input via stop_gradient
  # Local heads: (k, head) pairs, `head(a_k) -> h_k` a Haiku function whose output the task's
  # loss is taken on (like the top's), weighted by `local_weight`. Sideways adds that
  # loss's gradient, fresh, to module k's delta; evaluation reads only the top.
  local_heads: Tuple[Tuple[int, Callable], ...] = ()
  local_weight: float = 1.0

  def __post_init__(self):
    object.__setattr__(self, 'modules', tuple(self.modules))
    object.__setattr__(self, 'skips', tuple(SkipEdge(*s) for s in self.skips))
    if not self.modules:
      raise ValueError('The network is empty: give at least one module.')
    if self.names is None:
      object.__setattr__(self, 'names', tuple(f'module_{k}' for k in
                                              range(1, len(self.modules) + 1)))
    if len(self.names) != len(self.modules):
      raise ValueError(f'{len(self.names)} names for {len(self.modules)} modules.')
    object.__setattr__(self, 'detach_main', tuple(int(k) for k in self.detach_main))
    heads = self.local_heads
    heads = tuple(sorted((int(k), h) for k, h in
                         (heads.items() if isinstance(heads, dict) else heads)))
    object.__setattr__(self, 'local_heads', heads)
    ks = [k for k, _ in heads]
    if len(set(ks)) != len(ks):
      raise ValueError(f'local_heads: module {ks} has two heads; give each module one.')
    for k in ks:
      if not 1 <= k < len(self.modules):
        raise ValueError(f'local_heads: module {k} cannot have a local head; use modules '
                         f'1..{len(self.modules) - 1} (the top module has the loss itself).')
    if ks and not self.local_weight > 0:
      raise ValueError(f'local_weight={self.local_weight!r} must be > 0.')
    for k in self.detach_main:
      if not 2 <= k <= len(self.modules):
        raise ValueError(f'detach_main: module {k} has no module below it to detach; '
                         f'use modules 2..{len(self.modules)}.')
    check_skips(self.skips, self.num_modules)

  @property
  def num_modules(self) -> int:
    return len(self.modules)

  def with_skips(self, skips: Union[str, Sequence[SkipEdge]]) -> 'Network':
    """The same modules with another skip pattern (a name or explicit edges)."""
    if isinstance(skips, str):
      skips = skip_pattern(skips, self.num_modules)
    return dataclasses.replace(self, skips=tuple(skips))

  def inputs(self, k: int) -> Tuple[Edge, ...]:
    """Input edges of module k (1-based): the main edge first, then skips by source (taps
    of one source by delay)."""
    main = Edge(k - 1, 0 if k == 1 else 1, None)
    skips = sorted((s for s in self.skips if s.target == k), key=edge_key)
    return (main,) + tuple(Edge(s.source, edge_delay(s.source, k, s.kind, s.older), s)
                          for s in skips)

  def same_frame_inputs(self, k: int) -> Tuple[Edge, ...]:
    """Input edges of module k read as an ordinary same-frame DAG (every delay 0)."""
    return tuple(e._replace(delay=0) for e in self.inputs(k))

  def graph(self) -> Graph:
    """The frame clock's edge table (SIDEWAYS.md delays)."""
    return Graph([self.inputs(k) for k in range(1, self.num_modules + 1)])

  def stage_graph(self, stages: Sequence[int]) -> Graph:
    """GPipe's clock: the same-frame DAG cut into pipeline stages (`stages[k-1]` is module
    k's stage, non-decreasing from 0). Every edge waits for the stages between its ends, so
    each output is one frame through the ordinary network: delay = stage(k) - stage(j),
    with the input on stage 0 (module 1's stage must be 0)."""
    stages = tuple(int(s) for s in stages)
    if len(stages) != self.num_modules or stages[0] != 0 or any(
        b < a for a, b in zip(stages, stages[1:])):
      raise ValueError(f'stages {stages} must give each of the {self.num_modules} modules a '
                       'stage, non-decreasing from 0.')
    stage = lambda j: 0 if j == 0 else stages[j - 1]
    return Graph([tuple(e._replace(delay=stage(k) - stage(e.source)) for e in self.inputs(k))
                  for k in range(1, self.num_modules + 1)])

  def consumers(self, j: int) -> Tuple[Tuple[int, int], ...]:
    """(consumer k, input slot) of every edge that reads source j (0 = input)."""
    return self.graph().consumers(j)

  def fifo_length(self, j: int) -> int:
    """How many past outputs of source j some edge needs (at least 1 for modules)."""
    return self.graph().fifo_length(j)

  def newest_lag(self, k: int) -> int:
    """Ticks between the frame entering and the newest frame module k's output mixes."""
    return self.graph().newest_lag(k)

  def apply_fns(self) -> Tuple[Callable, ...]:
    """Per module, pure `apply(params, main, *skips) -> a_k` (C_k then H_k)."""
    return tuple(self._transform(k).apply for k in range(1, self.num_modules + 1))

  def local_head_fns(self) -> Dict[int, Callable]:
    """Per module with a local head, pure `apply(params, main, *skips) -> (a_k, h_k)`."""
    return {k: self._transform(k, with_head=True).apply for k, _ in self.local_heads}

  def _transform(self, k: int, with_head: bool = False):
    edges = [e.skip for e in self.inputs(k)[1:]]
    body, name = self.modules[k - 1], self.names[k - 1]
    detached = k in self.detach_main
    head = dict(self.local_heads).get(k) if with_head else None

    def module_fn(main, *skips):
      if detached:  # no gradient back along the main edge (the skips still carry one)
        main = jax.lax.stop_gradient(main)
      # Detached skips carry activations only: no gradient back to their sources.
      skips = tuple(jax.lax.stop_gradient(s) if e.detach else s for e, s in zip(edges, skips))
      if getattr(body, 'combines_skips', False):  # the module reads its skips itself
        out = body(main, *skips)
      else:
        out = body(combine(main, skips, edges, name))
      if head is None:
        return out
      with hk.name_scope('local_head'):
        return out, head(out)

    return hk.without_apply_rng(hk.transform(module_fn))

  def init(self, rng: jax.Array, frame: jax.Array):
    """Per-module params, initialised on one frame batch [B, H, W, C] read as same-frame.

    Returns:
      A tuple of K parameter pytrees (shapes differ between modules).
    """
    outputs = [frame]
    params = []
    for k, key in zip(range(1, self.num_modules + 1), jax.random.split(rng, self.num_modules)):
      ins = [outputs[e.source] for e in self.inputs(k)]
      transformed = self._transform(k, with_head=True)  # params include a local head's
      try:
        p = transformed.init(key, *ins)
        out = transformed.apply(p, *ins)
        outputs.append(out[0] if k in dict(self.local_heads) else out)
      except (ValueError, TypeError) as err:
        raise type(err)(f'{self.names[k - 1]} (module {k}): {err}') from err
      params.append(p)
    return tuple(params)

  def output_shapes(self, frame_shape, dtype=jnp.float32):
    """Shapes/dtypes of every module's output for frames of `frame_shape` (batch included)."""
    frame = jax.ShapeDtypeStruct(tuple(frame_shape), dtype)
    params = jax.eval_shape(lambda f: self.init(jax.random.PRNGKey(0), f), frame)
    outs = [frame]
    fns = self.apply_fns()
    for k in range(1, self.num_modules + 1):
      ins = [outs[e.source] for e in self.inputs(k)]
      outs.append(jax.eval_shape(fns[k - 1], params[k - 1], *ins))
    return tuple(outs[1:])


def same_frame_forward(network: Network, params, frame):
  """All module outputs of the ordinary same-frame DAG on one frame batch (the reference)."""
  fns = network.apply_fns()
  outs = [frame]
  for k in range(1, network.num_modules + 1):
    outs.append(fns[k - 1](params[k - 1], *[outs[e.source] for e in network.inputs(k)]))
  return tuple(outs[1:])
