"""What every step shares: the training state, a step's static options, the trainer, the
batch check and the update-window rule."""

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from sideways_jax import routing
from sideways_jax import updates
from sideways_jax.network import Network


class TrainState(NamedTuple):
  params: tuple                      # per module theta_k
  opt_state: tuple                   # per module optimizer state
  pipeline: Optional[routing.Pipeline]  # buffers carried between steps (streams)
  window: updates.Window             # gradients of the current update window
  clock: jax.Array                   # int32: ticks since the clip / stream began
  step: jax.Array                    # int32: engine calls so far


class Trainer(NamedTuple):
  """Pure functions over a state, plus what they were built for.

  On one device the state is a `TrainState`, `place` / `unplace` are the identity and
  `init_unplaced` is `init`. Under a placement the state lives on the mesh
  (`PlacedState`): `place` / `unplace` convert from / to the single-device `TrainState`
  (checkpoints, evaluation, comparisons), `init_unplaced` gives that `TrainState`.
  """
  init: Callable
  step: Callable
  evaluate: Callable                # (params or a state, batch) -> task metrics
  network: Network
  task: Any
  # (params, batch) -> {k: [B, ticks, ...]}: the frozen modules' outputs a learning module
  # reads, at every tick of the step's clip; a batch carrying them as `frozen_values` gets
  # the same step without their forwards. None where it does not apply (no frozen module
  # read by a learning one, streams, backprop, gpipe, placement).
  frozen_values: Optional[Callable] = None
  place: Callable = lambda state, frame_shape: state   # TrainState -> the step's state
  unplace: Callable = lambda state: state              # the step's state -> TrainState
  lower: Optional[Callable] = None                     # (state, batch) -> jax Lowered
  init_unplaced: Optional[Callable] = None             # (rng, batch) -> TrainState
  placement: Any = None                                # the `Placement`, or None


class Options(NamedTuple):
  """Static settings of a step (chosen by `build`)."""
  optimizers: tuple
  every: int          # ticks per window (1 when per_clip)
  per_clip: bool      # update_every='clip': one window per clip, drain included
  reset: bool
  drain: bool
  diagnostics: bool


def check_batch(network: Network, params, batch, carried=None):
  """Raises a ValueError naming the problem when `batch` does not fit these params.

  The frame shape must give the parameter shapes `params` has (they were initialised on
  it), and a carried pipeline (a stream) fixes the batch size too.
  """
  for key in ('frames', 'labels', 'video_ids'):
    if key not in batch:
      raise ValueError(f'The batch has no {key!r}; give frames [B, T, H, W, C], labels and '
                       'video_ids of shape [B, T] (or [B]).')
  shape = tuple(batch['frames'].shape)
  if len(shape) < 3:
    raise ValueError(f'frames have shape {shape}; give frames [B, T, ...].')
  if not jnp.issubdtype(batch['frames'].dtype, jnp.floating):
    raise ValueError(f'frames have dtype {batch["frames"].dtype}; give floating-point '
                     'frames (e.g. uint8 / 255.).')
  for key in ('labels', 'video_ids'):
    got = tuple(jnp.shape(batch[key]))
    if got not in (shape[:2], shape[:1]):
      raise ValueError(f'{key} have shape {got}; give [B, T] = {shape[:2]} or [B].')
  frame = jax.ShapeDtypeStruct((shape[0],) + shape[2:], batch['frames'].dtype)
  try:
    expected = jax.eval_shape(lambda f: network.init(jax.random.PRNGKey(0), f), frame)
  except (ValueError, TypeError) as err:
    raise ValueError(f'frames have shape {shape}, which the network cannot take: {err}') \
        from err
  got = jax.tree.map(lambda x: x.shape, params)
  if jax.tree.map(lambda x: x.shape, expected) != got:
    raise ValueError(
        f'frames have shape {shape}: the parameters were initialised for another frame '
        'shape [H, W, C]. Re-initialise (trainer.init) for a new frame shape.')
  if carried is not None:
    batch_size = carried.acts[0].value.shape[1]
    if batch_size != shape[0]:
      raise ValueError(f'frames have shape {shape}, but the stream carries buffers for '
                       f'batch size {batch_size}; keep the batch size of a stream.')


def window_ends(opts: Options, tick, last_tick):
  """Whether the update window closes after `tick` (SIDEWAYS.md: windows of N ticks from
  tick 0; with reset the clip's last tick closes the last one; 'clip' only that one)."""
  end = jnp.array(False) if opts.per_clip else (tick + 1) % opts.every == 0
  if opts.reset:
    end = end | (tick == last_tick)
  return end


