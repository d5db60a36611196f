"""The placed step: one jitted `shard_map` over the mesh, one `lax.scan` over ticks.

Every device runs the tick of its own modules only (`lax.switch` on its stage index; each
branch unpacks its stage's packed state, packing.py), then `ppermute` moves what it sent
(activations up, gradient messages down, one collective per distance) into the other
stages' inboxes for the next tick. Parameters and optimizer state stay packed on their
devices between steps. With a data axis the batch is split over it, each module's gradient
is summed over it before the update, and the top's loss is normalised by the count of the
whole batch, so the numbers equal the single-device engine's.

Collectives never sit inside a branch: a Sideways tick is branch (compute) -> psum over
data -> branch (update) -> ppermute. bptt and gpipe differentiate the whole placed scan
(`jax.grad` through `ppermute` sends cotangents back down the stages).
"""

import functools
from typing import Any, Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding, PartitionSpec as P

from sideways_jax import baselines
from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax import sideways as sw
from sideways_jax import sideways_step
from sideways_jax import updates
from sideways_jax.packing import Layout, common_sizes
from sideways_jax.placement import DATA, STAGE, Placement, StageRouter
from sideways_jax.train_state import Options, TrainState, check_batch


class PlacedState(NamedTuple):
  """Training state resident on the mesh. Each packed leaf is [S, D, N]; block (s, d) lives
  on device (s, d) and holds stage s's modules only (replicated over d)."""
  params: Dict[str, jax.Array]          # dtype -> [S, D, N]: theta of the stage's modules
  rest: Dict[str, jax.Array]            # optimizer state and update window
  buffers: Optional[Dict[str, jax.Array]]  # pipeline buffers carried by a stream
  inbox: Optional[Dict[str, Dict[str, jax.Array]]]  # inboxes carried by a stream
  frame_shape: jax.Array                # int32 [ndim]: the frame batch [B, H, W, C]
  clock: jax.Array
  step: jax.Array


def _name(link):
  return '_'.join(str(part) for part in link)


def _switch(stage, branches, *args):
  return branches[0](*args) if len(branches) == 1 else jax.lax.switch(stage, branches, *args)


def _on_stage(values, num_modules, modules, dtype=bool):
  """A [K] vector holding this stage's per-module values (zero / False elsewhere)."""
  out = jnp.zeros((num_modules,), dtype)
  return out.at[np.array(modules) - 1].set(values.astype(dtype)) if modules else out


