"""Streaming inference: forward only, one frame in and the top's output out per tick, the
pipeline buffers carried across calls (`stream=True`), nothing trained. On a mesh every
stage runs its own modules' forwards at once on different frames, as in training.

    infer = sj.build(network, optax.identity(), task, algorithm='infer', stream=True)
    state, out = infer.step(state, batch)   # out['outputs'] [B, T, ...], out['valid'] [T]
"""

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax.algorithms import base
from sideways_jax.stage import Carry
from sideways_jax.train_state import Options

MESSAGES = False   # the buffers carry activations only


def step(ex, opts: Options, carry: Carry, batch):
  """The top's output at every tick of the call (valid once the pipeline has filled)."""
  carry = base.start(ex, opts, carry, batch, MESSAGES)
  num_ticks, read = clk.tick_reader(batch)

  def record(stage, activation, targets):
    del stage, targets
    return {'outputs': activation.value, 'valid': activation.valid}

  buffers, recs = base.forward_scan(ex, carry.params, carry.buffers, carry.clock, num_ticks,
                                    read, record)
  outputs = ex.gather_data(ex.sum_stages(recs['outputs']), axis=1)   # [T, B, ...]
  out = {'outputs': jnp.swapaxes(outputs, 0, 1), 'valid': ex.any_stage(recs['valid'])}
  return Carry(carry.params, carry.rest, buffers, carry.clock + num_ticks), out
