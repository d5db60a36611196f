"""Routing on one device: the buffers between ticks and who reads what.

The tick (sideways.py) never sees these buffers; it gets its inputs and incoming messages
and returns its outputs. Placement (multi-device) replaces this file's role by moving the
same things with `ppermute`; the numbers must not change.

Buffers, as they stand at the start of tick t:
  frames[i]      input frame x[t-1-i]           (only as long as some edge or target needs)
  acts[k][i]     a_k[t-1-i]                      (a FIFO of the longest delay reading k)
  messages[k][i] e_{k->source of slot i}[t-1]   (None for messages to the input)
"""

from typing import NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

from sideways_jax.network import Network
from sideways_jax.sideways import Activation, GradMessage, ModuleTick


class Pipeline(NamedTuple):
  frames: Optional[Activation]                       # leaves [L0, ...]; None if L0 == 0
  acts: Tuple[Activation, ...]                       # per module, leaves [D_k, ...]
  messages: Tuple[Tuple[Optional[GradMessage], ...], ...]  # per module, per input slot


def frame_activation(frame, frame_index, labels, video_ids) -> Activation:
  """The input x[t] as a buffer entry: always valid, mixing just frame `frame_index`."""
  index = jnp.asarray(frame_index, jnp.int32)
  return Activation(frame, jnp.array(True), index, index, video_ids, video_ids, labels)


def _empty_activation(shape, dtype, length):
  batch = shape[0]
  return Activation(
      value=jnp.zeros((length,) + tuple(shape), dtype),
      valid=jnp.zeros((length,), bool),
      oldest=jnp.zeros((length,), jnp.int32),
      newest=jnp.zeros((length,), jnp.int32),
      video_min=jnp.full((length, batch), -1, jnp.int32),
      video_max=jnp.full((length, batch), -1, jnp.int32),
      label=jnp.zeros((length, batch), jnp.int32))


def frame_fifo_length(network: Network, extra: int = 0) -> int:
  """Past frames to keep: the longest input delay, or `extra` (e.g. prediction targets)."""
  return max(network.fifo_length(0), extra)


def empty_pipeline(network: Network, frame: jax.ShapeDtypeStruct,
                   frame_fifo: int, with_messages: bool = True) -> Pipeline:
  """Empty (invalid) buffers for frames like `frame` ([B, H, W, C]).

  Forward-only clocks (bptt, evaluation) pass `with_messages=False`.
  """
  out_shapes = network.output_shapes(frame.shape, frame.dtype)
  frames = _empty_activation(frame.shape, frame.dtype, frame_fifo) if frame_fifo else None
  acts = tuple(_empty_activation(s.shape, s.dtype, network.fifo_length(k))
               for k, s in enumerate(out_shapes, start=1))
  in_shapes = (frame,) + tuple(out_shapes)
  messages = tuple(
      tuple(None if e.source == 0 or not with_messages else
            GradMessage(jnp.zeros(in_shapes[e.source].shape, in_shapes[e.source].dtype),
                        jnp.array(False), jnp.array(False))
            for e in network.inputs(k))
      for k in range(1, network.num_modules + 1))
  return Pipeline(frames, acts, messages)


def _entry(fifo: Activation, i: int) -> Activation:
  return jax.tree.map(lambda x: x[i], fifo)


def read_inputs(network: Network, pipeline: Pipeline, k: int,
                frame: Activation) -> Tuple[Activation, ...]:
  """What module k reads at tick t: source j's buffer from tick t - delay of each edge."""
  inputs = []
  for e in network.inputs(k):
    if e.source == 0:
      inputs.append(frame if e.delay == 0 else _entry(pipeline.frames, e.delay - 1))
    else:
      inputs.append(_entry(pipeline.acts[e.source - 1], e.delay - 1))
  return tuple(inputs)


def read_messages(network: Network, pipeline: Pipeline, k: int) -> Tuple[GradMessage, ...]:
  """The messages module k's consumers sent it at tick t-1."""
  return tuple(pipeline.messages[c - 1][i] for c, i in network.consumers(k))


def _push(fifo, new):
  return jax.tree.map(lambda f, n: jnp.concatenate([n[None], f[:-1]]), fifo, new)


def route(network: Network, pipeline: Pipeline, frame: Activation,
          ticks: Sequence[ModuleTick]) -> Pipeline:
  """Writes tick t's outputs where tick t+1 will read them."""
  frames = _push(pipeline.frames, frame) if pipeline.frames is not None else None
  acts = tuple(_push(fifo, tick.activation) for fifo, tick in zip(pipeline.acts, ticks))
  messages = tuple(
      tuple(None if e.source == 0 else m for e, m in zip(network.inputs(k), tick.messages))
      for k, tick in enumerate(ticks, start=1))
  return Pipeline(frames, acts, messages)


def forward_route(network: Network, pipeline: Pipeline, frame: Activation,
                  activations: Sequence[Activation]) -> Pipeline:
  """`route` for forward-only clocks (bptt, evaluation): no gradient messages."""
  frames = _push(pipeline.frames, frame) if pipeline.frames is not None else None
  acts = tuple(_push(fifo, a) for fifo, a in zip(pipeline.acts, activations))
  return Pipeline(frames, acts, pipeline.messages)
