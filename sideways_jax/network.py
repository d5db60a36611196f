"""The network graph: modules, skip edges, their delays, validation and per-module init.

A network is K modules H_1 ... H_K (SIDEWAYS.md numbers them from 1; 0 is the input), each an
ordinary Haiku function of one array, plus skip edges j -> k. Module k reads

    u_k[t] = C_k( a_{k-1}[t - d_main], a_{j1}[t - d1], ... )

and C_k belongs to module k, so a learned skip projection lives in theta_k.
"""

import dataclasses
from typing import Callable, Dict, NamedTuple, Sequence, Tuple, Union

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

KINDS = ('fresh', 'aligned')
COMBINES = ('sum', 'mean', 'project', 'bilinear')


class SkipEdge(NamedTuple):
  """A temporal skip connection from `source` (0 = input) into module `target`.

  `older` delays the edge by that many more ticks than its kind: the source's output of
  `older` frames before the kind's frame (e.g. kind 'fresh', older 1, from the input: x[t-1]).
  One source may feed one target at several delays (taps: a causal temporal convolution,
  each tap with its own projection); an edge is its (source, target, delay). A `detach`ed
  edge carries activations only: the target reads the source through a stop_gradient, so
  the source does not learn from this consumer (its gradient message is zero).
  """
  source: int
  target: int
  kind: str = 'fresh'
  combine: str = 'project'
  older: int = 0
  detach: bool = False


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


def edge_delay(source: int, target: int, kind: str, older: int = 0) -> int:
  """Delay d of an edge j -> k: module k reads at tick t what j wrote at tick t - d."""
  if kind == 'fresh':
    return older + (0 if source == 0 else 1)
  return older + (target - 1 if source == 0 else target - source)  # aligned


# --- Named skip patterns -------------------------------------------------------------

def _input_pattern(num_modules):
  return [(0, k) for k in range(2, num_modules + 1)]


def _input_below_top_pattern(num_modules):
  return [(0, k) for k in range(2, num_modules)]


def _two_below_pattern(num_modules):
  return [(k - 2, k) for k in range(2, num_modules + 1)]


def _dense_pattern(num_modules):
  return [(j, k) for k in range(2, num_modules + 1) for j in range(0, k - 1)]


def _to_top_pattern(num_modules):
  return [(j, num_modules) for j in range(1, num_modules - 1)]


SKIP_PATTERNS = {
    'none': lambda num_modules: [],
    'input': _input_pattern,          # every module also reads the input
    # every module but the top: fresh, the top's newest frame is still t - 1 (prediction)
    'input_below_top': _input_below_top_pattern,
    'two_below': _two_below_pattern,  # every module also reads the module two below
    'dense': _dense_pattern,          # every module reads the input and all below
    'to_top': _to_top_pattern,        # the top module also reads every module below
}


