"""The Sideways tick of SIDEWAYS.md: one module's forward, VJP and outgoing messages.

At tick t module k reads only buffers written before t (see routing.py for how they get
there), and does, at its current input u_k[t]:

    a_k[t]     = H_k(u_k[t]; theta_k)                         (forward)
    delta_k[t] = sum of messages its consumers sent at t-1     (or dl_t/da_K[t] at the top)
    g_k[t]     = (dH_k/dtheta_k at u_k[t])^T delta_k[t]        (parameter gradient)
    e_{k->j}[t] = (dH_k/du_j at u_k[t])^T delta_k[t]           (arrives at j at t+1)

Nothing here knows where modules are placed or how messages travel.
"""

from typing import Callable, NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp


class Activation(NamedTuple):
  """A buffer entry: an activation and the metadata that travels with it.

  `valid` is structural (every input read was valid); frame indices count ticks of the
  clock; `video_min`/`video_max` are the smallest/largest video id among the frames mixed
  (equal iff they all come from one video); `label` is the label of the main-path frame.
  """
  value: jax.Array      # [B, ...]
  valid: jax.Array      # bool []
  oldest: jax.Array     # int32 []: oldest frame index mixed
  newest: jax.Array     # int32 []: newest frame index mixed
  video_min: jax.Array  # int32 [B]
  video_max: jax.Array  # int32 [B]
  label: jax.Array      # int32 [B]

  def single_video(self):
    return self.video_min == self.video_max


class GradMessage(NamedTuple):
  """A gradient message e_{k->j}: its value, validity, and whether it carries any loss."""
  value: jax.Array
  valid: jax.Array     # bool []: every message summed into the sender's delta was valid
  has_loss: jax.Array  # bool []: some loss term contributed (zero-loss ticks send valid zeros)


class ModuleTick(NamedTuple):
  """What module k produces at one tick."""
  activation: Activation           # a_k[t] with merged metadata
  grads: object                    # g_k[t] (pytree like theta_k; zeros when not valid)
  grads_valid: jax.Array           # bool []: g_k[t] is a real gradient to accumulate
  messages: Tuple[GradMessage, ...]  # e_{k->source} for each input edge, in edge order
  loss: object = None              # LossTerms of the top's loss, or of a local head's
  head: Optional[Activation] = None  # a local head's output h_k[t] (with a_k's metadata)


def merge_metadata(inputs: Sequence[Activation], value) -> Activation:
  """Metadata of u_k = C_k(inputs): valid iff all are; frame range and video ids span all."""
  main = inputs[0]
  return Activation(
      value=value,
      valid=jnp.all(jnp.stack([a.valid for a in inputs])),
      oldest=jnp.min(jnp.stack([a.oldest for a in inputs])),
      newest=jnp.max(jnp.stack([a.newest for a in inputs])),
      video_min=jnp.min(jnp.stack([a.video_min for a in inputs]), axis=0),
      video_max=jnp.max(jnp.stack([a.video_max for a in inputs]), axis=0),
      label=main.label)


def sum_messages(messages: Sequence[GradMessage]) -> GradMessage:
  """delta_k[t]: the sum of what every consumer sent at t-1; valid iff every one is."""
  return GradMessage(
      value=sum((m.value for m in messages[1:]), messages[0].value),
      valid=jnp.all(jnp.stack([m.valid for m in messages])),
      has_loss=jnp.any(jnp.stack([m.has_loss for m in messages])))


def no_message(value) -> GradMessage:
  """The message a module sends along an edge whose source never reads it: an invalid
  zero that carries no loss."""
  no = jnp.array(False)
  return GradMessage(jnp.zeros_like(value), no, no)


def _zero_where_invalid(tree, ok):
  return jax.tree.map(lambda x: jnp.where(ok, x, jnp.zeros_like(x)), tree)