class _Plan:
  """Static per-stage tables for one frame shape: routers, clocks, packing layouts."""

  def __init__(self, network, task, graph, history, placement: Placement, opts: Options,
               with_messages: bool, params, frame, frozen=frozenset()):
    self.network, self.placement, self.opts = network, placement, opts
    self.abstract_params = params
    self.num, self.top = placement.num_stages, network.num_modules
    self.with_messages = with_messages
    output_shapes = lambda f: network.output_shapes(f.shape, f.dtype)
    frame_fifo = max(graph.fifo_length(0), history - 1)
    self.routers = [StageRouter(graph, placement.stages, s, output_shapes, frame_fifo)
                    for s in range(self.num)]
    fns = network.apply_fns()
    self.clocks = [clk.Clock(network, graph, fns, task, r, history, frozen=frozen,
                             local_fns=network.local_head_fns())
                   for r in self.routers]
    self.frozen = frozen
    self.modules = [r.modules for r in self.routers]
    # Parameters, and optimizer state + window, of every stage.
    opt_state = jax.eval_shape(lambda: [o.init(p) for o, p in zip(opts.optimizers, params)])
    self.param_layouts = [Layout(tuple(params[k - 1] for k in mods)) for mods in self.modules]
    self.rest_layouts = [Layout((tuple(opt_state[k - 1] for k in mods),
                                 updates.empty_window(tuple(params[k - 1] for k in mods))))
                         for mods in self.modules]
    self.param_sizes = common_sizes(self.param_layouts)
    self.rest_sizes = common_sizes(self.rest_layouts)
    # Buffers (without inbox) of every stage, and every link: (direction, distance m,
    # sender), one for each pair of stages one of which sends the other something.
    self.frame = frame
    self.buffer_layouts = []
    for router in self.routers:
      empty = jax.eval_shape(lambda r=router: r.empty(frame, with_messages))
      empty.pop('inbox')
      self.buffer_layouts.append(Layout(empty))
    self.buffer_sizes = common_sizes(self.buffer_layouts)
    self.links, self.link_layouts = [], {}
    for sender, router in enumerate(self.routers):
      for direction, m in router.keys():
        if not 0 <= self.receiver((direction, m, sender)) < self.num:
          continue
        tree = jax.eval_shape(lambda r=router, key=(direction, m): r.outbox_tree(
            frame, key, with_messages))
        if jax.tree.leaves(tree):
          link = (direction, m, sender)
          self.links.append(link)
          self.link_layouts[link] = Layout(tree)
    # Each link's vector has exactly its sender's size: ppermute moves no padding.
    self.link_sizes = {link: common_sizes([self.link_layouts[link]]) for link in self.links}

  @staticmethod
  def receiver(link):
    direction, m, sender = link
    return sender + m if direction == 'up' else sender - m

  # -- packing of one stage's state ----------------------------------------------------

  def unpack_buffers(self, s, buffer_vecs, inbox_vecs):
    buffers = self.buffer_layouts[s].unpack(buffer_vecs)
    buffers['inbox'] = {link[:2]: self.link_layouts[link].unpack(inbox_vecs[_name(link)])
                        for link in self.links if self.receiver(link) == s}
    return buffers

  def pack_buffers(self, s, buffers):
    outbox = buffers.pop('outbox')
    empty = Layout({})
    return (self.buffer_layouts[s].pack(buffers, self.buffer_sizes),
            {_name(link): (self.link_layouts[link].pack(outbox[link[:2]], self.link_sizes[link])
                           if link[2] == s else empty.pack({}, self.link_sizes[link]))
             for link in self.links})

  def empty_branch(self, s):
    def branch():
      empty = self.routers[s].empty(self.frame, self.with_messages)
      empty.pop('inbox')
      vecs = {}
      for link in self.links:
        if self.receiver(link) == s:
          tree = self.routers[link[2]].outbox_tree(self.frame, link[:2], self.with_messages)
          vecs[_name(link)] = self.link_layouts[link].pack(tree, self.link_sizes[link])
        else:
          vecs[_name(link)] = Layout({}).pack({}, self.link_sizes[link])
      return self.buffer_layouts[s].pack(empty, self.buffer_sizes), vecs
    return branch

  def exchange(self, outbox):
    """One ppermute per link, sender to receiver: the inboxes of the next tick."""
    return {_name(link): jax.tree.map(functools.partial(
        jax.lax.ppermute, axis_name=STAGE, perm=[(link[2], self.receiver(link))]),
                                      outbox[_name(link)])
            for link in self.links}

  def window_branch(self, s):
    """One optimizer step of stage s's modules with the clip's gradient (bptt, gpipe)."""
    mods = self.modules[s]
    def branch(param_vecs, rest_vecs, grad_vecs, has_loss):
      params = self.param_layouts[s].unpack(param_vecs)
      opt_state, _ = self.rest_layouts[s].unpack(rest_vecs)
      grads = self.param_layouts[s].unpack(grad_vecs)
      window = updates.accumulate(updates.empty_window(params), grads,
                                  [has_loss & (k not in self.frozen) for k in mods])
      params, opt_state, window, _, nonfinite = updates.close_window(
          [self.opts.optimizers[k - 1] for k in mods], params, opt_state, window,
          jnp.array(True))
      return (self.param_layouts[s].pack(params, self.param_sizes),
              self.rest_layouts[s].pack((opt_state, window), self.rest_sizes),
              _on_stage(nonfinite, self.top, mods))
    return branch


def _with_last(branch, replacement):
  """`branch` with its last output replaced (stages without the top return zero records)."""
  if replacement is None:
    return branch
  def wrapped(*args):
    return branch(*args)[:-1] + (replacement,)
  return wrapped


def _with_sums(branch, zero_sums):
  """`branch` with its last output, a dict of metric sums, filled out to every key of
  `zero_sums` (each stage sums its own modules' metrics; every branch returns the same
  shapes)."""
  def wrapped(*args):
    *rest, sums = branch(*args)
    return (*rest, {k: sums.get(k, z) for k, z in zero_sums.items()})
  return wrapped


