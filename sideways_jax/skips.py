"""The skip mini-language: skip edges, their names, delays and combine rules.

A skip edge j -> k (`SkipEdge`) lets module k also read source j (0 = the input) at a
delay set by its kind ('fresh', 'aligned') and `older` frames more. `skip_pattern` parses
the names configs use: 'PATTERN[:KIND[:COMBINE[:detach]]]', patterns joined by '+', one
edge 'J>K', taps at several delays ('fresh-0/2/4'), and the 'detach' flag. The combine
rules (`combine`: sum, mean, a learned projection, bilinear) are C_k, the part of module k
that merges its skip inputs with its main input, so their parameters live in theta_k.
`network.py` holds the modules, the graph of delays and per-module init; it re-exports
every public name here.
"""

from typing import NamedTuple, Sequence, Tuple

import haiku as hk
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
  (proj(s) + main * proj'(s): adds the product of the two inputs). Patterns join with '+',
  each with its own kind and rule: 'input+to_top', '1>4+0>5:aligned'; an edge (source,
  target and delay) named twice is kept once (the first spelling wins). Negative numbers
  count from the top: '1>-1' feeds module 1 into the top module.
  """
  if '+' in name:
    edges, seen = [], set()
    for part in name.split('+'):
      for e in skip_pattern(part, num_modules):
        if edge_key(e) not in seen:
          seen.add(edge_key(e))
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


def check_skips(skips: Sequence[SkipEdge], num_modules: int):
  """Raises ValueError naming the first bad edge of `skips` in a network of `num_modules`:
  an unknown kind or combine rule, a bad `older` or `detach`, an edge that does not skip a
  module, or one (source, target, delay) given twice."""
  seen = set()
  for s in skips:
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
    if not 2 <= s.target <= num_modules:
      raise ValueError(f'{label}: target must be a module 2..{num_modules}.')
    if not 0 <= s.source < s.target - 1:
      raise ValueError(f'{label}: source must be the input (0) or a module below '
                       f'{s.target - 1} (module {s.target - 1} is already the main input).')
    if edge_key(s) in seen:
      raise ValueError(f'{label} at delay {edge_key(s)[2]} is given twice.')
    seen.add(edge_key(s))


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


def edge_key(s: SkipEdge):
  """What an edge reads: its source, target and delay."""
  return s.source, s.target, edge_delay(s.source, s.target, s.kind, s.older)


def skip_scope(skip: SkipEdge, taps: int = 1) -> str:
  """The name of a skip's combine parameters in its target's params: 'skip_from_J', or
  'skip_from_J_dD' (D its delay) when J feeds the target at `taps` > 1 delays."""
  if taps > 1:
    return f'skip_from_{skip.source}_d{edge_key(skip)[2]}'
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


def combine(main, skips, edges, module_name):
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
