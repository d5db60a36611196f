"""The stage interface every algorithm is written against, and its one-device executor.

An algorithm (algorithms/) writes its step once, as a scan whose body alternates between
work done by each stage on its own modules and the few operations that join stages:

    out, shared = ex.run(fn, {'params': ..., 'buffers': ...}, *args)
        fn(stage, local, *args) -> (local outputs by kind, shared outputs): the work of
        one stage on its modules. `local` holds per-stage state by kind: 'params' and
        'grads' (a tuple over `stage.modules`), 'rest' ((optimizer state, `Window`) of
        those modules), 'buffers' (the stage's pipeline buffers). Shared values (tick
        inputs, scalars, [K] vectors, metric dicts) are the same on every stage; where
        stages give different metric keys, each stage's dict is filled out with zeros.
    ex.exchange(buffers)        what stages sent each other this tick, for the next one
    ex.sum_data(tree)           gradients summed over the batch split
    ex.total(count)             a count over the whole batch (loss normalisers)
    ex.any_stage(x)             a flag (or [.., K] flags) raised on any stage
    ex.sum_metrics(sums)        per-stage, per-shard metric sums joined
    ex.sum_stages(x)            a value one stage holds (zeros on the others), on every stage
    ex.gather_data(x, axis)     a batch-split value whole again (its batch axis `axis`)
    ex.empty_buffers(frame, m)  every stage's buffers empty (m: with gradient messages)
    ex.clock                    the clock outside a stage (task, graph, frozen modules)
    ex.splits_data              whether the batch is split (a count must be joined first)

`LocalExecutor` here is one stage holding every module, with identity collectives: the
`LocalRouter` already writes next tick's buffers, and nothing is packed, so a step costs
what its algorithm costs. The mesh executor (mesh/) runs the same bodies under
`shard_map`.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sideways_jax import clock as clk


class Stage(NamedTuple):
  """What one stage's part of a step sees: its modules and its clock (router, frozen)."""
  modules: tuple
  clock: clk.Clock

  @property
  def num_modules(self) -> int:
    return self.clock.network.num_modules

  @property
  def has_top(self) -> bool:
    return self.num_modules in self.modules

  def spread(self, values, dtype=bool):
    """A [K] vector of this stage's per-module `values` (zero / False elsewhere)."""
    values = jnp.asarray(values)
    if self.modules == tuple(range(1, self.num_modules + 1)):
      return values.astype(dtype)
    out = jnp.zeros((self.num_modules,), dtype)
    return out.at[np.array(self.modules) - 1].set(values.astype(dtype)) if self.modules else out


class Carry(NamedTuple):
  """A step's state as an algorithm sees it (per stage; packed on a mesh)."""
  params: Any          # a tuple over the stage's modules
  rest: Any            # (optimizer state, Window) of those modules
  buffers: Any         # the pipeline buffers carried between steps, or None
  clock: jax.Array     # int32: ticks since the clip / stream began


def identity(x):
  return x


class LocalExecutor:
  """Every module on one device: one stage, identity collectives, no packing."""
  splits_data = False

  def __init__(self, clock: clk.Clock):
    self.clock = clock
    self.stage = Stage(tuple(range(1, clock.network.num_modules + 1)), clock)

  def run(self, fn, local, *shared):
    return fn(self.stage, local, *shared)

  exchange = sum_data = total = any_stage = sum_metrics = sum_stages = staticmethod(identity)

  @staticmethod
  def gather_data(x, axis):
    del axis
    return x

  def empty_buffers(self, frame, with_messages: bool):
    return self.clock.router.empty(frame, with_messages)
