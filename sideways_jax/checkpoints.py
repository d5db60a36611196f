"""Checkpoints of a training run: orbax `CheckpointManager` in `DIR/checkpoints/`.

    ckpt = Checkpoints('DIR/checkpoints', keep=3)
    ckpt.save(step, state, {'data': batches.get_state(), 'train_time_s': 12.3})
    restored = ckpt.restore_latest(abstract_state)   # None when there is none
    if restored:
      step, state, extra = restored

One checkpoint holds the whole `TrainState` (params, optimizer state, pipeline buffers,
update window, clock, step) as arrays, and a JSON item with the data position, the RNG and
anything else the launcher needs to continue exactly where it was. Saves are synchronous
and atomic (orbax writes a temporary folder and renames it once complete), so a kill at any
moment leaves the previous checkpoints intact; `keep` newest are kept.

The JSON item also records a SHA-256 of the state's bytes: a checkpoint that orbax cannot
read, or whose arrays read back different, counts as corrupt, is moved aside to
`DIR/checkpoints_corrupt/` with a warning, and the previous one is used.
"""

import hashlib
import os
import shutil
import sys
import threading
import time
import warnings
from typing import Any, NamedTuple, Optional

import jax
import numpy as np
import orbax.checkpoint as ocp

FORMAT = 1  # bump when the layout of `extra` changes incompatibly


class CorruptCheckpointWarning(UserWarning):
  """A checkpoint could not be read back intact and was moved aside."""


class MismatchError(ValueError):
  """The checkpoint is intact but holds another config's state (other arrays)."""


_HOOK_LOCK = threading.Lock()


def _quiet_aborted_reads():
  """Silences the echo of a failed restore. orbax runs a restore's tensorstore reads on an
  asyncio loop that it closes as soon as one read fails; the reads still in flight then
  complete into the closed loop, and each prints `RuntimeError: Event loop is closed`
  through `sys.unraisablehook` (dozens of tracebacks after a truncated data file). Only
  that error is dropped; every other unraisable exception still reaches the old hook."""
  with _HOOK_LOCK:
    previous = sys.unraisablehook
    if getattr(previous, '_sideways_quiet', False):
      return

    def hook(unraisable):
      exc = unraisable.exc_value
      if isinstance(exc, RuntimeError) and str(exc) == 'Event loop is closed':
        return
      previous(unraisable)

    hook._sideways_quiet = True  # pylint: disable=protected-access
    sys.unraisablehook = hook


class Restored(NamedTuple):
  step: int
  state: Any
  extra: dict


def _signature(tree):
  """Sorted (path, shape, dtype) of every array: comparable across containers (orbax
  reads a NamedTuple back as a dict)."""
  out = []
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    name = '/'.join(str(getattr(k, 'name', getattr(k, 'key', getattr(k, 'idx', k))))
                    for k in path)
    out.append((name, tuple(leaf.shape), str(np.dtype(leaf.dtype))))
  return sorted(out)


