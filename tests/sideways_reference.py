"""A plain-Python reference of the Sideways tick (SIDEWAYS.md), for tests only.

Loops over ticks and modules with explicit dictionaries:
  a[k][t]       what module k wrote at tick t (k = 0 is the input x[t]): value, valid, frame
                range (oldest, newest), per-example video ids (vmin, vmax), main-path label.
  e[(k, j, d)][t]  the gradient message module k sent along its edge from source j of delay d
                at tick t (a source may feed k at several delays, each its own edge): value, valid,
                has_loss, and `losses`, the set of loss ticks whose gradient it carries.
Every module's forward is recomputed here from its Haiku param dict with jnp / lax ops;
per-module VJPs are `jax.vjp` of these forwards. Nothing is imported from sideways_jax.

Engine choices the spec leaves open, followed here: frame index = tick; drain ticks feed x[T-1]
again (frame index T-1, no loss); the top's loss at t is the mean softmax cross-entropy over
examples that are valid, single-video and on a loss tick; a module's g_k counts iff its delta
and its input are valid and some loss reached it; windows of N ticks from tick 0, the last
closing at the final tick; each window end applies p -= lr * mean(valid g_k).
"""

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np


# --- Module bodies, recomputed from the param dicts ----------------------------------

def _only(params):
  """The body's Haiku sub-module dict of a module's params, e.g. params['conv2_d'] (skip
  projections, 'skip_from_J/proj', are the combine rule's)."""
  (inner,) = [v for key, v in params.items() if not key.startswith('skip_from_')]
  return inner