def skip_pattern(name: str, num_modules: int) -> Tuple[SkipEdge, ...]:
  """Skip edges of a named pattern: 'PATTERN[:KIND[:COMBINE]]', e.g. 'input:aligned:sum'.

  Patterns: none, input, input_below_top, two_below, dense, to_top, or one edge 'J>K'
  (module J, 0 the input, into module K). KIND: fresh (default) or aligned, optionally
  '-N' frames older ('0>5:fresh-1': the top reads x[t-1]; 'input:aligned-2': each module
  also reads the input two frames before its main input's frame), or '-N/M/...' for one
  tap at each ('3>5:fresh-0/2/4/6': the top reads module 3's output at four delays, a
  causal temporal convolution over 7 ticks of it). A fourth part 'detach' makes the edges
  carry no gradient back to their source ('3>5:fresh-0/2:project:detach'). COMBINE: project
  (default; identity when shapes already match), sum, mean, or bilinear
  (proj(s) + main * proj'(s): adds the product of the two inputs). Patterns join with '+', each with its
  own kind and rule: 'input+to_top', '1>4+0>5:aligned'; an edge (source, target and
  delay) named twice is kept once (the first spelling wins). Negative numbers count from the
  top: '1>-1' feeds module 1 into the top module.
  """
  if '+' in name:
    edges, seen = [], set()
    for part in name.split('+'):
      for e in skip_pattern(part, num_modules):
        if _edge_key(e) not in seen:
          seen.add(_edge_key(e))
          edges.append(e)
    return tuple(edges)
  parts = name.split(':')
  edge = _one_edge(parts[0], num_modules) if '>' in parts[0] else None
  if (len(parts) > 4 or (len(parts) == 4 and parts[3] != 'detach')
      or (parts[0] not in SKIP_PATTERNS and edge is None)):
    raise ValueError(f'Unknown skip pattern {name!r}; use PATTERN[:KIND[:COMBINE[:detach]]] '
                     f'with PATTERN in {sorted(SKIP_PATTERNS)}, KIND in {KINDS}, '
                     f'COMBINE in {COMBINES}.')
  kind = parts[1] if len(parts) > 1 else 'fresh'
  combine = parts[2] if len(parts) > 2 else 'project'
  kind, olders = _kind_and_older(kind, name)
  if kind not in KINDS:
    raise ValueError(f'Unknown skip kind {kind!r} in pattern {name!r}; use one of {KINDS}, '
                     "optionally '-N' frames older (e.g. fresh-1).")
  if combine not in COMBINES:
    raise ValueError(f'Unknown combine rule {combine!r} in pattern {name!r}; '
                     f'use one of {COMBINES}.')
  pairs = [edge] if edge is not None else SKIP_PATTERNS[parts[0]](num_modules)
  detach = len(parts) == 4
  return tuple(SkipEdge(j, k, kind, combine, older, detach)
               for j, k in pairs for older in olders)


def _kind_and_older(text, name):
  """'aligned-2' -> ('aligned', (2,)); 'fresh' -> ('fresh', (0,)); 'fresh-0/2' ->
  ('fresh', (0, 2))."""
  kind, sep, older = text.partition('-')
  if not sep:
    return kind, (0,)
  olders = older.split('/')
  if not all(o.isdigit() for o in olders) or len(set(olders)) != len(olders):
    raise ValueError(f"Bad skip kind {text!r} in pattern {name!r}: after '-' comes how many "
                     "frames older, a whole number (e.g. fresh-1), or distinct numbers "
                     "joined by '/' for one tap each (e.g. fresh-0/2/4).")
  return kind, tuple(int(o) for o in olders)


def _edge_key(s: SkipEdge):
  """What an edge reads: its source, target and delay."""
  return s.source, s.target, edge_delay(s.source, s.target, s.kind, s.older)


def skip_scope(skip: SkipEdge, taps: int = 1) -> str:
  """The name of a skip's combine parameters in its target's params: 'skip_from_J', or
  'skip_from_J_dD' (D its delay) when J feeds the target at `taps` > 1 delays."""
  if taps > 1:
    return f'skip_from_{skip.source}_d{_edge_key(skip)[2]}'
  return f'skip_from_{skip.source}'


def _one_edge(text, num_modules):
  """'J>K' as (source, target), negative numbers counted from the top; None if malformed."""
  try:
    j, k = (int(v) for v in text.split('>'))
  except ValueError:
    return None
  j, k = (v + num_modules + 1 if v < 0 else v for v in (j, k))
  return j, k


# --- Combine rules -------------------------------------------------------------------

class _Pointwise(hk.Module):
  """A 1x1 convolution written as a channel matmul: the same parameters and init as
  `hk.Conv2D(channels, 1)`, but a VJP that stays fast inside `lax.scan` on XLA:CPU (a
  conv's transposed gradient conv does not; see layers.py)."""

  def __init__(self, channels, name=None):
    super().__init__(name=name)
    self.channels = channels

  def __call__(self, x):
    fan_in = x.shape[-1]
    w = hk.get_parameter('w', (1, 1, fan_in, self.channels), x.dtype,
                         init=hk.initializers.TruncatedNormal(1. / np.sqrt(fan_in)))
    b = hk.get_parameter('b', (self.channels,), x.dtype, init=jnp.zeros)
    return jnp.einsum('bhwc,cd->bhwd', x, w[0, 0]) + b


