"""Where a run's metrics go: `metrics.jsonl` (one record per line) and TensorBoard events.

    log = MetricsLog('DIR/metrics.jsonl')
    log.truncate_after(step)      # resuming: drop records the checkpoint does not cover
    log.write({'step': 1, 'split': 'train', 'loss': 2.0})
    tb = EventWriter('DIR')       # DIR/events.out.tfevents.*; `tensorboard --logdir DIR`
    tb.text('config', 0, text)    # the resolved config, at the start of a run
    tb.scalars(1, {'train/loss': 2.0})
    tb.image('eval/frames', 1, frames_grid(predicted, targets))   # [H, W, C] in [0, 1]
    tb.hparams(config_dict, {'eval/mse': 0.01}, step)  # at the end: the hparams dashboard

Events are written with tensorboardX (a small pure-Python package: numpy, protobuf; its
generated protobuf modules load with current protobuf; images go through pillow, which
matplotlib brings) rather than tensorboard's own writer: tensorboard is ~12 MB with grpcio,
werkzeug and a data server, and its hparams summaries import TensorFlow. Tests read the
events back with tensorboard's EventAccumulator.
"""

import itertools
import json
import os

import numpy as np
import tensorboardX
from tensorboardX.proto import event_pb2
from tensorboardX import summary as tbx_summary


# --- metrics.jsonl ---------------------------------------------------------------------

class MetricsLog:
  """Appends one JSON object per line; `truncate_after` keeps each step once on resume."""

  def __init__(self, path: str):
    self.path = path
    self._file = None

  def records(self):
    """The records in the file (a half-written last line, from a kill, is skipped)."""
    if not os.path.exists(self.path):
      return []
    out = []
    with open(self.path) as f:
      for line in f:
        try:
          out.append(json.loads(line))
        except json.JSONDecodeError:
          continue
    return out

  def truncate_after(self, step: int):
    """Keeps only records with `step <= step` (those a checkpoint at `step` covers).

    The file is rewritten to a temporary file and renamed over the old one, so a kill
    during the rewrite leaves either the old or the new file, never half of one.
    """
    kept = [r for r in self.records() if isinstance(r, dict) and r.get('step', 0) <= step]
    tmp = self.path + '.tmp'
    with open(tmp, 'w') as f:
      for r in kept:
        f.write(json.dumps(r) + '\n')
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, self.path)

  def write(self, record: dict):
    if self._file is None:
      self._file = open(self.path, 'a')
    self._file.write(json.dumps(record) + '\n')
    self._file.flush()

  def sync(self):
    """Flushes to disk: called before a checkpoint, so it covers every record written."""
    if self._file is not None:
      self._file.flush()
      os.fsync(self._file.fileno())

  def close(self):
    if self._file is not None:
      self._file.close()
      self._file = None


# --- TensorBoard event files -------------------------------------------------------------

_FILE_NUMBER = itertools.count()


class EventWriter:
  """Writes summaries to a new `events.out.tfevents.*` file in `logdir`. tensorboardX
  writes them on a thread: they reach the file within `flush_secs`, and `close` writes
  the rest."""

  def __init__(self, logdir: str, flush_secs: int = 5):
    # Two writers started in the same second (a quick resume) get different files.
    self._writer = tensorboardX.SummaryWriter(
        logdir, flush_secs=flush_secs,
        filename_suffix=f'.{os.getpid()}.{next(_FILE_NUMBER)}')

  def restart(self, step: int):
    """Marks a resume at `step`: TensorBoard drops events of earlier files with
    step >= `step` (they belong to the part of the run the checkpoint lost)."""
    self._writer.file_writer.add_event(event_pb2.Event(
        step=step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)))

  def scalars(self, step: int, values: dict):
    """`tag -> float` at `step` (non-numbers are skipped)."""
    values = {k: float(v) for k, v in values.items() if _is_number(v)}
    for tag, value in values.items():
      self._writer.add_scalar(tag, value, step)

  def text(self, tag: str, step: int, text: str):
    """Markdown text (the Text dashboard), e.g. the resolved config in a code block."""
    self._writer.add_text(tag, text, step)

  def image(self, tag: str, step: int, image):
    """One image, [H, W, C] (C = 1 or 3) or [H, W], float in [0, 1] (clipped)."""
    image = np.clip(np.asarray(image, np.float32), 0., 1.)
    if image.ndim == 2:
      image = image[..., None]
    if image.shape[-1] == 1:
      image = np.repeat(image, 3, axis=-1)
    self._writer.add_image(tag, image, step, dataformats='HWC')

  def hparams(self, hparams: dict, metrics: dict, step: int):
    """A session of the HParams dashboard: `hparams` (name -> bool, number or str; other
    values are written as their str, None skipped) against the scalar tags of `metrics`
    (tag -> final value; the dashboard reads the values from those tags' scalars, which
    the run writes itself, so they are not written again here)."""
    hparams = {k: v if isinstance(v, (bool, int, float, str)) else str(v)
               for k, v in hparams.items() if v is not None}
    metrics = {k: float(v) for k, v in metrics.items() if _is_number(v)}
    for summary in tbx_summary.hparams(hparams, metrics):  # experiment, session start, end
      self._writer.file_writer.add_summary(summary, step)

  def close(self):
    self._writer.close()


def _is_number(value) -> bool:
  return (isinstance(value, (int, float, np.integer, np.floating))
          and not isinstance(value, (bool, np.bool_)))


def frames_grid(predicted, targets, gap: int = 1):
  """One image of predicted frames (top row) above their targets (bottom row): both
  [N, H, W, C] in [0, 1]; frames `gap` pixels apart on a white background."""
  predicted, targets = np.asarray(predicted, np.float32), np.asarray(targets, np.float32)
  n, h, w, c = predicted.shape
  grid = np.ones((2 * h + gap, n * (w + gap) - gap, c), np.float32)
  for i in range(n):
    x = i * (w + gap)
    grid[:h, x:x + w] = predicted[i]
    grid[h + gap:, x:x + w] = targets[i]
  return np.clip(grid, 0., 1.)
