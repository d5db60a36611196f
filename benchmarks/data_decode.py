"""Decode throughput of real-video clips through `batching.batches` (alias `pipeline`).

Writes a UCF101-layout folder of synthetic 320x240 MPEG-4 AVIs (like UCF101's
own xvid files) to a temp dir and times 16-frame 112x112 training clips.

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


def _measure(ds, batch_size, num_batches, num_workers, repeats):
  best = 0.0
  for r in range(repeats):
    it = batching.batches(ds, batch_size, seed=r, num_workers=num_workers)
    next(it)  # Warm-up: thread start, first file opens.
    t0 = time.perf_counter()
    for _ in range(num_batches):
      b = next(it)
    dt = time.perf_counter() - t0
    assert b['frames'].shape[1:] == (16, 112, 112, 3)
    best = max(best, num_batches * batch_size / dt)
  return best


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
                        quick=quick)))
  return results


SUITES = {'decode_clips_per_s': decode_clips_per_s}


if __name__ == '__main__':
  for row in decode_clips_per_s('--quick' in sys.argv):
    print(f"{row['name']}: {row['value']:.1f} {row['unit']}")