def resize_spatial(x, height, width, label):
  """`x` [B, H, W, C] at height x width by an integer factor: block means to pool (the same
  as VALID average pooling, with a VJP that is a broadcast: reduce_window's is slow inside
  lax.scan on XLA:CPU) or nearest repeats to upsample."""
  h, w = x.shape[1:3]
  if (h, w) == (height, width):
    return x
  if h >= height and w >= width and not h % height and not w % width:
    return x.reshape(x.shape[0], height, h // height, width, w // width,
                     x.shape[-1]).mean(axis=(2, 4))
  if h <= height and w <= width and not height % h and not width % w:
    return jnp.repeat(jnp.repeat(x, height // h, axis=1), width // w, axis=2)
  raise ValueError(f'{label}: cannot resize {h}x{w} to {height}x{width} by an integer factor '
                   '(one does not divide the other).')


def _project(x, shape, name, always=False):
  """Learned projection of a skip input `x` to `shape` (batch dim included); the identity
  when the shapes match, unless `always` (then a 1x1 conv or a linear map even so)."""
  if x.shape == shape and not always:
    return x
  with hk.experimental.name_scope(name):
    if len(shape) == 4 and x.ndim == 4:
      x = resize_spatial(x, shape[1], shape[2], name)
      if x.shape[-1] != shape[-1] or always:
        x = _Pointwise(shape[-1], name='proj')(x)
      return x
    flat = hk.Linear(int(np.prod(shape[1:])), name='proj')(x.reshape(x.shape[0], -1))
    return flat.reshape((x.shape[0],) + tuple(shape[1:]))


def _combine(main, skips, edges, module_name):
  """C_k: combine the main input with the skip inputs (edges give the rule of each)."""
  if not skips:
    return main
  rules = {e.combine for e in edges}
  taps = {j: sum(e.source == j for e in edges) for j in {e.source for e in edges}}
  parts = [main]
  for edge, s in zip(edges, skips):
    label = f'{module_name}: skip {edge.source}->{edge.target}'
    scope = skip_scope(edge, taps[edge.source])
    if edge.combine == 'bilinear':
      # proj(s) + main * proj'(s): the product lets a module compare its two frames
      # multiplicatively (like a motion-energy unit), which a sum followed by a ReLU does
      # only roughly.
      gate = _project(s, main.shape, name=f'{scope}_gate', always=True)
      s = _project(s, main.shape, name=scope) + main * gate
    elif edge.combine == 'project':
      s = _project(s, main.shape, name=scope)
    elif s.shape != main.shape:
      raise ValueError(f'{label} ({edge.combine}): skip input shape {s.shape} differs from '
                       f'the main input shape {main.shape}; use combine="project".')
    parts.append(s)
  total = sum(parts[1:], parts[0])
  if 'mean' in rules:
    if rules != {'mean'}:
      raise ValueError(f'{module_name}: combine "mean" cannot be mixed with {rules - {"mean"}} '
                       f'on the same module; give all its skip edges one rule.')
    total = total / len(parts)
  return total


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
    seen = set()
    for s in self.skips:
      label = f'skip {s.source}->{s.target}'
      if s.kind not in KINDS:
        raise ValueError(f'{label}: unknown kind {s.kind!r}; use one of {KINDS}.')
      if s.combine not in COMBINES:
        raise ValueError(f'{label}: unknown combine rule {s.combine!r}; use one of '
                         f'{COMBINES}.')
      if not isinstance(s.older, (int, np.integer)) or s.older < 0:
        raise ValueError(f'{label}: older={s.older!r} must be a whole number of frames >= 0.')
      if not isinstance(s.detach, (bool, np.bool_)):
        raise ValueError(f'{label}: detach={s.detach!r} must be True or False.')
      if not 2 <= s.target <= self.num_modules:
        raise ValueError(f'{label}: target must be a module 2..{self.num_modules}.')
      if not 0 <= s.source < s.target - 1:
        raise ValueError(f'{label}: source must be the input (0) or a module below '
                         f'{s.target - 1} (module {s.target - 1} is already the main input).')
      if _edge_key(s) in seen:
        raise ValueError(f'{label} at delay {_edge_key(s)[2]} is given twice.')
      seen.add(_edge_key(s))

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
    skips = sorted((s for s in self.skips if s.target == k), key=_edge_key)
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
        out = body(_combine(main, skips, edges, name))
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