def state_digest(state) -> str:
  """SHA-256 over every array of `state` (shapes, dtypes and bytes, in tree order)."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(state):
    leaf = np.asarray(leaf)
    digest.update(f'{leaf.dtype}{leaf.shape}'.encode())
    digest.update(np.ascontiguousarray(leaf).tobytes())
  return digest.hexdigest()


class Checkpoints:
  """Numbered checkpoints of one run in `directory` (created on the first save)."""

  def __init__(self, directory: str, keep: int = 3, read_only: bool = False):
    """`read_only`: never write (evaluation): corrupt checkpoints are skipped, not moved."""
    self.directory = os.path.abspath(directory)
    self.keep = keep
    self.read_only = read_only
    self._manager = None

  @property
  def manager(self) -> ocp.CheckpointManager:
    if self._manager is None:
      options = ocp.CheckpointManagerOptions(
          max_to_keep=self.keep, enable_async_checkpointing=False, create=not self.read_only,
          cleanup_tmp_directories=not self.read_only)
      self._manager = ocp.CheckpointManager(
          self.directory, options=options,
          item_handlers={'state': ocp.StandardCheckpointHandler(),
                         'meta': ocp.JsonCheckpointHandler()})
    return self._manager

  def steps(self):
    """Steps with a complete checkpoint, oldest first (unfinished saves are not listed)."""
    if not os.path.isdir(self.directory):
      return []
    self.manager.reload()
    return sorted(self.manager.all_steps())

  def save(self, step: int, state, extra: Optional[dict] = None):
    """Saves `state` and the JSON-able `extra` as checkpoint `step` (synchronously)."""
    state = jax.device_get(state)
    meta = {'format': FORMAT, 'step': int(step), 'sha256': state_digest(state),
            'saved_at': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'extra': extra or {}}
    self.manager.save(int(step), args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)), force=True)
    self.manager.wait_until_finished()

  def restore(self, step: int, abstract_state) -> Restored:
    """Reads checkpoint `step` into the structure of `abstract_state` (arrays or
    `jax.ShapeDtypeStruct`s, e.g. `jax.eval_shape(trainer.init, rng, batch)`).

    Raises:
      MismatchError: the checkpoint holds other arrays than `abstract_state` (another
        config's run).
      ValueError: the checkpoint is unreadable or its arrays differ from what was saved.
    """
    _quiet_aborted_reads()  # before: a failed read's echoes can come while orbax unwinds
    abstract_state = jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(np.shape(x), x.dtype), abstract_state)
    try:
      on_disk = _signature(self.manager.item_metadata(int(step))['state'].tree)
    except Exception as err:  # pylint: disable=broad-except
      raise ValueError(f'checkpoint {step} cannot be read ({type(err).__name__}: its array '
                       'metadata is missing or damaged).') from err
    if on_disk != _signature(abstract_state):
      missing = sorted(set(_signature(abstract_state)) - set(on_disk))[:1]
      raise MismatchError(f'checkpoint {step} holds other arrays than this config makes '
                          f'(e.g. {missing[0] if missing else "extra ones"}): it belongs to '
                          'another config.')
    try:
      with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # orbax: "no sharding given, using default"
        got = self.manager.restore(int(step), args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()))
      state, meta = got.state, got.meta
    except Exception as err:  # pylint: disable=broad-except  (orbax raises many kinds)
      reason = (str(err).splitlines() or [''])[0].split(' [tensorstore_spec')[0]
      reason = reason if len(reason) < 160 else reason[:157] + '...'
      raise ValueError(f'checkpoint {step} cannot be read ({type(err).__name__}: '
                       f'{reason}).') from err
    if not isinstance(meta, dict) or meta.get('format') != FORMAT:
      raise ValueError(f'checkpoint {step} has no metadata of format {FORMAT}.')
    if state_digest(state) != meta.get('sha256'):
      raise ValueError(f'checkpoint {step}: its arrays read back different from what was '
                       'saved (checksum mismatch).')
    return Restored(int(step), state, meta.get('extra', {}))

  def restore_latest(self, abstract_state) -> Optional[Restored]:
    """The newest readable checkpoint, or None if there is none.

    A checkpoint that cannot be read intact is moved to `<directory>_corrupt/` with a
    `CorruptCheckpointWarning` naming it and the reason, and the previous one is tried.

    Raises:
      MismatchError: the newest intact checkpoint belongs to another config.
      ValueError: checkpoints exist but none is readable (all were moved aside).
    """
    steps = self.steps()
    for step in reversed(steps):
      try:
        return self.restore(step, abstract_state)
      except MismatchError:
        raise
      except ValueError as err:
        where = ('left in place (read-only)' if self.read_only else
                 f'moved to {self._move_aside(step)}')
        warnings.warn(f'{err} It was {where}; trying the previous checkpoint.',
                      CorruptCheckpointWarning, stacklevel=2)
    if steps:
      where = ('they are left in place (read-only)' if self.read_only else
               f'all were moved to {self.directory}_corrupt')
      raise ValueError(f'none of the {len(steps)} checkpoints in {self.directory} can be '
                       f'read ({where}); nothing of the run can be restored: train it again '
                       '(rerun the same command to start over from step 0, or use a new '
                       '--workdir).')
    return None

  def _move_aside(self, step: int) -> str:
    dest_dir = self.directory + '_corrupt'
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, f'{step}.{int(time.time())}')
    shutil.move(os.path.join(self.directory, str(step)), dest)
    self.close()  # forget the cached step list
    return dest

  def close(self):
    if self._manager is not None:
      self._manager.close()
      self._manager = None
