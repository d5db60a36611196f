"""Moving a training state between one device and the mesh: `place` packs a single-device
`TrainState` onto the (stage, data) devices (a `PlacedState`), `unplace` gathers it back,
a stream's pipeline buffers included, so a run can checkpoint, evaluate, and resume on
another number of devices."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding, PartitionSpec as P

from sideways_jax import routing
from sideways_jax import updates
from sideways_jax.mesh.plan import Plan, link_name, receiver
from sideways_jax.packing import Layout
from sideways_jax.placement import DATA, STAGE
from sideways_jax.train_state import TrainState


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


def host(x):
  """A global array as a host numpy array (gathered from every process if needed)."""
  if x.is_fully_addressable:
    return np.asarray(x)
  return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def global_array(mesh, spec, value):
  """A global array from a host array every process holds in full."""
  value = np.asarray(value)
  return jax.make_array_from_callback(value.shape, NamedSharding(mesh, spec),
                                      lambda index: value[index])


class Transfer:
  """`place` / `unplace` for a placement (`plan_for(frame_shape, dtype) -> Plan`)."""

  def __init__(self, plan_for, mesh, num_data: int, stream: bool, local_empty):
    self.plan_for, self.mesh, self.num_data = plan_for, mesh, num_data
    self.stream, self.local_empty = stream, local_empty
    self.spec = P(STAGE, DATA)

  def place(self, state: TrainState, frame_shape) -> PlacedState:
    """The mesh-resident state of a single-device `state` for frame batches of
    `frame_shape` ([B, H, W, C]); a stream's pipeline buffers are placed too, so a run can
    move between placements (and resume on another number of devices)."""
    num_data, mesh = self.num_data, self.mesh
    frame_shape = tuple(int(d) for d in frame_shape)
    if frame_shape[0] % num_data:
      raise ValueError(f'frames have batch size {frame_shape[0]}, which does not split over '
                       f'data={num_data} devices; use a multiple of {num_data}.')
    plan = self.plan_for((num_data,) + frame_shape[1:], _float_dtype(state))
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
    stack = lambda blocks: {key: global_array(mesh, self.spec, np.broadcast_to(
        np.stack([b[key] for b in blocks])[:, None], (plan.num, num_data) +
        blocks[0][key].shape)) for key in blocks[0]}
    scalar = lambda x: global_array(mesh, P(), np.asarray(jax.device_get(x)))
    buffers = inbox = None
    if self.stream and state.pipeline is not None:
      buffers, inbox = self._place_pipeline(jax.device_get(state.pipeline), frame_shape[1:])
    return PlacedState(stack(blocks_p), stack(blocks_r), buffers, inbox,
                       scalar(np.asarray(frame_shape, np.int32)), scalar(state.clock),
                       scalar(state.step))

  def _place_pipeline(self, pipeline, frame_shape):
    num_data = self.num_data
    batch = pipeline.acts[0].value.shape[1]
    plan = self.plan_for((batch // num_data,) + tuple(frame_shape),
                         pipeline.acts[0].value.dtype)
    blocks = [[_stage_blocks(plan, s, _data_slice(pipeline, d, num_data))
               for d in range(num_data)] for s in range(plan.num)]
    grid = lambda get: {key: global_array(self.mesh, self.spec, np.stack(
        [np.stack([get(b)[key] for b in row]) for row in blocks])) for key in get(blocks[0][0])}
    buffers = grid(lambda b: b[0])
    inbox = {name: grid(lambda b, name=name: b[1][name]) for name in blocks[0][0][1]}
    return buffers, inbox

  def unplace(self, state):
    """The single-device `TrainState` of a `PlacedState` (anything else: as it is)."""
    if not isinstance(state, PlacedState):
      return state
    num_data = self.num_data
    batch, *frame_shape = (int(d) for d in host(state.frame_shape))
    dtype = next(iter(k for k in state.params if k != 'int32'), 'float32')
    plan = self.plan_for((num_data,) + tuple(frame_shape), dtype)
    params, opt_state = [None] * plan.top, [None] * plan.top
    grad_sum, count = [None] * plan.top, np.zeros((plan.top,), np.int32)
    host_p = {k: host(v) for k, v in state.params.items()}
    host_r = {k: host(v) for k, v in state.rest.items()}
    for s, mods in enumerate(plan.modules):
      p = plan.param_layouts[s].unpack({k: v[s, 0] for k, v in host_p.items()})
      o, w = plan.rest_layouts[s].unpack({k: v[s, 0] for k, v in host_r.items()})
      for i, k in enumerate(mods):
        params[k - 1], opt_state[k - 1], grad_sum[k - 1] = p[i], o[i], w.grad_sum[i]
        count[k - 1] = w.count[i]
    if state.buffers is not None:
      pipeline = self._unplace_pipeline(state, (batch // num_data,) + tuple(frame_shape),
                                        dtype)
    else:  # clips: what the single-device engine holds between them (empty buffers)
      pipeline = self.local_empty(jax.ShapeDtypeStruct((batch,) + tuple(frame_shape), dtype))
    as_jax = lambda x: jnp.asarray(host(x))
    return TrainState(tuple(params), tuple(opt_state), pipeline,
                      updates.Window(tuple(grad_sum), jnp.asarray(count)),
                      as_jax(state.clock), as_jax(state.step))

  def _unplace_pipeline(self, state, local_frame_shape, dtype):
    buffers = {k: host(v) for k, v in state.buffers.items()}
    inbox = {name: {k: host(v) for k, v in vecs.items()} for name, vecs in state.inbox.items()}
    plan = self.plan_for(local_frame_shape, dtype)
    shards = []
    for d in range(self.num_data):
      stages = [(plan.buffer_layouts[s].unpack({k: v[s, d] for k, v in buffers.items()}),
                 {link: plan.link_layouts[link].unpack(
                     {k: v[s, d] for k, v in inbox[link_name(link)].items()})
                  for link in plan.links if receiver(link) == s})
                for s in range(plan.num)]
      shards.append(_canonical_pipeline(plan, stages))
    return jax.tree.map(lambda *xs: jnp.asarray(_join_batch(xs)), *shards,
                        is_leaf=lambda x: isinstance(x, _Batched))


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
    if isinstance(node, routing.GradMessage):
      return node._replace(value=_Batched(node.value, 0))
    return node
  return jax.tree.map(mark, tree, is_leaf=lambda x: isinstance(
      x, (routing.Activation, routing.GradMessage)))


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


def _stage_blocks(plan: Plan, s, pipeline):
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
    if receiver(link) != s:
      vecs[link_name(link)] = Layout({}).pack({}, plan.link_sizes[link], xp=np)
      continue
    source = plan.routers[sender]
    if direction == 'up':
      entries = {(j, d): routing.entry(pipeline.acts[j - 1], d - 1)
                 for j, d in source.sends_up(m)}
    else:
      entries = {(c, i): pipeline.messages[c - 1][i] for c, i in source.sends_down(m)}
    vecs[link_name(link)] = plan.link_layouts[link].pack(entries, plan.link_sizes[link], xp=np)
  return plan.buffer_layouts[s].pack(tree, plan.buffer_sizes, xp=np), vecs


def _canonical_pipeline(plan: Plan, stages):
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