def _top_count(plan: _Plan, s, buffers, frame_act, x):
  """How many examples the top's loss is taken on this tick (from metadata only), so a
  split batch can be normalised by the whole batch's count."""
  clock, top = plan.clocks[s], plan.top
  inputs = clock.router.read_inputs(buffers, top, frame_act)
  out = plan.network.output_shapes(x.frame.shape, x.frame.dtype)[-1]
  act = sw.merge_metadata(inputs, jnp.zeros(out.shape, out.dtype))
  targets = clk.targets_for(clock.history, clock.router.past_frames(buffers), frame_act,
                            x.loss_on)
  _, mask = clock.task.loss_terms(act, targets)
  return jnp.sum(mask & act.valid).astype(jnp.int32)


def _sideways_device(plan: _Plan, reset: bool, drain: bool, num_data: int):
  """The per-device body of the placed Sideways step."""
  opts, num = plan.opts, plan.num

  def compute_branch(s):
    mods = plan.modules[s]
    def branch(param_vecs, buffer_vecs, inbox_vecs, x, first_frame, count):
      params = dict(zip(mods, plan.param_layouts[s].unpack(param_vecs)))
      buffers = plan.unpack_buffers(s, buffer_vecs, inbox_vecs)
      clock = plan.clocks[s]
      if count is not None:
        clock = clock._replace(total=lambda c: count.astype(c.dtype))
      buffers, ticks, sums = sideways_step.sideways_compute(clock, mods, params, buffers, x,
                                                            first_frame)
      grads = plan.param_layouts[s].pack(tuple(ticks[k].grads for k in mods),
                                         plan.param_sizes)
      valid = _on_stage(jnp.stack([ticks[k].grads_valid for k in mods]), plan.top, mods)
      buffer_vecs, outbox = plan.pack_buffers(s, buffers)
      return buffer_vecs, outbox, grads, valid, sums
    return branch

  def count_branch(s):
    def branch(buffer_vecs, inbox_vecs, x, first_frame):
      if plan.top not in plan.modules[s]:
        return jnp.zeros((), jnp.int32)
      buffers = plan.unpack_buffers(s, buffer_vecs, inbox_vecs)
      frame_act = routing.frame_activation(x.frame, first_frame + x.index, x.labels,
                                           x.video_ids)
      return _top_count(plan, s, buffers, frame_act, x)
    return branch

  def update_branch(s):
    mods = plan.modules[s]
    def branch(param_vecs, rest_vecs, grad_vecs, valid, window_end):
      params = plan.param_layouts[s].unpack(param_vecs)
      opt_state, window = plan.rest_layouts[s].unpack(rest_vecs)
      grads = plan.param_layouts[s].unpack(grad_vecs)
      params, opt_state, window, _, nonfinite = sideways_step.sideways_update(
          opts, mods, params, opt_state, window, dict(zip(mods, grads)),
          {k: valid[k - 1] for k in mods}, window_end)
      return (plan.param_layouts[s].pack(params, plan.param_sizes),
              plan.rest_layouts[s].pack((opt_state, window), plan.rest_sizes),
              _on_stage(nonfinite, plan.top, mods))
    return branch

  def device(param_vecs, rest_vecs, buffer_vecs, inbox_vecs, clock0, batch):
    s = jax.lax.axis_index(STAGE)
    num_ticks, read = clk.tick_reader(
        batch, clk.drain_ticks(plan.top, plan.frozen) if drain else 0)
    if buffer_vecs is None:
      buffer_vecs, inbox_vecs = _switch(s, [plan.empty_branch(i) for i in range(num)])
    computes = [compute_branch(i) for i in range(num)]
    counts = [count_branch(i) for i in range(num)]
    updates_ = [update_branch(i) for i in range(num)]
    # Metric sums: the top's on its stage, a local head's on its module's, zero elsewhere.
    count0 = jnp.zeros((), jnp.int32) if num_data > 1 else None
    zero_sums = {}
    for f in computes:
      abstract = jax.eval_shape(f, param_vecs, buffer_vecs, inbox_vecs, read(0), clock0,
                                count0)[-1]
      zero_sums.update({k: jnp.zeros(a.shape, a.dtype) for k, a in abstract.items()})
    computes = [_with_sums(f, zero_sums) for f in computes]

    def body(carry, i):
      param_vecs, rest_vecs, buffer_vecs, inbox_vecs, sums = carry
      x, tick = read(i), clock0 + i
      count = None
      if num_data > 1:
        count = jax.lax.psum(_switch(s, counts, buffer_vecs, inbox_vecs, x, clock0), DATA)
      buffer_vecs, outbox, grads, valid, tick_sums = _switch(
          s, computes, param_vecs, buffer_vecs, inbox_vecs, x, clock0, count)
      if num_data > 1:
        grads = jax.lax.psum(grads, DATA)
      end = (jnp.array(False) if opts.per_clip else (tick + 1) % opts.every == 0)
      if reset:
        end = end | (tick == clock0 + num_ticks - 1)
      param_vecs, rest_vecs, nonfinite = _switch(s, updates_, param_vecs, rest_vecs, grads,
                                                 valid, end)
      inbox_vecs = plan.exchange(outbox)
      sums = jax.tree.map(jnp.add, sums, tick_sums)
      return (param_vecs, rest_vecs, buffer_vecs, inbox_vecs, sums), (nonfinite, tick)

    carry = (param_vecs, rest_vecs, buffer_vecs, inbox_vecs, zero_sums)
    (param_vecs, rest_vecs, buffer_vecs, inbox_vecs, sums), (nonfinite, ticks) = (
        jax.lax.scan(body, carry, jnp.arange(num_ticks, dtype=jnp.int32)))
    sums = jax.lax.psum(sums, (STAGE, DATA))
    nonfinite = jax.lax.psum(nonfinite.astype(jnp.int32), STAGE) > 0
    extras = clk.step_extras({'nonfinite': nonfinite, 'tick': ticks}, False)
    return (param_vecs, rest_vecs, buffer_vecs, inbox_vecs, clock0 + num_ticks,
            clk.finish_metrics(sums, extras))

  return device