def module_tick(apply_fn: Callable, params, inputs: Sequence[Activation],
                delta_fn: Callable, sends: Optional[Sequence[bool]] = None,
                local_delta: Optional[Callable] = None) -> ModuleTick:
  """One module, one tick: forward at u_k[t], then the VJP of delta_k[t] at the same u_k[t].

  Args:
    apply_fn: `apply(params, main, *skips) -> a_k` (C_k then H_k); with `local_delta`,
      `-> (a_k, h_k)`, where h_k is the module's local head's output.
    params: theta_k.
    inputs: the buffers module k reads this tick (main edge first, then skips).
    delta_fn: given a_k[t] (with metadata), returns (delta_k[t], loss or None). For a
      lower module it ignores the argument and returns the summed incoming messages; for
      the top module it is `top_delta`: dl_t/da_K[t] needs the top's own fresh output.
    sends: per input, whether its source reads the message e_{k->source} (default: all).
      A frozen source never does, so its message is not computed: an invalid zero, as a
      frozen module's own messages are (no input-gradient VJP for it).
    local_delta: a local head's loss (`top_delta` of the head's loss, weighted): given
      h_k[t] with a_k[t]'s metadata, returns (w * dl^k_t/dh_k[t], loss terms). Its
      gradient is fresh (it refers to this tick's output) and joins the VJP at the same
      u_k[t]. Validity stays delta_k[t]'s: before the top's messages arrive the module
      takes no gradient, so a static clip still gives backprop's gradient of the summed
      losses (the static-clip theorem).

  Returns:
    A `ModuleTick`. Gradients and messages are zero, and flagged, when not valid. With a
    local head, `loss` holds the head's loss terms and `head` its output.
  """
  values = tuple(a.value for a in inputs)
  sends = (True,) * len(values) if sends is None else tuple(sends)

  def forward(p, sent):
    sent = iter(sent)
    return apply_fn(p, *(next(sent) if s else v for v, s in zip(values, sends)))

  out, vjp = jax.vjp(forward, params, tuple(v for v, s in zip(values, sends) if s))
  if local_delta is not None:
    out, head = out
  activation = merge_metadata(inputs, out)
  delta, loss = delta_fn(activation)
  ok = delta.valid & activation.valid
  cotangent = jnp.where(ok, delta.value, jnp.zeros_like(delta.value))
  has_loss = ok & delta.has_loss
  if local_delta is not None:  # delta_k[t] plus the local head's fresh gradient
    head = activation._replace(value=head)
    local, loss = local_delta(head)
    local_ok = ok & local.valid & local.has_loss
    cotangent = (cotangent, jnp.where(local_ok, local.value, jnp.zeros_like(local.value)))
    has_loss = has_loss | local_ok
  grads, input_grads = vjp(cotangent)
  input_grads = iter(input_grads)
  messages = tuple(GradMessage(next(input_grads), ok, has_loss) if s else
                   no_message(v) for v, s in zip(values, sends))
  return ModuleTick(activation, _zero_where_invalid(grads, ok), has_loss, messages, loss,
                    head if local_delta is not None else None)


def frozen_tick(apply_fn: Callable, params, inputs: Sequence[Activation],
                value=None) -> ModuleTick:
  """A frozen module's tick: its forward only. It takes no step, so it needs no gradient,
  and nothing below it trains (frozen modules are the lowest ones), so it sends none: its
  messages are invalid zeros. `value`, when given, is its output, computed before
  (`clock.frozen_stream`): the forward is then not run."""
  out = apply_fn(params, *(a.value for a in inputs)) if value is None else value
  activation = merge_metadata(inputs, out)
  messages = tuple(no_message(a.value) for a in inputs)
  return ModuleTick(activation, jax.tree.map(jnp.zeros_like, params), jnp.array(False),
                    messages, None)


def from_messages(messages: Sequence[GradMessage]) -> Callable:
  """delta_fn of a lower module: the sum of its incoming messages."""
  delta = sum_messages(messages)
  return lambda activation: (delta, None)


class LossTerms(NamedTuple):
  """The loss at one tick: per-example loss and the mask of examples it is taken on."""
  value: jax.Array       # [] mean over masked examples (0 when none)
  per_example: jax.Array  # [B]
  mask: jax.Array        # bool [B]: valid, single-video, with a target, loss enabled


def top_delta(loss_terms: Callable[[Activation], Tuple[jax.Array, jax.Array]],
              total: Callable = lambda x: x) -> Callable:
  """delta_fn of the top module: delta_K[t] = dl_t/da_K[t].

  Args:
    loss_terms: `(a_K with metadata) -> (per-example loss [B], mask [B])`; the mask says
      which outputs the loss is taken on (single-video, with a target).
    total: sums a count over every part of the batch; the identity on one device, a sum
      over the data axis when the batch is split (so the loss is the mean over the whole
      batch, as on one device).

  The loss at tick t is the mean over masked examples. A tick with no such example sends
  valid zeros that carry no loss, so warm-up validity stays structural.
  """

  def delta_fn(activation: Activation):
    def loss(out):
      per_example, mask = loss_terms(activation._replace(value=out))
      mask = mask & activation.valid
      count = total(jnp.sum(mask).astype(per_example.dtype))
      value = jnp.sum(jnp.where(mask, per_example, 0.)) / jnp.maximum(count, 1)
      return value, LossTerms(value, per_example, mask)
    grad, terms = jax.grad(loss, has_aux=True)(activation.value)
    has_loss = total(jnp.sum(terms.mask).astype(jnp.int32)) > 0
    return GradMessage(grad, activation.valid, has_loss), terms

  return delta_fn


def local_head_delta(loss_terms: Callable, weight: float, total: Callable = lambda x: x):
  """`local_delta` of a module with a local head: `weight` * dl^k_t/dh_k[t], where l^k_t is
  the task's loss on the head's output h_k[t] (as `top_delta` takes it on a_K[t])."""
  delta_fn = top_delta(loss_terms, total)

  def local_delta(head: Activation):
    message, terms = delta_fn(head)
    return message._replace(value=weight * message.value), terms

  return local_delta