def conv_relu(params, x):
  """relu(SAME stride-1 NHWC/HWIO conv + b)."""
  p = _only(params)
  y = lax.conv_general_dilated(x, p['w'], (1, 1), 'SAME',
                               dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  return jax.nn.relu(y + p['b'])


def conv_relu_pool(params, x):
  """conv_relu, then 2x2 max pooling (stride 2)."""
  y = conv_relu(params, x)
  b, h, w, c = y.shape
  return y.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def project(params, source, x, shape, scope=None, always=False):
  """A skip input `x` from `source` brought to the main input's `shape`: average-pooled
  or repeated by an integer factor, then a 1x1 conv (params['skip_from_J/proj']) when the
  channels differ (or `always`); vectors through a linear map of the flattened input."""
  if x.shape == tuple(shape) and not always:
    return x
  p = params.get(f'{scope or f"skip_from_{source}"}/proj')
  if x.ndim == 4 and len(shape) == 4:
    b, h, w, c = x.shape
    th, tw = shape[1:3]
    if h >= th:
      x = x.reshape(b, th, h // th, tw, w // tw, c).mean(axis=(2, 4))
    else:
      x = jnp.repeat(jnp.repeat(x, th // h, axis=1), tw // w, axis=2)
    if c != shape[-1] or always:
      x = jnp.einsum('bhwc,cd->bhwd', x, p['w'][0, 0]) + p['b']
    return x
  return (x.reshape(x.shape[0], -1) @ p['w'] + p['b']).reshape(shape)


def combine_one(params, rule, source, x, main, scope=None):
  """One skip input's term of C_k: x ('sum'), its projection ('project'), or
  proj(x) + main * proj_gate(x) ('bilinear', the gate always a learned map). `scope` names
  the parameters (default 'skip_from_J'; 'skip_from_J_dD' for one of several taps)."""
  if rule == 'sum':
    return x
  scope = scope or f'skip_from_{source}'
  projected = project(params, source, x, main.shape, scope=scope)
  if rule == 'project':
    return projected
  assert rule == 'bilinear', rule
  gate = project(params, source, x, main.shape, scope=f'{scope}_gate', always=True)
  return projected + main * gate


def mean_linear(params, x):
  """Linear head on the spatial mean: mean_{h,w}(x) @ w + b."""
  p = _only(params)
  return x.mean(axis=(1, 2)) @ p['w'] + p['b']


# --- The graph -----------------------------------------------------------------------

def skip_delay(j, k, kind, older=0):
  """The delay of a skip j -> k: fresh reads the newest buffer, aligned the main path's
  frame, each `older` frames further back."""
  if kind == 'fresh':
    d = 0 if j == 0 else 1
  else:  # aligned: the main path's frame
    d = k - 1 if j == 0 else k - j
  return d + older


def input_edges(num_modules, skips, k):
  """[(source j, delay d)] of module k: main edge first, then skips sorted by source and
  delay (one source may feed k at several delays: taps)."""
  edges = [(k - 1, 0 if k == 1 else 1)]
  edges += sorted((j, skip_delay(j, k, kind, rest[1] if len(rest) > 1 else 0))
                  for j, target, kind, *rest in skips if target == k)
  return edges


def _empty(batch):
  return dict(value=None, valid=False, oldest=0, newest=0,
              vmin=np.full(batch, -1), vmax=np.full(batch, -1), label=np.zeros(batch, int))


def cross_entropy(logits, labels):
  logp = jax.nn.log_softmax(logits)
  return -jnp.take_along_axis(logp, labels[:, None], axis=1)[:, 0]


def run(bodies, skips, params, frames, labels, video_ids, lr, update_every, momentum=0.):
  """One clip of Sideways training (reset, drain), SGD with learning rate `lr` (and
  heavy-ball `momentum`: v = g + momentum * v, p -= lr * v, v starting at zero).

  Args:
    bodies: K functions (module params, u) -> a_k.
    skips: [(source, target, kind[, combine[, older[, detach]]])]; combine 'sum' (default),
      'project' or 'bilinear'; older: ticks of delay beyond the kind's (default 0); detach:
      the target reads the source through a stop_gradient (default False).
    params: K Haiku param dicts.
    frames [B, T, H, W, C], labels [B, T], video_ids [B, T] (numpy).

  Returns:
    dict(a=a, e=e, g=g, g_valid=..., loss=..., stepped=..., params=final params, ticks=n).
  """
  num_modules = len(bodies)
  batch, num_frames = labels.shape
  num_ticks = num_frames + num_modules - 1  # drain: K-1 more ticks
  edges = {k: input_edges(num_modules, skips, k) for k in range(1, num_modules + 1)}
  consumers = {j: [(c, d) for c in edges for (src, d) in edges[c] if src == j]
               for j in range(0, num_modules + 1)}
  params = list(params)
  velocity = [jax.tree.map(jnp.zeros_like, p) for p in params]
  combine = {(j, target, skip_delay(j, target, kind, rest[1] if len(rest) > 1 else 0)):
             (rest[0] if rest else 'sum') for j, target, kind, *rest in skips}
  detached = {(j, target, skip_delay(j, target, kind, rest[1] if len(rest) > 1 else 0))
              for j, target, kind, *rest in skips if len(rest) > 2 and rest[2]}
  taps = {(j, k): sum(src == j for src, _ in edges[k][1:]) for k in edges for j, _ in edges[k]}

  def scope(j, k, d):  # the engine's naming: 'skip_from_J', or 'skip_from_J_dD' for taps
    return f'skip_from_{j}_d{d}' if taps[(j, k)] > 1 else f'skip_from_{j}'

  a = {k: {} for k in range(0, num_modules + 1)}
  e = {(k, j, d): {} for k in edges for (j, d) in edges[k]}
  g, g_valid, loss, stepped = {}, {}, {}, {}
  window = {k: [] for k in edges}

  def read(j, t):
    return a[j][t] if t >= 0 else _empty(batch)

  def message(k, j, d, t):
    if t >= 0:
      return e[(k, j, d)][t]
    return dict(value=None, valid=False, has_loss=False, losses=frozenset())

  for t in range(num_ticks):
    i = min(t, num_frames - 1)  # drain ticks hold the last frame
    loss_on = t < num_frames
    a[0][t] = dict(value=jnp.asarray(frames[:, i]), valid=True, oldest=i, newest=i,
                   vmin=video_ids[:, i], vmax=video_ids[:, i], label=labels[:, i])
    for k in range(1, num_modules + 1):
      ins = [read(j, t - d) for j, d in edges[k]]
      u_valid = all(x['valid'] for x in ins)
      body = bodies[k - 1]
      sources = edges[k]

      def fwd(p, xs, body=body, sources=sources, k=k):  # C_k (sum / project), then H_k
        main = xs[0]
        parts = [combine_one(p, combine[(j, k, d)], j,
                             lax.stop_gradient(x) if (j, k, d) in detached else x, main,
                             scope(j, k, d))
                 for (j, d), x in zip(sources[1:], xs[1:])]
        return body(p, sum(parts, main))
      if u_valid:  # forward at u_k[t] (an invalid output is never used)
        out, vjp = jax.vjp(fwd, params[k - 1], [x['value'] for x in ins])
      else:
        out, vjp = None, None
      a[k][t] = dict(value=out, valid=u_valid,
                     oldest=min(x['oldest'] for x in ins),
                     newest=max(x['newest'] for x in ins),
                     vmin=np.min([x['vmin'] for x in ins], axis=0),
                     vmax=np.max([x['vmax'] for x in ins], axis=0),
                     label=ins[0]['label'])

      # delta_k[t]
      if k == num_modules:
        act = a[k][t]
        mask = (act['vmin'] == act['vmax']) & loss_on & act['valid']
        if u_valid:
          def loss_fn(logits, label=act['label'], mask=mask):
            ce = cross_entropy(logits, jnp.asarray(label))
            return jnp.sum(jnp.where(mask, ce, 0.)) / max(int(mask.sum()), 1)
          value, d_value = jax.value_and_grad(loss_fn)(out)
        else:
          value, d_value = 0., None
        loss[t] = dict(value=value, mask=mask)
        delta = dict(value=d_value, valid=u_valid, has_loss=bool(mask.any()),
                     losses=frozenset([t]) if mask.any() else frozenset())
      else:
        incoming = [message(c, k, d, t - 1) for c, d in consumers[k]]
        valid = all(m['valid'] for m in incoming)
        delta = dict(value=sum(m['value'] for m in incoming) if valid else None,
                     valid=valid, has_loss=any(m['has_loss'] for m in incoming),
                     losses=frozenset().union(*[m['losses'] for m in incoming]))

      ok = delta['valid'] and u_valid
      if ok:
        g_k, input_grads = vjp(delta['value'])
      else:
        g_k = jax.tree.map(jnp.zeros_like, params[k - 1])
        input_grads = [None] * len(edges[k])
      g[(k, t)] = g_k
      g_valid[(k, t)] = ok and delta['has_loss']
      for (j, d), x in zip(edges[k], input_grads):
        e[(k, j, d)][t] = dict(value=x, valid=ok, has_loss=ok and delta['has_loss'],
                            losses=delta['losses'] if ok else frozenset())
      if g_valid[(k, t)]:
        window[k].append(g_k)

    # Window end: one SGD step with the mean valid gradient (none: no step).
    end = (t + 1) % update_every == 0 or t == num_ticks - 1
    for k in edges:
      stepped[(k, t)] = end and bool(window[k])
      if stepped[(k, t)]:
        mean = jax.tree.map(lambda *gs: sum(gs) / len(gs), *window[k])
        velocity[k - 1] = jax.tree.map(lambda v, m: m + momentum * v, velocity[k - 1], mean)
        params[k - 1] = jax.tree.map(lambda p, v: p - lr * v, params[k - 1], velocity[k - 1])
      if end:
        window[k] = []

  return dict(a=a, e=e, g=g, g_valid=g_valid, loss=loss, stepped=stepped,
              params=tuple(params), velocity=tuple(velocity), ticks=num_ticks, edges=edges)
