"""What a training run shows in TensorBoard beyond its scalars (experiments.train).

  * `config_text`: the resolved config (DIR/config.json, run info included) as a JSON code
    block, written at the start of every launch (tag `config`);
  * `hparams`: the config's flattened keys against the final held-out metrics (the HParams
    dashboard), written when the run reaches `num_steps`;
  * `PredictedFrames` (frame prediction): at each evaluation, the first held-out clip of
    the evaluation sample, its last scored frames as predicted (top row) above their
    targets (bottom row), as one image (tag `eval/predicted_frames`).
"""

import numpy as np
import sideways_jax as sj

from sideways_jax import metrics_writer

from . import builders
from . import evaluation
from . import workdir as workdir_lib

FRAMES_TAG = 'eval/predicted_frames'


def config_text(workdir):
  """DIR/config.json as a Markdown code block (the Text dashboard renders Markdown)."""
  with open(workdir_lib.config_path(workdir)) as f:
    return '```json\n' + f.read().strip() + '\n```'


def flat_config(config, prefix=''):
  """{dotted key: value} of every leaf of an ml_collections config (or dict)."""
  out = {}
  for key, value in config.items():
    if hasattr(value, 'items'):
      out.update(flat_config(value, f'{prefix}{key}.'))
    else:
      out[prefix + key] = value
  return out


def hparams(events, config, final, step):
  """The HParams session of a finished run: every config key against `eval/METRIC`."""
  events.hparams(flat_config(config), {f'eval/{k}': v for k, v in final.items()}, step)


class _FramesOut(sj.FramePrediction):
  """FramePrediction whose evaluation returns the frames themselves ([T, B, ...] over
  ticks and the mask of the scored ones) instead of their metrics."""
  __slots__ = ()

  def eval_metrics(self, records, mask):
    return {'prediction': records['prediction'], 'target': records['target'],
            'mask': mask & records['target_mask']}


class PredictedFrames:
  """Predicted frames beside their targets, as one image per evaluation: the first clip
  of the evaluation sample (the same one every time), its last `num_frames` scored
  frames. The evaluation runs through a second, unplaced trainer of the same network
  whose task returns the frames (compiled at the first call)."""

  def __init__(self, config, network, test_set, num_frames=8):
    self.config, self.network, self.test_set = config, network, test_set
    self.num_frames = num_frames
    self._trainer = self._batch = None

  def _setup(self):
    config = self.config
    self._trainer = builders.make_trainer(config, self.network, _FramesOut(),
                                          self.test_set.frame_shape, placed=False)
    index = evaluation.sample_indices(self.test_set, config.eval_clips, config.task)[:1]
    batches = evaluation.held_out_batches(self.test_set, index, 1)
    try:
      self._batch = builders.preprocess(config)(next(iter(batches)))
    finally:
      if hasattr(batches, 'close'):
        batches.close()

  def image(self, params):
    """[H, W, C] in [0, 1]: predictions above targets (None if no frame was scored)."""
    if self._trainer is None:
      self._setup()
    out = self._trainer.evaluate(params, self._batch)
    pred, target, mask = (np.asarray(out[k]) for k in ('prediction', 'target', 'mask'))
    ticks = np.flatnonzero(mask[:, 0])[-self.num_frames:]  # clip 0's scored ticks
    if not len(ticks):
      return None
    return metrics_writer.frames_grid(np.clip(pred[ticks, 0], 0., 1.), target[ticks, 0])

  def write(self, events, step, params):
    image = self.image(params)
    if image is not None:
      events.image(FRAMES_TAG, step, image)
