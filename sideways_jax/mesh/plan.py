"""Static per-stage tables of a placed step for one frame shape: each stage's router and
clock, the packing layouts of its state, and the links between stages.

Under `lax.switch` every branch takes and returns arrays of the same shapes, so each
stage's state travels as flat vectors (packing.py): 'params' and 'grads' (a tuple over the
stage's modules), 'rest' ((optimizer state, Window) of those modules) and 'buffers' (the
stage's own buffers, and one vector per link: what it received last tick, or sends this
tick). A link is (direction, distance m, sender), one for each pair of stages one of which
sends the other something; `exchange` moves them with as few `ppermute`s as it can.
"""

import functools

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import updates
from sideways_jax.mesh.router import StageRouter
from sideways_jax.packing import INT, Layout, common_sizes
from sideways_jax.placement import STAGE, Placement
from sideways_jax.stage import Stage


def link_name(link):
  return '_'.join(str(part) for part in link)


def receiver(link):
  direction, m, sender = link
  return sender + m if direction == 'up' else sender - m


class Plan:
  """The tables of one placement and frame shape.

  Args:
    clock: the one-device clock (network, graph, task, history, frozen modules).
    placement: the stage of every module, and the mesh.
    optimizers: one optax transformation per module (for the optimizer state's shapes).
    with_messages: whether the buffers carry gradient messages (Sideways).
    params: every module's parameters (abstract).
    frame: one data shard's frame batch [B / D, H, W, C] (abstract).
  """

  def __init__(self, clock: clk.Clock, placement: Placement, optimizers, with_messages: bool,
               params, frame):
    network = clock.network
    self.placement, self.with_messages, self.frame = placement, with_messages, frame
    self.abstract_params = params
    self.num, self.top = placement.num_stages, network.num_modules
    output_shapes = lambda f: network.output_shapes(f.shape, f.dtype)
    frame_fifo = max(clock.graph.fifo_length(0), clock.history - 1)
    self.routers = [StageRouter(clock.graph, placement.stages, s, output_shapes, frame_fifo)
                    for s in range(self.num)]
    self.stages = [Stage(r.modules, clock._replace(router=r)) for r in self.routers]
    self.modules = [r.modules for r in self.routers]
    opt_state = jax.eval_shape(lambda: [o.init(p) for o, p in zip(optimizers, params)])
    self.param_layouts = [Layout(tuple(params[k - 1] for k in mods)) for mods in self.modules]
    self.rest_layouts = [Layout((tuple(opt_state[k - 1] for k in mods),
                                 updates.empty_window(tuple(params[k - 1] for k in mods))))
                         for mods in self.modules]
    self.param_sizes = common_sizes(self.param_layouts)
    self.rest_sizes = common_sizes(self.rest_layouts)
    self.buffer_layouts = []
    for router in self.routers:
      empty = jax.eval_shape(lambda r=router: r.empty(frame, with_messages))
      empty.pop('inbox')
      self.buffer_layouts.append(Layout(empty))
    self.buffer_sizes = common_sizes(self.buffer_layouts)
    self.links, self.link_layouts = [], {}
    for sender, router in enumerate(self.routers):
      for direction, m in router.keys():
        if not 0 <= receiver((direction, m, sender)) < self.num:
          continue
        tree = jax.eval_shape(lambda r=router, key=(direction, m): r.outbox_tree(
            frame, key, with_messages))
        if jax.tree.leaves(tree):
          link = (direction, m, sender)
          self.links.append(link)
          self.link_layouts[link] = Layout(tree)
    # Each link's vector has exactly its sender's size: ppermute moves no padding.
    self.link_sizes = {link: common_sizes([self.link_layouts[link]]) for link in self.links}
    self.exchange_groups = _exchange_groups(self.links, self.link_sizes)

  # -- packing of one stage's state, by kind --------------------------------------------

  def unpack(self, kind, s, vecs):
    if kind == 'buffers':
      buffer_vecs, inbox_vecs = vecs
      buffers = self.buffer_layouts[s].unpack(buffer_vecs)
      buffers['inbox'] = {link[:2]: self.link_layouts[link].unpack(inbox_vecs[link_name(link)])
                          for link in self.links if receiver(link) == s}
      return buffers
    layouts = self.param_layouts if kind in ('params', 'grads') else self.rest_layouts
    return layouts[s].unpack(vecs)

  def pack(self, kind, s, tree):
    if kind == 'buffers':
      buffers = dict(tree)
      outbox = buffers.pop('outbox')
      return (self.buffer_layouts[s].pack(buffers, self.buffer_sizes),
              {link_name(link): (self.link_layouts[link].pack(outbox[link[:2]],
                                                              self.link_sizes[link])
                                 if link[2] == s else self._no_link(link))
               for link in self.links})
    if kind in ('params', 'grads'):
      return self.param_layouts[s].pack(tree, self.param_sizes)
    return self.rest_layouts[s].pack(tree, self.rest_sizes)

  def _no_link(self, link, xp=None):
    return Layout({}).pack({}, self.link_sizes[link], **({} if xp is None else {'xp': xp}))

  def empty_branch(self, s):
    """`() -> stage s's packed empty buffers` (its inbox: the senders' empty outboxes)."""
    def branch():
      empty = self.routers[s].empty(self.frame, self.with_messages)
      empty.pop('inbox')
      vecs = {}
      for link in self.links:
        if receiver(link) == s:
          tree = self.routers[link[2]].outbox_tree(self.frame, link[:2], self.with_messages)
          vecs[link_name(link)] = self.link_layouts[link].pack(tree, self.link_sizes[link])
        else:
          vecs[link_name(link)] = self._no_link(link)
      return self.buffer_layouts[s].pack(empty, self.buffer_sizes), vecs
    return branch

  def exchange(self, buffers):
    """The inboxes of the next tick: each link's vectors from its sender to its receiver,
    as few `ppermute`s as the links allow (a collective costs a round trip whatever it
    carries): a link's vectors travel as one (its integers bit-cast into its float dtype,
    bit for bit), and links with distinct senders and distinct receivers share one (at
    D = 2: one a tick). Each device puts in its own link's vector, padded to the group's
    longest; a stage that receives no link of a group keeps zeros, as before."""
    buffer_vecs, outbox = buffers
    stage = jax.lax.axis_index(STAGE)
    inbox = {}
    for carrier, group in self.exchange_groups:
      if carrier is None:  # vectors of several float dtypes: one ppermute each
        link, = group
        inbox[link_name(link)] = jax.tree.map(functools.partial(
            jax.lax.ppermute, axis_name=STAGE, perm=[(link[2], receiver(link))]),
                                              outbox[link_name(link)])
        continue
      words = {link: jnp.concatenate([_to_carrier(outbox[link_name(link)][key], carrier)
                                      for key in sorted(self.link_sizes[link])])
               for link in group}
      size = max(w.shape[0] for w in words.values())
      send = jnp.zeros((size,), carrier)
      for link, w in words.items():
        send = jnp.where(stage == link[2], jnp.pad(w, (0, size - w.shape[0])), send)
      got = jax.lax.ppermute(send, STAGE, [(link[2], receiver(link)) for link in group])
      for link, w in words.items():
        mine = jnp.where(stage == receiver(link), got[:w.shape[0]], jnp.zeros_like(w))
        vecs, start = {}, 0
        for key in sorted(self.link_sizes[link]):
          n = self.link_sizes[link][key]
          width = _carrier_length(n, key, carrier)
          vecs[key] = _from_carrier(mine[start:start + width], key, n)
          start += width
        inbox[link_name(link)] = vecs
    return buffer_vecs, inbox


