"""Synthetic-set generation throughput (frames/s at 32x32, one process, numpy).

The synthetic sets are generated on the fly during training, so generation must not be
the bottleneck: goal >= 20k frames/s per core for the default `temporal_actions`. Each
record is the best of a few `get_batch` calls of 256 clips (best, not median, because the
machine may be shared; generation itself is deterministic work).

Re-measure: python -c "from benchmarks.data_synthetic import SUITES; \
print(SUITES['synthetic_frames_per_s'](False))"
"""

import time

import numpy as np

from sideways_jax.data import get_dataset
from sideways_jax.data.streams import video_stream

_CASES = (
    ('temporal_actions_dynamics', 'temporal_actions', dict(level='dynamics')),
    ('temporal_actions_motion', 'temporal_actions', dict(level='motion')),
    ('appearance', 'appearance', {}),
    ('moving_digits', 'moving_digits', {}),
)


def _best_rate(fn, frames, repeats):
  fn()  # warm caches (glyphs, noise bank)
  best = 0.0
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    best = max(best, frames / (time.perf_counter() - start))
  return best


def synthetic_frames_per_s(quick):
  """Returns records {name, value, unit, config} of generation throughput at 32x32."""
  repeats = 3 if quick else 10
  clips = 128 if quick else 256
  records = []
  for label, name, kwargs in _CASES:
    ds = get_dataset(name, 'train', resolution=32, **kwargs)
    rng = np.random.default_rng(0)
    frames = clips * ds.frames_per_clip
    rate = _best_rate(lambda: ds.get_batch(rng.integers(len(ds), size=clips)), frames,
                      repeats)
    records.append(dict(name=f'synthetic_frames_per_s/{label}', value=float(rate),
                        unit='frames/s',
                        config=dict(dataset=name, **kwargs, resolution=32,
                                    frames_per_clip=ds.frames_per_clip, clips_per_call=clips,
                                    repeats=repeats, stat='best')))
  # The stream on top of the default set (B=16 lanes, 8-frame chunks).
  ds = get_dataset('temporal_actions', 'train')
  stream = video_stream(ds, 16, 8)
  chunks = 16 if quick else 64
  rate = _best_rate(lambda: [next(stream) for _ in range(chunks)], 16 * 8 * chunks,
                    repeats)
  records.append(dict(name='synthetic_frames_per_s/video_stream_temporal_actions',
                      value=float(rate), unit='frames/s',
                      config=dict(dataset='temporal_actions', batch_size=16, chunk_frames=8,
                                  chunks_per_call=chunks, repeats=repeats, stat='best')))
  return records


SUITES = {'synthetic_frames_per_s': synthetic_frames_per_s}
