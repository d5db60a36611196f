"""Frozen modules' outputs kept per clip on the host, so a clip drawn again skips them.

    cache = sj.FrozenCache(trainer, max_bytes=4 * 2**30)
    state, metrics = trainer.step(state, cache.attach(state.params, batch))

Frozen modules (`sj.build(..., frozen=(1, 2))`) never change, and on clips (the buffers
emptied at every call) their outputs depend on the clip alone: `trainer.frozen_values`
computes them at every tick, and a batch carrying them as `frozen_values` gets the same
step without their forwards. A run draws each clip many times (the launcher's default:
8192 clips, 4000 steps of 16, each clip about 8 times), so keeping them pays for the
forwards of the frozen modules once per clip instead of once per draw. The cache keeps
each clip's outputs apart from its batch, so it assumes per-example modules (no batch
statistics, as in every model of `sideways_jax.models`); `trainer.frozen_values` itself
holds for any module.

Clips are keyed by a hash of their frames (SHA-256 of the bytes, shape and dtype), so a
clip that changes between draws (augmentation) is a new entry, never a stale one; the
frozen parameters are checked the same way at every call (the cache empties if they
change). At `max_bytes` it stops adding entries; a batch with a clip it lacks is computed
whole (the same step either way).
"""

import hashlib

import jax
import numpy as np


def _digest(*arrays) -> bytes:
  h = hashlib.sha256()  # with the CPU's SHA instructions: ~3x blake2b here
  for a in arrays:
    a = np.ascontiguousarray(a)
    h.update(f'{a.shape}{a.dtype}'.encode())
    h.update(a.tobytes())
  return h.digest()


class FrozenCache:
  """Keeps `trainer.frozen_values` per clip (see the module docstring).

  Args:
    trainer: a trainer with `frozen_values` (frozen modules read by a learning one, on
      clips: sideways or bptt, one device).
    max_bytes: the most the kept outputs may take (default 4 GiB).

  Attributes:
    bytes: what the kept outputs take now; `hits` / `misses`: batches served from the
      cache / computed.
  """

  def __init__(self, trainer, max_bytes: int = 4 * 2**30):
    if getattr(trainer, 'frozen_values', None) is None:
      raise ValueError('This trainer has no frozen_values: it needs frozen modules that a '
                       'learning module reads, on clips (sideways or bptt, one device; not '
                       'a stream). Build with frozen=(1, ...), or train without the cache.')
    if max_bytes < 0:
      raise ValueError(f'max_bytes={max_bytes}: give a size >= 0 in bytes.')
    self._compute = trainer.frozen_values
    self.max_bytes = int(max_bytes)
    self._entries = {}
    self._params_key = self._num_frozen = self._leaves = None
    self.bytes = self.hits = self.misses = 0

  def __len__(self):
    return len(self._entries)

  def attach(self, params, batch) -> dict:
    """`batch` with `frozen_values`: kept ones where every clip is kept, else computed
    (and kept while there is room). `params`: the trainer state's (the frozen ones key the
    cache)."""
    if self._num_frozen is None:  # modules 1..m are frozen, and m + 1 (learning) reads m
      self._num_frozen = max(jax.eval_shape(self._compute, params, batch))
    leaves = jax.tree.leaves(params[:self._num_frozen])
    if not (self._leaves is not None and len(leaves) == len(self._leaves) and all(
        isinstance(a, jax.Array) and a is b for a, b in zip(leaves, self._leaves))):
      # new parameter arrays (jax arrays are immutable: the same objects, the same values,
      # so the launcher's loop hashes them once, not at every step)
      params_key = _digest(*jax.device_get(leaves))
      if params_key != self._params_key:
        self._entries, self.bytes, self._params_key = {}, 0, params_key
      self._leaves = leaves
    keys = [_digest(clip) for clip in np.asarray(batch['frames'])]
    if all(key in self._entries for key in keys):
      self.hits += 1
      kept = [self._entries[key] for key in keys]
      values = {k: np.stack([entry[k] for entry in kept]) for k in kept[0]}
    else:
      self.misses += 1
      values = jax.device_get(self._compute(params, batch))
      for i, key in enumerate(keys):
        entry = {k: np.array(v[i]) for k, v in values.items()}
        size = sum(v.nbytes for v in entry.values())
        if key not in self._entries and self.bytes + size <= self.max_bytes:
          self._entries[key] = entry
          self.bytes += size
    return {**batch, 'frozen_values': values}