def _carrier_of(sizes):
  """The one float dtype a link's vectors can all travel in, or None (several)."""
  floats = [key for key in sizes if key != INT]
  return jnp.dtype(floats[0]) if len(floats) == 1 else None


def _carrier_length(n, key, carrier):
  """Elements of `carrier` that hold `n` elements of dtype `key` (bit for bit)."""
  size, unit = jnp.dtype(key).itemsize * n, jnp.dtype(carrier).itemsize
  return -(-size // unit)


def _to_carrier(vec, carrier):
  """A 1-D vector as a 1-D vector of `carrier`, its bits unchanged (zero-padded to whole
  carrier elements)."""
  if vec.dtype == carrier:
    return vec
  a, b = vec.dtype.itemsize, jnp.dtype(carrier).itemsize
  if a == b:
    return jax.lax.bitcast_convert_type(vec, carrier)
  if a < b:
    ratio = b // a
    vec = jnp.pad(vec, (0, -vec.shape[0] % ratio)).reshape(-1, ratio)
    return jax.lax.bitcast_convert_type(vec, carrier)
  return jax.lax.bitcast_convert_type(vec, carrier).reshape(-1)


def _from_carrier(vec, key, n):
  """The inverse of `_to_carrier`: `n` elements of dtype `key`."""
  dtype = jnp.dtype(key)
  if vec.dtype == dtype:
    return vec[:n]
  a, b = dtype.itemsize, vec.dtype.itemsize
  if a == b:
    return jax.lax.bitcast_convert_type(vec, dtype)[:n]
  if a < b:
    return jax.lax.bitcast_convert_type(vec, dtype).reshape(-1)[:n]
  return jax.lax.bitcast_convert_type(vec.reshape(-1, a // b), dtype)[:n]


def _exchange_groups(links, link_sizes):
  """Links grouped for one `ppermute` each: the same carrier dtype, distinct senders and
  distinct receivers within a group (a collective sends one buffer per device)."""
  groups = []
  for link in links:
    carrier = _carrier_of(link_sizes[link])
    for group_carrier, group in groups:
      if (carrier is not None and group_carrier == carrier and
          all(link[2] != other[2] and receiver(link) != receiver(other) for other in group)):
        group.append(link)
        break
    else:
      groups.append((carrier, [link]))
  return groups
