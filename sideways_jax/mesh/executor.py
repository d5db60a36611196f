"""The mesh executor: an algorithm's step (algorithms/) as one jitted `shard_map` over the
(stage, data) mesh, one `lax.scan` over ticks, with no algorithm imported here.

Every device runs its stage's part of each `run` (`lax.switch` on its stage index; each
branch unpacks its stage's packed state, plan.py), and between runs the collectives the
algorithm asks for: `psum` of gradients and counts over the data axis, `ppermute` of what
stages sent each other (activations up, gradient messages down, one per link). Collectives
never sit inside a branch. Parameters and optimizer state stay packed on their devices
between steps. With a data axis the batch is split over it; the algorithms normalise the
loss by the whole batch's count, so the numbers equal the single-device engine's.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from sideways_jax.mesh import transfer
from sideways_jax.mesh.plan import Plan
from sideways_jax.placement import DATA, STAGE, Placement
from sideways_jax.stage import Carry
from sideways_jax.train_state import Options, check_batch


def _switch(stage, branches, *args):
  return branches[0](*args) if len(branches) == 1 else jax.lax.switch(stage, branches, *args)


def _union(trees):
  """The shapes every stage's shared output fits: dicts hold every stage's keys."""
  first = trees[0]
  if isinstance(first, dict):
    keys = {}
    for tree in trees:
      keys.update(dict.fromkeys(tree))
    return {k: _union([t[k] for t in trees if k in t]) for k in keys}
  if isinstance(first, (tuple, list)) and not hasattr(first, '_fields'):
    return type(first)(_union([t[i] for t in trees]) for i in range(len(first)))
  return first


def _fill(tree, template):
  """`tree` with the keys it lacks of `template` filled with zeros."""
  if isinstance(template, dict):
    return {k: _fill(tree[k], v) if k in tree else
            jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), v)
            for k, v in template.items()}
  if isinstance(template, (tuple, list)) and not hasattr(template, '_fields'):
    return type(template)(_fill(t, v) for t, v in zip(tree, template))
  return tree


class MeshExecutor:
  """The stage interface (stage.py) on one device of the mesh, inside `shard_map`."""

  def __init__(self, plan: Plan, num_data: int):
    self.plan, self.splits_data = plan, num_data > 1
    self.clock = plan.stages[plan.placement.stages[plan.top - 1]].clock

  def run(self, fn, local, *shared):
    plan = self.plan

    def branch(s):
      def call(vecs, shared):
        trees = {kind: plan.unpack(kind, s, v) for kind, v in vecs.items()}
        out, extra = fn(plan.stages[s], trees, *shared)
        return {kind: plan.pack(kind, s, t) for kind, t in out.items()}, extra
      return call

    branches = [branch(s) for s in range(plan.num)]
    if plan.num > 1:
      template = _union([jax.eval_shape(b, local, shared)[1] for b in branches])
      branches = [lambda v, sh, b=b: (lambda out: (out[0], _fill(out[1], template)))(b(v, sh))
                  for b in branches]
    return _switch(jax.lax.axis_index(STAGE), branches, local, shared)

  def exchange(self, buffers):
    return self.plan.exchange(buffers)

  def sum_data(self, tree):
    return jax.lax.psum(tree, DATA) if self.splits_data else tree

  def total(self, count):
    return jax.lax.psum(jax.lax.stop_gradient(count), DATA) if self.splits_data else count

  def any_stage(self, x):
    return jax.lax.psum(jnp.asarray(x).astype(jnp.int32), STAGE) > 0

  def sum_metrics(self, sums):
    return jax.lax.psum(sums, (STAGE, DATA))

  def sum_stages(self, x):
    return jax.lax.psum(x, STAGE)

  def gather_data(self, x, axis):
    return jax.lax.all_gather(x, DATA, axis=axis, tiled=True) if self.splits_data else x

  def empty_buffers(self, frame, with_messages: bool):
    del frame, with_messages  # the plan's
    return _switch(jax.lax.axis_index(STAGE),
                   [self.plan.empty_branch(s) for s in range(self.plan.num)])


def build(clock, step_fn, with_messages, opts: Options, placement: Placement, *,
          local_init, local_evaluate, local_empty):
  """The placed trainer's functions for an algorithm's `step_fn` (`with_messages`: its
  `MESSAGES`) on `placement`: a dict of init, step, evaluate, place, unplace, lower."""
  network = clock.network
  mesh, num_data = placement.mesh, placement.num_data
  stream = not opts.reset
  spec = P(STAGE, DATA)
  plans, compiled, checked = {}, {}, set()

  def plan_for(frame_shape, dtype):
    key = (tuple(frame_shape), jnp.dtype(dtype).name)
    if key not in plans:
      frame = jax.ShapeDtypeStruct(tuple(frame_shape), dtype)
      params = jax.eval_shape(lambda f: network.init(jax.random.PRNGKey(0), f), frame)
      plans[key] = Plan(clock, placement, opts.optimizers, with_messages is True, params,
                        frame)
    return plans[key]

  moves = transfer.Transfer(plan_for, mesh, num_data, stream, local_empty)

  def function_for(plan, batch):
    key = (id(plan), str(jax.tree.map(lambda x: (x.shape, x.dtype), batch)))
    if key not in compiled:
      def per_device(params, rest, buffers, inbox, clock0, batch):
        squeeze = lambda t: None if t is None else jax.tree.map(lambda x: x[0, 0], t)
        carried = None if buffers is None else (squeeze(buffers), squeeze(inbox))
        carry, metrics = step_fn(MeshExecutor(plan, num_data), opts,
                                 Carry(squeeze(params), squeeze(rest), carried, clock0), batch)
        unsqueeze = lambda t: jax.tree.map(lambda x: x[None, None], t)
        buffers = inbox = None
        if stream:
          buffers, inbox = unsqueeze(carry.buffers[0]), unsqueeze(carry.buffers[1])
        return (unsqueeze(carry.params), unsqueeze(carry.rest), buffers, inbox, carry.clock,
                metrics)

      compiled[key] = jax.jit(jax.shard_map(
          per_device, mesh=mesh, in_specs=(spec, spec, spec, spec, P(), P(DATA)),
          out_specs=(spec, spec, spec, spec, P(), P()), check_vma=False))
    return compiled[key]

  def local_frame(batch):
    shape = tuple(batch['frames'].shape)
    if shape[0] % num_data:
      raise ValueError(f'frames have batch size {shape[0]}, which does not split over '
                       f'data={num_data} devices; use a multiple of {num_data}.')
    return (shape[0] // num_data,) + shape[2:], batch['frames'].dtype

  def prepare(state, batch):
    if isinstance(batch, dict) and 'frozen_values' in batch:
      raise ValueError("batch['frozen_values'] is a one-device speed-up: the placed engine "
                       'runs the frozen modules on their own stage. Leave the key out.')
    plan = plan_for(*local_frame(batch))
    for key, size in plan.param_sizes.items():
      if key not in state.params or state.params[key].shape[-1] != size:
        raise ValueError(
            f'frames have shape {tuple(batch["frames"].shape)}: the parameters were '
            'initialised for another frame shape [H, W, C]. Re-initialise (trainer.init) '
            'for a new frame shape.')
    signature = str(jax.tree.map(lambda x: (np.shape(x), str(getattr(x, 'dtype', ''))),
                                 {k: batch.get(k) for k in ('frames', 'labels', 'video_ids')}))
    if signature not in checked:  # shapes and keys: once per signature (it traces init)
      check_batch(network, plan.abstract_params, batch)
      checked.add(signature)
    global_batch = {k: transfer.global_array(mesh, P(DATA), np.asarray(jax.device_get(batch[k])))
                    for k in ('frames', 'labels', 'video_ids')}
    args = (state.params, state.rest, state.buffers if stream else None,
            state.inbox if stream else None, state.clock, global_batch)
    return function_for(plan, global_batch), args

  def step(state, batch):
    fn, args = prepare(state, batch)
    params, rest, buffers, inbox, clock_, metrics = fn(*args)
    metrics = jax.tree.map(lambda x: x.addressable_data(0), metrics)
    return transfer.PlacedState(params, rest, buffers, inbox, state.frame_shape, clock_,
                                state.step + 1), metrics

  def lower(state, batch):
    fn, args = prepare(state, batch)
    return fn.lower(*args)

  def init(rng, batch):
    local_frame(batch)
    return moves.place(local_init(rng, batch), tuple(batch['frames'][:, 0].shape))

  def evaluate(params_or_state, batch):
    state = moves.unplace(params_or_state)
    return local_evaluate(getattr(state, 'params', state), batch)

  return dict(init=init, step=step, evaluate=evaluate, place=moves.place,
              unplace=moves.unplace, lower=lower)
