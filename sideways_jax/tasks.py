"""Tasks: what the top module's output is compared with, and the metrics reported.

- `Classification`: cross-entropy with the output's label; an output is used only when all
  frames it mixes come from one video. Per-frame accuracy (every valid output), clip
  accuracy (mean logits over a video's valid outputs) and the clips' confusion counts.
- `FramePrediction`: the top decodes a frame; its target is the frame right after the
  newest frame it mixes, used only once that frame has arrived and only if it belongs to
  the same video. MSE, PSNR, SSIM, always beside the copy-last-frame baseline.
"""

from typing import Dict, NamedTuple

import dm_pix as pix
import jax
import jax.numpy as jnp
import optax

from sideways_jax.sideways import Activation


class TickTargets(NamedTuple):
  """What the top module's loss may look at on a tick, besides its own output."""
  history: Activation    # frames [x[t], x[t-1], ...] with metadata; leaves [L, ...]
  loss_enabled: jax.Array  # bool []: False on drain ticks (no new frame, no new loss)


def _history_frame(history: Activation, frame_index):
  """The frame with index `frame_index` from the history, and whether it is there."""
  pos = history.newest[0] - frame_index
  length = history.value.shape[0]
  inside = (pos >= 0) & (pos < length)
  pos = jnp.clip(pos, 0, length - 1)
  entry = jax.tree.map(lambda x: x[pos], history)
  return entry, inside & entry.valid


class Classification(NamedTuple):
  """Action classification with `num_classes` classes."""
  num_classes: int
  name: str = 'classification'

  def history_length(self, network) -> int:
    del network
    return 1

  def loss_terms(self, activation: Activation, targets: TickTargets):
    per_example = optax.softmax_cross_entropy_with_integer_labels(
        activation.value, activation.label)
    return per_example, activation.single_video() & targets.loss_enabled

  def eval_record(self, activation: Activation, targets: TickTargets) -> Dict[str, jax.Array]:
    """Per-tick values kept (stacked over ticks) for `eval_metrics`."""
    return {'logits': activation.value, 'label': activation.label}

  def eval_metrics(self, records, mask) -> Dict[str, jax.Array]:
    """Metrics over [T, B] stacked records; `mask` marks the outputs a loss would use."""
    logits, labels = records['logits'], records['label']
    m = mask.astype(jnp.float32)
    count = jnp.maximum(m.sum(), 1.)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    correct = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
    # Clip accuracy: mean logits over each example's valid outputs (one video per clip).
    mean_logits = (logits * m[..., None]).sum(0) / jnp.maximum(m.sum(0), 1.)[:, None]
    has_output = m.sum(0) > 0
    clip_label = labels[jnp.argmax(mask, axis=0), jnp.arange(labels.shape[1])]
    clip_pred = jnp.argmax(mean_logits, -1)
    clip_correct = (clip_pred == clip_label) & has_output
    # Clip counts, row = true label, column = predicted (clips with no valid output left out).
    confusion = jnp.zeros((logits.shape[-1],) * 2, jnp.int32).at[clip_label, clip_pred].add(
        has_output.astype(jnp.int32))
    return {
        'loss': (ce * m).sum() / count,
        'accuracy': (correct * m).sum() / count,
        'clip_accuracy': clip_correct.sum() / jnp.maximum(has_output.sum(), 1),
        'clip_confusion': confusion,
        'num_outputs': m.sum(),
    }


class FramePrediction(NamedTuple):
  """Future-frame prediction: the top's output has the frame's shape."""
  name: str = 'prediction'

  def history_length(self, network) -> int:
    lag = network.newest_lag(network.num_modules)
    if lag < 1:
      raise ValueError(
          'Frame prediction needs the top module to lag the input by at least one tick, '
          'so its target frame has arrived when its loss is taken; this network has a '
          f'fresh input skip into module {network.num_modules}. Use an aligned input skip, or '
          "one a frame older ('fresh-1').")
    return lag + 1  # target x[newest+1] and the copy-last frame x[newest]

  def _target(self, activation, targets):
    target, present = _history_frame(targets.history, activation.newest + 1)
    same_video = activation.single_video() & (target.video_min == activation.video_min)
    return target, present & same_video & targets.loss_enabled

  def loss_terms(self, activation: Activation, targets: TickTargets):
    target, mask = self._target(activation, targets)
    err = jnp.square(activation.value - target.value)
    return err.reshape(err.shape[0], -1).mean(-1), mask

  def eval_record(self, activation: Activation, targets: TickTargets):
    target, mask = self._target(activation, targets)
    last, _ = _history_frame(targets.history, activation.newest)
    return {'prediction': activation.value, 'target': target.value,
            'copy_last': last.value, 'target_mask': mask}

  def eval_metrics(self, records, mask):
    mask = mask & records['target_mask']
    m = mask.astype(jnp.float32)
    count = jnp.maximum(m.sum(), 1.)
    def frame_metrics(pred):
      pred = jnp.clip(pred, 0., 1.)
      target = records['target']
      flat = lambda x: x.reshape((-1,) + x.shape[2:])
      mse = jnp.square(pred - target).reshape(m.shape + (-1,)).mean(-1)
      # PSNR (peak 1) per frame, capped at 100 dB: a frame predicted exactly (copy-last on a
      # still frame) would be inf and make the mean inf (and inf * 0 NaN on masked ticks).
      psnr = -10. * jnp.log10(jnp.maximum(mse, 1e-10))
      ssim = pix.ssim(flat(pred), flat(target)).reshape(m.shape)
      return [(x * m).sum() / count for x in (mse, psnr, ssim)]
    mse, psnr, ssim = frame_metrics(records['prediction'])
    copy_mse, copy_psnr, _ = frame_metrics(records['copy_last'])
    return {'loss': mse, 'mse': mse, 'psnr': psnr, 'ssim': ssim,
            'copy_last_mse': copy_mse, 'copy_last_psnr': copy_psnr, 'num_outputs': m.sum()}
