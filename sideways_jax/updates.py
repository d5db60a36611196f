"""Update schedules: per-module gradient windows of `update_every` ticks, any optax optimizer.

Ticks are grouped into windows of N counted from tick 0 of the clip (or stream). In each
window a module averages its valid g_k and applies one optimizer step at the window's end;
with no valid gradient in the window it takes no step and its optimizer state is untouched.
"""

from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax


class Window(NamedTuple):
  """Per-module gradient sums and counts of the current window."""
  grad_sum: tuple
  count: jax.Array  # int32 [K]


def empty_window(params) -> Window:
  return Window(jax.tree.map(jnp.zeros_like, params), jnp.zeros((len(params),), jnp.int32))


def per_module(optimizer, num_modules: int) -> tuple:
  """One optax transformation per module (one given for all, or a sequence of K)."""
  if isinstance(optimizer, optax.GradientTransformation):
    return (optimizer,) * num_modules
  optimizer = tuple(optimizer)
  if len(optimizer) != num_modules:
    raise ValueError(f'Got {len(optimizer)} optimizers for {num_modules} modules; give one '
                     'optax transformation, or one per module.')
  return optimizer


def accumulate(window: Window, grads: Sequence, valid: Sequence) -> Window:
  """Adds this tick's valid gradients to the window."""
  grad_sum = tuple(
      jax.tree.map(lambda s, g, v=v: s + jnp.where(v, g, jnp.zeros_like(g)), s_k, g_k)
      for s_k, g_k, v in zip(window.grad_sum, grads, valid))
  return Window(grad_sum, window.count + jnp.stack(valid).astype(jnp.int32))


def close_window(optimizers, params, opt_state, window: Window, window_end):
  """At a window's end, each module with a valid, finite gradient takes one optimizer step.

  A module whose window gradient holds a NaN or an infinity takes no step (its params and
  optimizer state stay as they were) and is reported in `nonfinite`, so one bad batch never
  reaches the parameters.

  Returns:
    (params, opt_state, window, stepped[K] bool, nonfinite[K] bool).
  """
  new_params, new_opt, stepped, nonfinite = [], [], [], []
  for k, opt in enumerate(optimizers):
    has_grad = window_end & (window.count[k] > 0)
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g))
                                for g in jax.tree.leaves(window.grad_sum[k])] or
                               [jnp.array(True)]))
    take = has_grad & finite

    def apply(args, opt=opt, k=k):
      p, s = args
      g = jax.tree.map(lambda x: x / window.count[k].astype(x.dtype), window.grad_sum[k])
      updates, s = opt.update(g, s, p)
      return optax.apply_updates(p, updates), s

    p, s = jax.lax.cond(take, apply, lambda args: args, (params[k], opt_state[k]))
    new_params.append(p)
    new_opt.append(s)
    stepped.append(take)
    nonfinite.append(has_grad & ~finite)
  reset = window_end
  window = Window(
      tuple(jax.tree.map(lambda x: jnp.where(reset, jnp.zeros_like(x), x), g)
            for g in window.grad_sum),
      jnp.where(reset, 0, window.count))
  return tuple(new_params), tuple(new_opt), window, jnp.stack(stepped), jnp.stack(nonfinite)


def first_nonfinite(nonfinite, ticks):
  """(module 1..K, tick) of the first non-finite window gradient, or (0, -1) if none.

  Args:
    nonfinite: bool [N, K], per closed window (or tick) and module.
    ticks: int32 [N], the tick each row closed at.
  """
  flat = nonfinite.reshape(-1)
  any_bad = jnp.any(flat)
  first = jnp.argmax(flat)
  num_modules = nonfinite.shape[-1]
  module = jnp.where(any_bad, first % num_modules + 1, 0)
  tick = jnp.where(any_bad, ticks[first // num_modules], -1)
  return module.astype(jnp.int32), tick.astype(jnp.int32)


class ParamEmaState(NamedTuple):
  """`with_param_ema`'s state: the wrapped optimizer's, and the running average."""
  inner: Any
  ema: Any           # decay-weighted sum of the parameters after each step (biased to 0)
  count: jax.Array   # int32: steps averaged


def with_param_ema(optimizer: optax.GradientTransformation,
                   decay: float) -> optax.GradientTransformation:
  """`optimizer`, also keeping an exponential moving average of the parameters it makes.

  After each step the average moves towards the new parameters, ema <- decay * ema +
  (1 - decay) * params, starting from zero; `averaged_params` divides out the start
  (1 - decay**count, as Adam's moments do). The update itself is `optimizer`'s, unchanged:
  training follows the same trajectory with or without the average, which only changes
  the parameters an evaluation reads (Polyak averaging). Needs `params` in `update`.
  """
  if not 0. < decay < 1.:
    raise ValueError(f'decay={decay}: give a parameter average decay in (0, 1), e.g. 0.99.')

  def init(params):
    return ParamEmaState(optimizer.init(params), jax.tree.map(jnp.zeros_like, params),
                         jnp.zeros([], jnp.int32))

  def update(grads, state, params=None):
    if params is None:
      raise ValueError('with_param_ema needs the parameters in update(grads, state, params).')
    updates, inner = optimizer.update(grads, state.inner, params)
    new = optax.apply_updates(params, updates)
    ema = jax.tree.map(lambda e, p: decay * e + (1. - decay) * p, state.ema, new)
    return updates, ParamEmaState(inner, ema, state.count + 1)

  return optax.GradientTransformation(init, update)


def averaged_params(params: Sequence, opt_state: Sequence, decay: float) -> tuple:
  """Per module: the bias-corrected parameter average of a `with_param_ema` optimizer
  state, or the module's parameters where it has none or has not stepped yet (a frozen
  module, or step 0)."""
  out = []
  for p, s in zip(params, opt_state):
    if not isinstance(s, ParamEmaState):
      out.append(p)
      continue
    correction = 1. - jnp.float32(decay) ** s.count.astype(jnp.float32)
    out.append(jax.tree.map(
        lambda e, x: jnp.where(s.count > 0, e / jnp.maximum(correction, 1e-12), x).astype(
            x.dtype), s.ema, p))
  return tuple(out)
