"""How far Sideways' gradients are from the exact ones, module by module and tick by tick.

`gradient_agreement` runs one clip twice with the same parameters: Sideways (parameters held
for the clip, every per-tick g_k[t] kept) and bptt on the same graph, and compares them. The
static-clip theorem says they agree (cosine 1 from tick 2(K-1) on) when every frame is the
same image; `static=True` repeats each clip's first frame, the control that isolates what
motion costs.

    report = gradient_agreement(network, task, params, batch)
    report['cosine']            # [K]: window-mean Sideways gradient vs bptt's
    report['tick_cosine']       # [T', K]: each tick's g_k[t] vs bptt's (NaN: no gradient)
"""

import dataclasses
from typing import Dict

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sideways_jax import engine


def _flat(tree):
  leaves = jax.tree.leaves(tree)
  if not leaves:
    return jnp.zeros((0,))
  return jnp.concatenate([jnp.ravel(x) for x in leaves])


def _cosine(a, b):
  return jnp.dot(a, b) / jnp.maximum(jnp.linalg.norm(a) * jnp.linalg.norm(b), 1e-30)


def _frozen_trainers(network, task):
  """Sideways with parameters held over the clip (sgd(0), one window), and bptt.

  bptt runs the network without its local heads (bptt has no heads: it trains the top loss
  only), so with heads the comparison is on the body: where the Sideways update, heads'
  terms included, points against the exact gradient of the top loss.
  """
  hold = optax.sgd(0.)
  sideways = engine.build(network, hold, task, algorithm='sideways', update_every='clip',
                          diagnostics=True)
  bptt = engine.build(dataclasses.replace(network, local_heads=()), hold, task,
                      algorithm='bptt', diagnostics=True)
  return sideways, bptt


_HEAD = 'local_head'  # the name scope of a local head's parameters (Network._transform)


def _body(tree):
  """A module's parameters (or their per-tick gradients) without its local head's."""
  return {name: leaves for name, leaves in tree.items() if _HEAD not in name.split('/')}


def gradient_agreement(network, task, params, batch, *, static: bool = False,
                       weights_only: bool = False) -> Dict[str, np.ndarray]:
  """Sideways vs bptt gradients of every module on `batch` at `params`.

  Args:
    network, task: as for `build`.
    params: the per-module parameters to compare at.
    batch: one batch of clips (frames [B, T, ...], labels, video_ids).
    static: repeat each clip's first frame (the static-clip control).
    weights_only: compare only parameters of rank >= 2 (kernels, not biases or norms),
      which carry the features; biases and scales see mostly the mean gradient.

  Returns:
    numpy arrays: `cosine` [K] (window mean vs bptt), `tick_cosine` [T', K] (NaN where a
    module has no valid gradient), `sideways_norm` / `bptt_norm` [K] (norms of the window
    mean and of bptt's gradient), `activation_rms` [K] and `dead_fraction` [K] (channels
    that are <= 0 at every valid tick, position and example: dead ReLUs), `valid_ticks` [K].
  """
  if static:
    frames = jnp.asarray(batch['frames'])
    batch = dict(batch, frames=jnp.broadcast_to(frames[:, :1], frames.shape))
  sideways, bptt = _frozen_trainers(network, task)
  sw_state = sideways.init(jax.random.PRNGKey(0), batch)._replace(params=params)
  bp_state = bptt.init(jax.random.PRNGKey(0), batch)._replace(
      params=type(params)(_body(p) for p in params))
  _, sw_metrics = sideways.step(sw_state, batch)
  _, bp_metrics = bptt.step(bp_state, batch)
  trace, exact = sw_metrics['trace'], bp_metrics['trace']['grads']
  return jax.device_get(_compare(trace, exact, weights_only))


@jax.jit
def _tick_cos(grads, valid, exact_flat):
  flat = jax.vmap(_flat)(grads)
  cos = jax.vmap(lambda g: _cosine(g, exact_flat))(flat)
  return jnp.where(valid, cos, jnp.nan)


def _kernels(tree, min_ndim):
  """The leaves of rank >= min_ndim (kernels); a tree of no leaves when there are none."""
  return [x for x in jax.tree.leaves(tree) if x.ndim >= min_ndim]


def _compare(trace, exact, weights_only):
  out = {k: [] for k in ('cosine', 'sideways_norm', 'bptt_norm', 'activation_rms',
                         'dead_fraction', 'valid_ticks')}
  tick_cos = []
  for k, tick in enumerate(trace['ticks']):
    grads, exact_k = _body(tick.grads), exact[k]
    if weights_only:  # per-tick grads carry a leading tick axis
      grads, exact_k = _kernels(grads, 3), _kernels(exact_k, 2)
    valid = tick.grads_valid
    count = jnp.maximum(valid.sum(), 1)
    mean = jax.tree.map(lambda g: jnp.tensordot(valid.astype(g.dtype), g, 1) / count, grads)
    exact_flat = _flat(exact_k)
    out['cosine'].append(_cosine(_flat(mean), exact_flat))
    out['sideways_norm'].append(jnp.linalg.norm(_flat(mean)))
    out['bptt_norm'].append(jnp.linalg.norm(exact_flat))
    out['valid_ticks'].append(valid.sum())
    tick_cos.append(_tick_cos(grads, valid, exact_flat))
    act = tick.activation
    value = act.value                                   # [T', B, ...]
    ok = act.valid.reshape((-1,) + (1,) * (value.ndim - 1))
    out['activation_rms'].append(jnp.sqrt(jnp.sum(jnp.where(ok, value ** 2, 0.)) /
                                          jnp.maximum(jnp.sum(ok) * value[0].size, 1)))
    alive = jnp.any(jnp.where(ok, value, -1.) > 0, axis=tuple(range(value.ndim - 1)))
    out['dead_fraction'].append(1. - alive.mean())
  result = {k: jnp.stack(v) for k, v in out.items()}
  result['tick_cosine'] = jnp.stack(tick_cos, axis=1)
  return result