def _forward_device(plan: _Plan, algorithm: str, num_data: int):
  """The per-device body of placed bptt and gpipe: the gradient of the placed scan."""
  num, top = plan.num, plan.top
  top_stage = plan.placement.stages[top - 1]

  def forward_branch(s, record, frame_valid):
    mods = plan.modules[s]
    def branch(param_vecs, buffer_vecs, inbox_vecs, x, index):
      params = dict(zip(mods, plan.param_layouts[s].unpack(param_vecs)))
      params = {k: jax.lax.stop_gradient(p) if k in plan.frozen else p
                for k, p in params.items()}
      buffers = plan.unpack_buffers(s, buffer_vecs, inbox_vecs)
      clock = plan.clocks[s]
      frame_act = routing.frame_activation(x.frame, index, x.labels, x.video_ids,
                                           frame_valid(index))
      targets = clk.targets_for(clock.history, clock.router.past_frames(buffers), frame_act,
                                x.loss_on)
      acts = clk.forward_tick(clock, params, buffers, frame_act, mods)
      buffers = clock.router.route(buffers, frame_act, acts)
      buffer_vecs, outbox = plan.pack_buffers(s, buffers)
      return buffer_vecs, outbox, (record(acts[top], targets) if top in mods else None)
    return branch

  def device(param_vecs, rest_vecs, buffer_vecs, inbox_vecs, clock0, batch):
    s = jax.lax.axis_index(STAGE)
    clock = plan.clocks[top_stage]
    if num_data > 1:
      clock = clock._replace(total=lambda c: jax.lax.psum(jax.lax.stop_gradient(c), DATA))
    num_frames = batch['frames'].shape[1]
    if algorithm == 'gpipe':
      num_ticks = baselines.gpipe_ticks(clock, batch)
      record = baselines.gpipe_record(clock, batch)
      frame_valid = lambda i: i < num_frames
      first = jnp.zeros((), jnp.int32)
    else:
      num_ticks, record, frame_valid = num_frames, functools.partial(clk.loss_record, clock), (
          lambda i: True)
      first = clock0
    _, read = clk.tick_reader(batch, num_ticks - num_frames)
    if buffer_vecs is None:
      buffer_vecs, inbox_vecs = _switch(s, [plan.empty_branch(i) for i in range(num)])
    branches = [forward_branch(i, record, frame_valid) for i in range(num)]
    zero = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), jax.eval_shape(
        branches[top_stage], param_vecs, buffer_vecs, inbox_vecs, read(0), first)[-1])
    branches = [_with_last(f, None if i == top_stage else zero)
                for i, f in enumerate(branches)]

    def loss_fn(param_vecs):
      def body(carry, i):
        buffer_vecs, inbox_vecs = carry
        buffer_vecs, outbox, rec = _switch(s, branches, param_vecs, buffer_vecs, inbox_vecs,
                                           read(i), first + i)
        return (buffer_vecs, plan.exchange(outbox)), rec
      (bufs, inbox), recs = jax.lax.scan(body, (buffer_vecs, inbox_vecs),
                                         jnp.arange(num_ticks, dtype=jnp.int32))
      if algorithm == 'gpipe':
        loss, (sums, frames_with_loss) = baselines.gpipe_loss_from(clock, recs)
        has_loss = frames_with_loss > 0
      else:
        loss, sums = baselines.bptt_loss(clock, recs)
        has_loss = clock.total(sums['count']) > 0
      return loss, (sums, has_loss, bufs, inbox)

    grads, (sums, has_loss, buffer_vecs, inbox_vecs) = jax.grad(loss_fn, has_aux=True)(
        param_vecs)
    if num_data > 1:
      grads = jax.lax.psum(grads, DATA)
    has_loss = jax.lax.psum(has_loss.astype(jnp.int32), STAGE) > 0  # known on the top stage
    param_vecs, rest_vecs, nonfinite = _switch(
        s, [plan.window_branch(i) for i in range(num)], param_vecs, rest_vecs, grads, has_loss)
    sums = jax.lax.psum(sums, (STAGE, DATA))
    nonfinite = jax.lax.psum(nonfinite.astype(jnp.int32), STAGE) > 0
    extras = clk.step_extras({'nonfinite': nonfinite[None], 'tick': jnp.zeros((1,), jnp.int32)},
                             False)
    return (param_vecs, rest_vecs, buffer_vecs, inbox_vecs, clock0 + num_frames,
            clk.finish_metrics(sums, extras))

  return device


