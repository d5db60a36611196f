"""Decode throughput of real-video clips through `batching.batches` (alias `pipeline`).

Writes a UCF101-layout folder of synthetic 320x240 MPEG-4 AVIs (like UCF101's
own xvid files, a keyframe every 12 frames) to a temp dir and times 16-frame 112x112
training clips. Suites:

  decode_clips_per_s  0 and 2 grain thread workers, decoder threading AUTO / NONE.
  decode_workers      0, 1 and 2 worker processes, interleaved, medians; speed-up 1 -> 2.
  decode_seek         ms per clip starting at frame 0 / 100 / 200 of a 10-s video,
                      seeking vs decoding from the start, interleaved, medians.

Every record's config has the 1-minute load average (`load_avg_1min`): the machine
may be shared.

  python benchmarks/data_decode.py [--quick]
"""

import os
import sys
import tempfile
import time

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sideways_jax.data import batching  # pylint: disable=g-import-not-at-top
from sideways_jax.data import ucf101 as ucf101_lib  # pylint: disable=g-import-not-at-top
from sideways_jax.data import video_io  # pylint: disable=g-import-not-at-top


def write_fake_ucf(root, num_videos, seconds, fps=25, width=320, height=240):
  """UCF101 layout with moving-noise videos, so the codec has real work."""
  lists = os.path.join(root, 'ucfTrainTestlist')
  os.makedirs(lists, exist_ok=True)
  with open(os.path.join(lists, 'classInd.txt'), 'w') as f:
    f.write('1 Fake\n')
  rng = np.random.default_rng(0)
  base = rng.integers(0, 256, (height, width * 2, 3), np.uint8)
  rels = []
  for v in range(num_videos):
    rel = f'Fake/v_Fake_g{v + 1:02d}_c01.avi'
    path = os.path.join(root, 'UCF-101', rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with av.open(path, 'w') as c:
      s = c.add_stream('mpeg4', rate=fps)
      s.width, s.height, s.pix_fmt = width, height, 'yuv420p'
      s.bit_rate = 1_000_000
      for i in range(int(seconds * fps)):
        img = np.roll(base, 3 * i + v, axis=1)[:, :width]
        for p in s.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
          c.mux(p)
      for p in s.encode():
        c.mux(p)
    rels.append(rel)
  for name in ('trainlist01.txt', 'testlist01.txt'):
    with open(os.path.join(lists, name), 'w') as f:
      f.writelines(f'{r} 1\n' for r in rels)


def _load():
  return round(os.getloadavg()[0], 2)


def _clips_per_s(ds, batch_size, num_batches, num_workers, seed, worker_type):
  """(clips/s after the first batch, seconds to the first batch)."""
  t0 = time.perf_counter()
  it = batching.batches(ds, batch_size, seed=seed, num_workers=num_workers,
                        worker_type=worker_type)
  next(it)  # Warm-up: worker start, first file opens.
  t1 = time.perf_counter()
  for _ in range(num_batches):
    b = next(it)
  dt = time.perf_counter() - t1
  it.close()
  assert b['frames'].shape[1:] == (16, 112, 112, 3)
  return num_batches * batch_size / dt, t1 - t0


def _measure(ds, batch_size, num_batches, num_workers, repeats):
  """Best of `repeats` with grain thread workers (how these records were always made)."""
  return max(_clips_per_s(ds, batch_size, num_batches, num_workers, r, 'thread')[0]
             for r in range(repeats))


def decode_clips_per_s(quick):
  """Clips/s of 16x112x112 train clips, for 0 and 2 loader threads."""
  num_videos, seconds = (8, 2) if quick else (24, 4)
  batch_size, num_batches, repeats = (4, 4, 1) if quick else (8, 8, 2)
  results = []
  with tempfile.TemporaryDirectory() as root:
    write_fake_ucf(root, num_videos, seconds)
    for thread_type in ('AUTO', 'NONE'):
      ds = ucf101_lib.ucf101('train', root=root, frames_per_clip=16, resolution=112,
                             thread_type=thread_type)
      for workers in (0, 2):
        value = _measure(ds, batch_size, num_batches, workers, repeats)
        results.append(dict(
            name=f'ucf101_avi_320x240_workers{workers}_threads{thread_type}',
            value=float(value), unit='clips/s',
            config=dict(frames_per_clip=16, resolution=112, short_side=128,
                        source='320x240 mpeg4 avi 25fps', video_seconds=seconds,
                        num_videos=num_videos, batch_size=batch_size,
                        num_batches=num_batches, num_workers=workers,
                        decoder_thread_type=thread_type, cpu_count=os.cpu_count(),
                        quick=quick, worker_type='thread', statistic='best',
                        load_avg_1min=_load())))
  return results


def decode_workers(quick):
  """Clips/s with 0, 1, 2 worker processes (and 2 threads), interleaved; medians."""
  num_videos, seconds = (8, 2) if quick else (24, 4)
  batch_size, num_batches, repeats = (4, 3, 1) if quick else (8, 8, 5)
  configs = [(0, 'process'), (1, 'process'), (2, 'process'), (2, 'thread')]
  rates = {c: [] for c in configs}
  starts = {c: [] for c in configs}
  loads = []
  with tempfile.TemporaryDirectory() as root:
    write_fake_ucf(root, num_videos, seconds)
    ds = ucf101_lib.ucf101('train', root=root, frames_per_clip=16, resolution=112)
    for r in range(repeats):  # Interleaved: load changes hit every configuration alike.
      for c in configs:
        loads.append(_load())
        rate, start = _clips_per_s(ds, batch_size, num_batches, c[0], r, c[1])
        rates[c].append(rate)
        starts[c].append(start)
  base = dict(frames_per_clip=16, resolution=112, short_side=128,
              source='320x240 mpeg4 avi 25fps gop12', video_seconds=seconds,
              num_videos=num_videos, batch_size=batch_size, num_batches=num_batches,
              repeats=repeats, statistic='median', decoder_thread_type='NONE',
              cpu_count=os.cpu_count(), quick=quick,
              load_avg_1min=float(np.median(loads)),
              load_avg_1min_range=[min(loads), max(loads)])
  results = []
  for (workers, kind) in configs:
    name = (f'ucf101_avi_320x240_procs{workers}' if kind == 'process'
            else f'ucf101_avi_320x240_threads{workers}_interleaved')
    results.append(dict(
        name=name, value=float(np.median(rates[(workers, kind)])), unit='clips/s',
        config=dict(base, num_workers=workers, worker_type=kind,
                    first_batch_s=round(float(np.median(starts[(workers, kind)])), 3),
                    runs=[round(x, 1) for x in rates[(workers, kind)]])))
  ratios = [b / a for a, b in zip(rates[(1, 'process')], rates[(2, 'process')])]
  results.append(dict(
      name='ucf101_avi_320x240_procs_speedup_1_to_2', value=float(np.median(ratios)),
      unit='x', config=dict(base, goal='>= 1.6', runs=[round(x, 2) for x in ratios])))
  return results


def decode_seek(quick):
  """ms per 16-frame clip at frame 0 / 100 / 200 of a 250-frame video; seek vs not."""
  repeats = 3 if quick else 15
  starts = (0, 100, 200)
  times = {(s, k): [] for s in starts for k in (True, False)}
  loads = []
  with tempfile.TemporaryDirectory() as root:
    write_fake_ucf(root, 1, 10)
    path = os.path.join(root, 'UCF-101', 'Fake', 'v_Fake_g01_c01.avi')
    for _ in range(repeats):
      loads.append(_load())
      for key in times:
        select = lambda n, s=key[0]: np.arange(s, s + 16)
        t0 = time.perf_counter()
        video_io.read_clip(path, select, short_side=128, thread_type='NONE', seek=key[1])
        times[key].append(1e3 * (time.perf_counter() - t0))
  base = dict(frames_per_clip=16, short_side=128, source='320x240 mpeg4 avi 25fps gop12',
              video_frames=250, repeats=repeats, statistic='median',
              decoder_thread_type='NONE', cpu_count=os.cpu_count(), quick=quick,
              load_avg_1min=float(np.median(loads)))
  results = []
  for (s, seek), ts in times.items():
    results.append(dict(
        name=f'decode_clip_start{s}_{"seek" if seek else "noseek"}',
        value=float(np.median(ts)), unit='ms', config=dict(base, start_frame=s, seek=seek)))
  for seek in (True, False):
    ratio = np.median(times[(200, seek)]) / np.median(times[(0, seek)])
    results.append(dict(
        name=f'decode_clip_start200_vs_start0_{"seek" if seek else "noseek"}',
        value=float(ratio), unit='x',
        config=dict(base, seek=seek, goal='<= 1.2' if seek else None)))
  return results


SUITES = {'decode_clips_per_s': decode_clips_per_s, 'decode_workers': decode_workers,
          'decode_seek': decode_seek}


if __name__ == '__main__':
  for suite in SUITES.values():
    for row in suite('--quick' in sys.argv):
      print(f"{row['name']}: {row['value']:.3g} {row['unit']}")
