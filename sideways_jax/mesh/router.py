"""The router of one stage on a mesh: a second implementation of routing.py's interface.

Local FIFOs for the stage's own modules, plus an inbox of what other stages sent last tick
(activations up, gradient messages down, one `ppermute` per distance, skip edges across
several devices included).
"""

from typing import Dict, Optional, Sequence, Tuple

import jax

from sideways_jax import routing
from sideways_jax.network import Graph
from sideways_jax.routing import Activation, GradMessage


class StageRouter:
  """The router of one stage: its modules' FIFOs, and an inbox from the other stages.

  Buffers (a dict), as they stand at the start of tick t on stage s:
    frames            the input frame FIFO (every stage reads x[t] itself)
    acts[j]           FIFO of a_j for the stage's own modules j
    msgs[(c, i)]      e_{c->j}[t-1] from a local consumer c (input slot i) to a local j
    inbox[('up', m)]  {(j, d): a_j[t-d]} sent by stage s-m at the end of tick t-1
    inbox[('down', m)] {(c, i): e_{c->j}[t-1]} sent by stage s+m (j on s)
  `route` returns the same dict with an `outbox` in place of the inbox: what this stage
  sends up or down by each distance m; the mesh executor moves it with `ppermute`.
  """

  def __init__(self, graph: Graph, stages: Sequence[int], stage: int, output_shapes,
               frame_fifo: int):
    self.graph, self.stages, self.stage = graph, tuple(stages), stage
    self.output_shapes, self.frame_fifo = output_shapes, frame_fifo
    self.modules = tuple(k for k, s in enumerate(self.stages, start=1) if s == stage)
    self.num_stages = max(self.stages) + 1

  def _stage(self, j):
    return self.stages[j - 1]

  def sends_up(self, m: int) -> Tuple[Tuple[int, int], ...]:
    """(source j, delay d) this stage sends to stage s+m each tick (its FIFO entry d-1)."""
    return tuple(sorted({(e.source, e.delay)
                         for k in range(1, self.graph.num_modules + 1)
                         if self._stage(k) == self.stage + m
                         for e in self.graph.inputs(k)
                         if e.source > 0 and self._stage(e.source) == self.stage}))

  def sends_down(self, m: int) -> Tuple[Tuple[int, int], ...]:
    """(consumer c, slot i) messages this stage sends to stage s-m each tick."""
    return tuple((c, i) for c in self.modules
                 for i, e in enumerate(self.graph.inputs(c))
                 if e.source > 0 and self._stage(e.source) == self.stage - m)

  def distances(self):
    return range(1, self.num_stages)

  def _shapes(self, frame):
    return (frame,) + tuple(self.output_shapes(frame))

  def outbox_tree(self, frame, key, with_messages=True):
    """The (empty) entries of the message this stage sends under `key` = (dir, m)."""
    shapes = self._shapes(frame)
    direction, m = key
    if direction == 'up':
      return {(j, d): routing.entry(routing.empty_activation(shapes[j].shape,
                                                             shapes[j].dtype, 1), 0)
              for j, d in self.sends_up(m)}
    if not with_messages:
      return {}
    return {(c, i): routing.empty_message(shapes[self.graph.inputs(c)[i].source].shape,
                                          shapes[self.graph.inputs(c)[i].source].dtype)
            for c, i in self.sends_down(m)}

  def keys(self):
    return [(direction, m) for m in self.distances() for direction in ('up', 'down')]

  def empty(self, frame: jax.ShapeDtypeStruct, with_messages: bool = True):
    """Empty buffers, with an empty inbox (the mesh plan fills it from the senders'
    `outbox_tree`s)."""
    shapes = self._shapes(frame)
    frames = (routing.empty_activation(frame.shape, frame.dtype, self.frame_fifo)
              if self.frame_fifo else None)
    acts = {j: routing.empty_activation(shapes[j].shape, shapes[j].dtype,
                                        self.graph.fifo_length(j)) for j in self.modules}
    msgs = {}
    if with_messages:
      msgs = {(c, i): routing.empty_message(shapes[e.source].shape, shapes[e.source].dtype)
              for c in self.modules for i, e in enumerate(self.graph.inputs(c))
              if e.source > 0 and self._stage(e.source) == self.stage}
    return {'frames': frames, 'acts': acts, 'msgs': msgs, 'inbox': {}}

  def past_frames(self, buffers):
    return buffers['frames']

  def read_inputs(self, buffers, k: int, frame: Activation,
                  current: Optional[Dict[int, Activation]] = None):
    inputs = []
    for e in self.graph.inputs(k):
      if e.source == 0:
        inputs.append(frame if e.delay == 0 else routing.entry(buffers['frames'],
                                                               e.delay - 1))
      elif self._stage(e.source) == self.stage:
        inputs.append(current[e.source] if e.delay == 0 else
                      routing.entry(buffers['acts'][e.source], e.delay - 1))
      else:
        m = self.stage - self._stage(e.source)
        inputs.append(buffers['inbox'][('up', m)][(e.source, e.delay)])
    return tuple(inputs)

  def read_messages(self, buffers, k: int):
    messages = []
    for c, i in self.graph.consumers(k):
      if self._stage(c) == self.stage:
        messages.append(buffers['msgs'][(c, i)])
      else:
        messages.append(buffers['inbox'][('down', self._stage(c) - self.stage)][(c, i)])
    return tuple(messages)

  def route(self, buffers, frame: Activation, activations: Dict[int, Activation],
            messages: Optional[Dict[int, Sequence[GradMessage]]] = None):
    frames = buffers['frames']
    frames = routing.push(frames, frame) if frames is not None else None
    acts = {j: routing.push(fifo, activations[j]) for j, fifo in buffers['acts'].items()}
    msgs, outbox = {}, {}
    for m in self.distances():
      outbox[('up', m)] = {(j, d): routing.entry(acts[j], d - 1) for j, d in self.sends_up(m)}
      outbox[('down', m)] = {}
    if messages is not None:
      for c in self.modules:
        for i, (e, msg) in enumerate(zip(self.graph.inputs(c), messages[c])):
          if e.source == 0:
            continue
          if self._stage(e.source) == self.stage:
            msgs[(c, i)] = msg
          else:
            outbox[('down', self.stage - self._stage(e.source))][(c, i)] = msg
    return {'frames': frames, 'acts': acts, 'msgs': msgs, 'outbox': outbox}
