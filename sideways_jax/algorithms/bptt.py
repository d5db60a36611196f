"""bptt: the exact gradient of the clip's mean loss through the unrolled frame clock (same
skips, same delays), parameters fixed over the clip, one update per clip (SIDEWAYS.md).
On a mesh `jax.grad` through the placed scan sends cotangents back down the stages."""

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax.algorithms import base
from sideways_jax.stage import Carry
from sideways_jax.train_state import Options

MESSAGES = False   # the buffers (a stream's) carry activations only


def loss_from(total, sums):
  """bptt's loss from the per-tick metric sums: the mean over every valid output."""
  sums = jax.tree.map(jnp.sum, sums)
  return sums['loss'] / jnp.maximum(total(sums['count']), 1.), sums


def step(ex, opts: Options, carry: Carry, batch):
  """The exact gradient of the mean loss of the clip through the unrolled frame clock."""
  carry = base.start(ex, opts, carry, batch, MESSAGES)
  num_ticks, read = clk.tick_reader(batch)
  clk.check_frozen_values(ex.clock, batch, num_ticks)
  buffers = jax.lax.stop_gradient(carry.buffers)

  def loss_fn(params):
    buffers_out, sums = base.forward_scan(ex, params, buffers, carry.clock, num_ticks, read,
                                          base.loss_record)
    loss, sums = loss_from(ex.total, sums)
    return loss, (sums, buffers_out)

  grads, (sums, buffers) = jax.grad(loss_fn, has_aux=True)(carry.params)
  has_loss = ex.any_stage(ex.total(sums['count']) > 0)
  params, rest, trace = base.one_window(ex, opts, carry, ex.sum_data(grads), has_loss)
  if opts.diagnostics:
    trace['grads'] = grads
  return (Carry(params, rest, buffers, carry.clock + num_ticks),
          base.finish(ex, opts, sums, trace))