class PlacedTrainer(NamedTuple):
  """A trainer whose state lives on a mesh (`PlacedState`). `place` / `unplace` convert
  from / to the single-device `TrainState` (checkpoints, evaluation, comparisons)."""
  init: Callable
  step: Callable
  evaluate: Callable
  place: Callable
  unplace: Callable
  lower: Callable
  init_unplaced: Callable   # the single-device `TrainState` init (checkpoint shapes)
  network: Any
  task: Any
  algorithm: str
  update_every: Any
  reset: bool
  drain: bool
  placement: Placement


def _host(x):
  """A global array as a host numpy array (gathered from every process if needed)."""
  if x.is_fully_addressable:
    return np.asarray(x)
  return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def _global(mesh, spec, host):
  """A global array from a host array every process holds in full."""
  host = np.asarray(host)
  return jax.make_array_from_callback(host.shape, NamedSharding(mesh, spec),
                                      lambda index: host[index])


def build(network, task, opts: Options, graph, history, placement: Placement, *,
          frozen=frozenset(),
          local_init: Callable, local_evaluate: Callable, local_empty: Callable,
          update_every) -> PlacedTrainer:
  """The placed trainer of `opts.algorithm` (sideways, bptt or gpipe) on `placement`."""
  mesh, num_data = placement.mesh, placement.num_data
  algorithm = opts.algorithm
  stream = not opts.reset
  spec = P(STAGE, DATA)
  plans, compiled = {}, {}

  def plan_for(frame_shape, dtype):
    key = (tuple(frame_shape), jnp.dtype(dtype).name)
    if key not in plans:
      frame = jax.ShapeDtypeStruct(tuple(frame_shape), dtype)
      params = jax.eval_shape(lambda f: network.init(jax.random.PRNGKey(0), f), frame)
      plans[key] = _Plan(network, task, graph, history, placement, opts,
                         algorithm == 'sideways', params, frame, frozen)
    return plans[key]

  def local_frame(batch):
    shape = tuple(batch['frames'].shape)
    if shape[0] % num_data:
      raise ValueError(f'frames have batch size {shape[0]}, which does not split over '
                       f'data={num_data} devices; use a multiple of {num_data}.')
    return (shape[0] // num_data,) + shape[2:], batch['frames'].dtype

  def place(state: TrainState, frame_shape) -> PlacedState:
    """The mesh-resident state of a single-device `state` for frame batches of
    `frame_shape` ([B, H, W, C]); a stream's pipeline buffers are placed too, so a run can
    move between placements (and resume on another number of devices)."""
    frame_shape = tuple(int(d) for d in frame_shape)
    if frame_shape[0] % num_data:
      raise ValueError(f'frames have batch size {frame_shape[0]}, which does not split over '
                       f'data={num_data} devices; use a multiple of {num_data}.')
    plan = plan_for((num_data,) + frame_shape[1:], _float_dtype(state))
    blocks_p, blocks_r = [], []
    for s, mods in enumerate(plan.modules):
      params = tuple(jax.device_get(state.params[k - 1]) for k in mods)
      opt = tuple(jax.device_get(state.opt_state[k - 1]) for k in mods)
      window = updates.Window(tuple(jax.device_get(state.window.grad_sum[k - 1])
                                    for k in mods),
                              np.asarray(jax.device_get(state.window.count))[
                                  np.array(mods) - 1])
      blocks_p.append(plan.param_layouts[s].pack(params, plan.param_sizes, xp=np))
      blocks_r.append(plan.rest_layouts[s].pack((opt, window), plan.rest_sizes, xp=np))
    stack = lambda blocks: {key: _global(mesh, spec, np.broadcast_to(
        np.stack([b[key] for b in blocks])[:, None], (plan.num, num_data) +
        blocks[0][key].shape)) for key in blocks[0]}
    scalar = lambda x: _global(mesh, P(), np.asarray(jax.device_get(x)))
    buffers = inbox = None
    if stream and state.pipeline is not None:
      buffers, inbox = _place_pipeline(jax.device_get(state.pipeline), frame_shape[1:])
    return PlacedState(stack(blocks_p), stack(blocks_r), buffers, inbox,
                       scalar(np.asarray(frame_shape, np.int32)), scalar(state.clock),
                       scalar(state.step))

  def _place_pipeline(pipeline, frame_shape):
    batch = pipeline.acts[0].value.shape[1]
    plan = plan_for((batch // num_data,) + tuple(frame_shape), pipeline.acts[0].value.dtype)
    blocks = [[_stage_blocks(plan, s, _data_slice(pipeline, d, num_data))
               for d in range(num_data)] for s in range(plan.num)]
    grid = lambda get: {key: _global(mesh, spec, np.stack([np.stack([get(b)[key] for b in row])
                                                           for row in blocks]))
                        for key in get(blocks[0][0])}
    buffers = grid(lambda b: b[0])
    inbox = {name: grid(lambda b, name=name: b[1][name]) for name in blocks[0][0][1]}
    return buffers, inbox

  def unplace(state: PlacedState) -> TrainState:
    batch, *frame_shape = (int(d) for d in _host(state.frame_shape))
    dtype = next(iter(k for k in state.params if k != 'int32'), 'float32')
    plan = plan_for((num_data,) + tuple(frame_shape), dtype)
    params, opt_state = [None] * plan.top, [None] * plan.top
    grad_sum, count = [None] * plan.top, np.zeros((plan.top,), np.int32)
    host_p = {k: _host(v) for k, v in state.params.items()}
    host_r = {k: _host(v) for k, v in state.rest.items()}
    for s, mods in enumerate(plan.modules):
      p = plan.param_layouts[s].unpack({k: v[s, 0] for k, v in host_p.items()})
      o, w = plan.rest_layouts[s].unpack({k: v[s, 0] for k, v in host_r.items()})
      for i, k in enumerate(mods):
        params[k - 1], opt_state[k - 1], grad_sum[k - 1] = p[i], o[i], w.grad_sum[i]
        count[k - 1] = w.count[i]
    host = lambda x: jnp.asarray(_host(x))
    if state.buffers is not None:
      pipeline = _unplace_pipeline(state, (batch // num_data,) + tuple(frame_shape), dtype)
    else:  # clips: what the single-device engine holds between them (empty buffers)
      pipeline = local_empty(jax.ShapeDtypeStruct((batch,) + tuple(frame_shape), dtype))
    return TrainState(tuple(params), tuple(opt_state), pipeline,
                      updates.Window(tuple(grad_sum), jnp.asarray(count)),
                      host(state.clock), host(state.step))

  def _unplace_pipeline(state, local_frame_shape, dtype):
    buffers = {k: _host(v) for k, v in state.buffers.items()}
    inbox = {name: {k: _host(v) for k, v in vecs.items()} for name, vecs in state.inbox.items()}
    plan = plan_for(local_frame_shape, dtype)
    shards = []
    for d in range(num_data):
      stages = [(plan.buffer_layouts[s].unpack({k: v[s, d] for k, v in buffers.items()}),
                 {link: plan.link_layouts[link].unpack(
                     {k: v[s, d] for k, v in inbox[_name(link)].items()})
                  for link in plan.links if plan.receiver(link) == s})
                for s in range(plan.num)]
      shards.append(_canonical_pipeline(plan, stages))
    return jax.tree.map(lambda *xs: jnp.asarray(_join_batch(xs)), *shards,
                        is_leaf=lambda x: isinstance(x, _Batched))

  def init(rng, batch) -> PlacedState:
    local_frame(batch)
    state = local_init(rng, batch)
    return place(state, tuple(batch['frames'][:, 0].shape))

  def function_for(plan, batch):
    key = (id(plan), str(jax.tree.map(lambda x: (x.shape, x.dtype), batch)))
    if key not in compiled:
      if algorithm == 'sideways':
        device = _sideways_device(plan, opts.reset, opts.drain, num_data)
      else:
        device = _forward_device(plan, algorithm, num_data)

      def per_device(params, rest, buffers, inbox, clock0, batch):
        squeeze = lambda t: None if t is None else jax.tree.map(lambda x: x[0, 0], t)
        out = device(squeeze(params), squeeze(rest), squeeze(buffers), squeeze(inbox),
                     clock0, batch)
        unsqueeze = lambda t: jax.tree.map(lambda x: x[None, None], t)
        carried = (unsqueeze(out[2]), unsqueeze(out[3])) if stream else (None, None)
        return (unsqueeze(out[0]), unsqueeze(out[1])) + carried + out[4:]

      compiled[key] = jax.jit(jax.shard_map(
          per_device, mesh=mesh, in_specs=(spec, spec, spec, spec, P(), P(DATA)),
          out_specs=(spec, spec, spec, spec, P(), P()), check_vma=False))
    return compiled[key]

  checked = set()

  def prepare(state: PlacedState, batch):
    if isinstance(batch, dict) and 'frozen_values' in batch:
      raise ValueError("batch['frozen_values'] is a one-device speed-up: the placed engine "
                       'runs the frozen modules on their own stage. Leave the key out.')
    frame_shape, dtype = local_frame(batch)
    plan = plan_for(frame_shape, dtype)
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
    host_batch = {k: np.asarray(jax.device_get(batch[k]))
                  for k in ('frames', 'labels', 'video_ids')}
    global_batch = {k: _global(mesh, P(DATA), v) for k, v in host_batch.items()}
    return plan, global_batch

  def step(state: PlacedState, batch):
    plan, global_batch = prepare(state, batch)
    fn = function_for(plan, global_batch)
    buffers, inbox = (state.buffers, state.inbox) if stream else (None, None)
    params, rest, buffers, inbox, clock, metrics = fn(
        state.params, state.rest, buffers, inbox, jnp.zeros((), jnp.int32) if opts.reset
        else state.clock, global_batch)
    metrics = jax.tree.map(lambda x: x.addressable_data(0), metrics)
    new_step = state.step + 1
    return PlacedState(params, rest, buffers, inbox, state.frame_shape, clock,
                       new_step), metrics

  def lower(state: PlacedState, batch):
    plan, global_batch = prepare(state, batch)
    buffers, inbox = (state.buffers, state.inbox) if stream else (None, None)
    return function_for(plan, global_batch).lower(
        state.params, state.rest, buffers, inbox, state.clock, global_batch)

  def evaluate(params_or_state, batch):
    if isinstance(params_or_state, PlacedState):
      params_or_state = unplace(params_or_state)
    if isinstance(params_or_state, TrainState):
      params_or_state = params_or_state.params
    return local_evaluate(params_or_state, batch)

  return PlacedTrainer(init=init, step=step, evaluate=evaluate, place=place,
                       unplace=unplace, lower=lower, init_unplaced=local_init, network=network, task=task,
                       algorithm=algorithm, update_every=update_every, reset=opts.reset,
                       drain=opts.drain, placement=placement)


def _float_dtype(state: TrainState):
  leaves = [x for x in jax.tree.leaves(state.params)
            if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)]
  return jnp.asarray(leaves[0]).dtype if leaves else jnp.float32


class _Batched(NamedTuple):
  """A leaf with a batch axis (`axis`), split over the data axis of the mesh."""
  value: Any
  axis: int


def _batch_axes(tree):
  """Marks the leaves of routing Activations / GradMessages that have a batch axis."""
  def mark(node):
    if isinstance(node, routing.Activation):
      axis = 1 if np.ndim(node.valid) == 1 else 0  # a FIFO [L, B, ...] or an entry
      return node._replace(value=_Batched(node.value, axis),
                           video_min=_Batched(node.video_min, axis),
                           video_max=_Batched(node.video_max, axis),
                           label=_Batched(node.label, axis))
    if isinstance(node, sw.GradMessage):
      return node._replace(value=_Batched(node.value, 0))
    return node
  return jax.tree.map(mark, tree, is_leaf=lambda x: isinstance(
      x, (routing.Activation, sw.GradMessage)))


def _data_slice(pipeline, d, num_data):
  """Shard d of `num_data` of a host pipeline (its batch axes cut in equal parts)."""
  def cut(leaf):
    if isinstance(leaf, _Batched):
      size = leaf.value.shape[leaf.axis] // num_data
      return np.take(leaf.value, np.arange(d * size, (d + 1) * size), axis=leaf.axis)
    return leaf
  return jax.tree.map(cut, _batch_axes(pipeline), is_leaf=lambda x: isinstance(x, _Batched))


def _join_batch(parts):
  """The inverse of `_data_slice` for one leaf (parts from every data shard)."""
  first = parts[0]
  if isinstance(first, _Batched):
    return np.concatenate([p.value for p in parts], axis=first.axis)
  return first


def _stage_blocks(plan: _Plan, s, pipeline):
  """Stage s's packed buffers and inbox vectors from a (host, one data shard) pipeline."""
  router = plan.routers[s]
  tree = {'frames': pipeline.frames,
          'acts': {j: pipeline.acts[j - 1] for j in router.modules}, 'msgs': {}}
  if plan.with_messages:
    for c in router.modules:
      for i, e in enumerate(router.graph.inputs(c)):
        if e.source > 0 and plan.placement.stages[e.source - 1] == s:
          tree['msgs'][(c, i)] = pipeline.messages[c - 1][i]
  vecs = {}
  for link in plan.links:
    direction, m, sender = link
    if plan.receiver(link) != s:
      vecs[_name(link)] = Layout({}).pack({}, plan.link_sizes[link], xp=np)
      continue
    source = plan.routers[sender]
    if direction == 'up':
      entries = {(j, d): routing.entry(pipeline.acts[j - 1], d - 1)
                 for j, d in source.sends_up(m)}
    else:
      entries = {(c, i): pipeline.messages[c - 1][i] for c, i in source.sends_down(m)}
    vecs[_name(link)] = plan.link_layouts[link].pack(entries, plan.link_sizes[link], xp=np)
  return plan.buffer_layouts[s].pack(tree, plan.buffer_sizes, xp=np), vecs


def _canonical_pipeline(plan: _Plan, stages):
  """The single-device Pipeline from every stage's (buffers, inbox by link), one data shard;
  leaves with a batch axis come back marked `_Batched`."""
  stage_of = plan.placement.stages
  acts = tuple(stages[stage_of[j - 1]][0]['acts'][j] for j in range(1, plan.top + 1))
  graph = plan.routers[0].graph
  messages = []
  for c in range(1, plan.top + 1):
    slots = []
    for i, e in enumerate(graph.inputs(c)):
      if e.source == 0 or not plan.with_messages:
        slots.append(None)
      elif stage_of[c - 1] == stage_of[e.source - 1]:
        slots.append(stages[stage_of[c - 1]][0]['msgs'][(c, i)])
      else:
        link = ('down', stage_of[c - 1] - stage_of[e.source - 1], stage_of[c - 1])
        slots.append(stages[stage_of[e.source - 1]][1][link][(c, i)])
    messages.append(tuple(slots))
  pipeline = routing.Pipeline(stages[0][0]['frames'], acts, tuple(messages))
  return _batch_axes(pipeline)
