"""Routing on one device: the buffers between ticks and who reads what.

The tick (sideways.py) never sees these buffers; it gets its inputs and incoming messages
and returns its outputs. A router is the small interface the frame clock (clock.py) talks
to; `LocalRouter` keeps every buffer on one device, and placement (placement.py) implements
the same four calls a second time with packed per-device buffers and `ppermute`. The numbers
must not change.

    empty(frame, with_messages) -> buffers          every buffer empty (invalid)
    past_frames(buffers)                            the FIFO of past input frames
    read_inputs(buffers, k, frame, current)         what module k reads at tick t
    read_messages(buffers, k)                       the messages k's consumers sent at t-1
    route(buffers, frame, activations, messages)    where tick t+1 will read tick t's outputs

Buffers of `LocalRouter`, as they stand at the start of tick t:
  frames[i]      input frame x[t-1-i]           (only as long as some edge or target needs)
  acts[k][i]     a_k[t-1-i]                      (a FIFO of the longest delay reading k)
  messages[k][i] e_{k->source of slot i}[t-1]   (None for messages to the input)

The graph is a table of input edges per module (`Network.graph()` for the frame clock;
GPipe's stage clock has other delays). An edge of delay 0 from a module reads `current`,
the outputs already computed in this tick (only GPipe's stage clock has such edges).
"""

from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

from sideways_jax.network import Graph
from sideways_jax.sideways import Activation, GradMessage


class Pipeline(NamedTuple):
  frames: Optional[Activation]                       # leaves [L0, ...]; None if L0 == 0
  acts: Tuple[Activation, ...]                       # per module, leaves [D_k, ...]
  messages: Tuple[Tuple[Optional[GradMessage], ...], ...]  # per module, per input slot


def frame_activation(frame, frame_index, labels, video_ids, valid=True) -> Activation:
  """The input x[t] as a buffer entry, mixing just frame `frame_index`."""
  index = jnp.asarray(frame_index, jnp.int32)
  return Activation(frame, jnp.asarray(valid, bool), index, index, video_ids, video_ids,
                    labels)


def empty_activation(shape, dtype, length) -> Activation:
  """`length` invalid entries for activations of `shape` (batch first)."""
  batch = shape[0]
  return Activation(
      value=jnp.zeros((length,) + tuple(shape), dtype),
      valid=jnp.zeros((length,), bool),
      oldest=jnp.zeros((length,), jnp.int32),
      newest=jnp.zeros((length,), jnp.int32),
      video_min=jnp.full((length, batch), -1, jnp.int32),
      video_max=jnp.full((length, batch), -1, jnp.int32),
      label=jnp.zeros((length, batch), jnp.int32))


def empty_message(shape, dtype) -> GradMessage:
  return GradMessage(jnp.zeros(tuple(shape), dtype), jnp.array(False), jnp.array(False))


def entry(fifo: Activation, i: int) -> Activation:
  return jax.tree.map(lambda x: x[i], fifo)


def push(fifo, new):
  """A FIFO with `new` in front and the oldest entry dropped."""
  return jax.tree.map(lambda f, n: jnp.concatenate([n[None], f[:-1]]), fifo, new)


class LocalRouter:
  """All buffers on one device (the reference routing placement must reproduce).

  Args:
    graph: the edge table.
    output_shapes: `(frame [B, ...]) -> per-module output ShapeDtypeStructs`.
    frame_fifo: past frames to keep (the longest input delay, or what targets need).
  """

  def __init__(self, graph: Graph, output_shapes, frame_fifo: int):
    self.graph = graph
    self.output_shapes = output_shapes
    self.frame_fifo = frame_fifo

  def empty(self, frame: jax.ShapeDtypeStruct, with_messages: bool = True) -> Pipeline:
    """Empty (invalid) buffers for frames like `frame` ([B, H, W, C]).

    Forward-only clocks (bptt, gpipe, evaluation) pass `with_messages=False`.
    """
    graph = self.graph
    out_shapes = self.output_shapes(frame)
    frames = (empty_activation(frame.shape, frame.dtype, self.frame_fifo)
              if self.frame_fifo else None)
    acts = tuple(empty_activation(s.shape, s.dtype, graph.fifo_length(k))
                 for k, s in enumerate(out_shapes, start=1))
    in_shapes = (frame,) + tuple(out_shapes)
    messages = tuple(
        tuple(None if e.source == 0 or not with_messages else
              empty_message(in_shapes[e.source].shape, in_shapes[e.source].dtype)
              for e in graph.inputs(k))
        for k in range(1, graph.num_modules + 1))
    return Pipeline(frames, acts, messages)

  def past_frames(self, buffers: Pipeline) -> Optional[Activation]:
    """The FIFO of past input frames (prediction targets look back on it)."""
    return buffers.frames

  def read_inputs(self, buffers: Pipeline, k: int, frame: Activation,
                  current: Optional[Dict[int, Activation]] = None) -> Tuple[Activation, ...]:
    """What module k reads at tick t: source j's buffer from tick t - delay of each edge."""
    inputs = []
    for e in self.graph.inputs(k):
      if e.source == 0:
        inputs.append(frame if e.delay == 0 else entry(buffers.frames, e.delay - 1))
      elif e.delay == 0:
        inputs.append(current[e.source])
      else:
        inputs.append(entry(buffers.acts[e.source - 1], e.delay - 1))
    return tuple(inputs)

  def read_messages(self, buffers: Pipeline, k: int) -> Tuple[GradMessage, ...]:
    """The messages module k's consumers sent it at tick t-1."""
    return tuple(buffers.messages[c - 1][i] for c, i in self.graph.consumers(k))

  def route(self, buffers: Pipeline, frame: Activation, activations: Dict[int, Activation],
            messages: Optional[Dict[int, Sequence[GradMessage]]] = None) -> Pipeline:
    """Writes tick t's outputs where tick t+1 will read them (messages: None if forward
    only)."""
    frames = push(buffers.frames, frame) if buffers.frames is not None else None
    acts = tuple(push(fifo, activations[k]) for k, fifo in enumerate(buffers.acts, start=1))
    if messages is None:
      return Pipeline(frames, acts, buffers.messages)
    sent = tuple(
        tuple(None if e.source == 0 else m for e, m in zip(self.graph.inputs(k), messages[k]))
        for k in range(1, self.graph.num_modules + 1))
    return Pipeline(frames, acts, sent)
