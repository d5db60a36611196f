"""gpipe: exact gradients of the same-frame network with frames as micro-batches flowing
through pipeline stages (fill / drain), one update per clip. Its gradient is per-frame
backprop's averaged over the clip (`update_every='clip'`). It runs on GPipe's stage clock
(`graph`): a delay-0 edge within a stage, one tick across stages."""

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from sideways_jax import routing
from sideways_jax.algorithms import base
from sideways_jax.stage import Carry
from sideways_jax.tasks import TickTargets
from sideways_jax.train_state import Options

MESSAGES = None   # nothing carried between steps


def graph(network, task, stages):
  """GPipe's stage clock for modules grouped by `stages` (one stage on one device), and the
  frames its targets look back on (none: they come from the batch)."""
  del task
  return network.stage_graph(stages), 1


def next_frame_targets(batch, index):
  """TickTargets for an output of frame `index` of `batch`: frames index+1 (the prediction
  target, there only inside the clip) and index (copy-last), read from the batch."""
  frames = jnp.asarray(batch['frames'])
  num_frames = frames.shape[1]
  labels = clk.per_frame(batch, 'labels')
  video_ids = clk.per_frame(batch, 'video_ids')
  take = lambda x, j: jax.lax.dynamic_index_in_dim(x, j, axis=1, keepdims=False)
  nxt = jnp.minimum(index + 1, num_frames - 1)
  entries = [routing.frame_activation(take(frames, j), j, take(labels, j),
                                      take(video_ids, j), valid)
             for j, valid in ((nxt, index + 1 < num_frames), (index, True))]
  entries[0] = entries[0]._replace(oldest=index + 1, newest=index + 1)
  hist = jax.tree.map(lambda a, b: jnp.stack([a, b]), *entries)
  return TickTargets(hist, jnp.array(True))


def loss_from(total, sums):
  """GPipe's loss from per-tick sums (one frame leaves the top per tick): the mean over
  frames with a loss of each frame's mean loss, so its gradient is per-frame backprop's
  averaged over the clip. Returns (loss, (summed metric sums, frames with a loss))."""
  count = total(sums['count'])
  frame_loss = sums['loss'] / jnp.maximum(count, 1.)
  frames_with_loss = jnp.sum(count > 0)
  loss = jnp.sum(frame_loss) / jnp.maximum(frames_with_loss, 1)
  return loss, (jax.tree.map(jnp.sum, sums), frames_with_loss)


def step(ex, opts: Options, carry: Carry, batch):
  """One GPipe update per clip: exact same-frame gradients, frames as micro-batches."""
  carry = base.start(ex, opts, carry, batch)
  num_frames = batch['frames'].shape[1]
  # T + S ticks: frame i enters stage 0 at tick i and leaves the top stage S ticks later.
  num_ticks = num_frames + ex.clock.graph.newest_lag(ex.clock.network.num_modules)
  _, read = clk.tick_reader(batch, num_ticks - num_frames)

  def record(stage, activation, targets):
    # Its frame is `activation.newest`; targets come from the batch (GPipe has the whole
    # clip; no causality to respect).
    del targets
    index = jnp.clip(activation.newest, 0, num_frames - 1)
    return clk.loss_record(stage.clock, activation, next_frame_targets(batch, index))

  def loss_fn(params):
    _, sums = base.forward_scan(ex, params, ex.empty_buffers(base.frame_of(batch), False),
                                jnp.zeros((), jnp.int32), num_ticks, read, record,
                                frame_valid=lambda i: i < num_frames)
    return loss_from(ex.total, sums)

  grads, (sums, frames_with_loss) = jax.grad(loss_fn, has_aux=True)(carry.params)
  params, rest, trace = base.one_window(ex, opts, carry, ex.sum_data(grads),
                                        ex.any_stage(frames_with_loss > 0))
  if opts.diagnostics:
    trace['grads'] = grads
  return (Carry(params, rest, None, carry.clock + num_frames),
          base.finish(ex, opts, sums, trace))
