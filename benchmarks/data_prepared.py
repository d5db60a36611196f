"""Prepared video sets against raw decoding: clips/s, disk, and preparation time.

Writes a UCF101-layout folder of 320x240 MPEG-4 AVIs (UCF101's size and codec family) whose
frames pan across a photograph (matplotlib's sample `grace_hopper.jpg`), so that JPEG sizes
are those of camera footage, not of flat synthetic frames; prepares it with
`sideways_jax.data.prepare` (format jpeg and raw, short side 128), then times 16x112x112
training clips (temporal stride 2) read three ways, interleaved, medians of repeats:
raw files (`root=`), prepared jpeg, prepared raw, each in the main process (one core).
Each source is also timed as the launcher reads it (`uint8=True`: clips before the float
conversion, which the launcher runs on the device); the prepared jpeg set also through
`batching.batches` with 1 and 2 worker processes (float and uint8) and 2 threads,
interleaved.

  python -m benchmarks.run --only prepared_data [--quick]

Records: clips/s per source, the ratio prepared/raw, bytes per stored frame, prepare seconds
per 1,000 videos (one process), and UCF101's size when prepared, estimated as bytes per
frame x 2.4 M frames (13,320 videos, 7.2 s mean at 25 fps). The 1-min load average is in
every record's config.
"""

import os
import statistics
import tempfile
import time

import av
import numpy as np

from sideways_jax.data import batching
from sideways_jax.data import prepare as prepare_lib
from sideways_jax.data import ucf101 as ucf101_lib

UCF101_FRAMES = 13320 * 7.21 * 25  # videos x mean seconds x fps


def photo():
  import matplotlib.cbook  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  path = matplotlib.cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
  return np.asarray(Image.open(path).convert('RGB'))


def write_footage(root, num_videos, seconds, fps=25, width=320, height=240):
  """UCF101 layout, two classes; each video pans across the photo along its own path."""
  image = photo()
  lists = os.path.join(root, 'ucfTrainTestlist')
  os.makedirs(lists, exist_ok=True)
  with open(os.path.join(lists, 'classInd.txt'), 'w') as f:
    f.write('1 PanA\n2 PanB\n')
  rows, rng = [], np.random.default_rng(0)
  for v in range(num_videos):
    cls = ('PanA', 'PanB')[v % 2]
    rel = f'{cls}/v_{cls}_g{v // 2 + 1:02d}_c01.avi'
    path = os.path.join(root, 'UCF-101', rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    y0, x0 = rng.integers(0, image.shape[0] - height), rng.integers(0, image.shape[1] - width)
    dy, dx = rng.uniform(-1.5, 1.5, 2)
    with av.open(path, 'w') as c:
      s = c.add_stream('mpeg4', rate=fps)
      s.width, s.height, s.pix_fmt, s.bit_rate = width, height, 'yuv420p', 1_000_000
      for i in range(int(seconds * fps)):
        y = int(np.clip(y0 + dy * i, 0, image.shape[0] - height))
        x = int(np.clip(x0 + dx * i, 0, image.shape[1] - width))
        frame = np.ascontiguousarray(image[y:y + height, x:x + width])
        for p in s.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
          c.mux(p)
      for p in s.encode():
        c.mux(p)
    rows.append((rel, v % 2 + 1))
  for name in ('trainlist01.txt', 'testlist01.txt'):
    with open(os.path.join(lists, name), 'w') as f:
      f.writelines(f'{r} {l}\n' for r, l in rows)


def _clips_per_s(ds, batch_size, num_batches, seed, **loader):
  it = batching.batches(ds, batch_size, seed=seed, **loader)
  for _ in range(1 + 2 * loader.get('num_workers', 0)):  # warm-up: every worker started
    next(it)                                              # (a process imports JAX: seconds)
  t0 = time.perf_counter()
  for _ in range(num_batches):
    batch = next(it)
  assert batch['frames'].shape[1:] == (16, 112, 112, 3)
  assert batch['frames'].dtype == (np.uint8 if loader.get('uint8') else np.float32)
  return num_batches * batch_size / (time.perf_counter() - t0)


def prepared_data(quick):
  """Records of the module docstring."""
  num_videos, seconds = (6, 3) if quick else (16, 7)
  batch_size, num_batches, repeats = (4, 3, 2) if quick else (8, 6, 5)
  clip = dict(frames_per_clip=16, temporal_stride=2, resolution=112)
  common = dict(source='320x240 mpeg4 avi 25fps, a panned photo', video_seconds=seconds,
                num_videos=num_videos, batch_size=batch_size, num_batches=num_batches,
                repeats=repeats, quick=quick, **clip)
  out = []
  with tempfile.TemporaryDirectory() as tmp:
    raw_root = os.path.join(tmp, 'files')
    write_footage(raw_root, num_videos, seconds)
    sets, index = {'raw files': ucf101_lib.ucf101('train', root=raw_root, **clip)}, {}
    uint8 = {}
    for fmt in ('jpeg', 'raw'):
      t0 = time.perf_counter()
      index[fmt] = prepare_lib.prepare('ucf101', raw_root, os.path.join(tmp, f'prepared_{fmt}'), fmt=fmt,
                                       log=lambda line: None)
      per_1000 = (time.perf_counter() - t0) / num_videos * 1000
      frames = sum(r[1] for r in index[fmt]['records'])
      per_frame = index[fmt]['bytes'] / frames
      load = os.getloadavg()[0]
      out += [
          dict(name=f'prepare_{fmt}_s_per_1000_videos', value=per_1000, unit='s',
               config=dict(common, format=fmt, workers=1, load_1min=load)),
          dict(name=f'prepared_{fmt}_bytes_per_frame', value=per_frame, unit='bytes',
               config=dict(common, format=fmt, short_side=128, load_1min=load)),
          dict(name=f'prepared_{fmt}_ucf101_estimate_gib', value=per_frame * UCF101_FRAMES
               / 2**30, unit='GiB', config=dict(common, format=fmt, short_side=128,
                                                frames=int(UCF101_FRAMES)))]
      sets[f'prepared {fmt}'] = ucf101_lib.ucf101('train', prepared=os.path.join(tmp, f'prepared_{fmt}'),
                                                  **clip)
    # The launcher's path: uint8 clips, made floats on the device.
    uint8 = {f'{name} uint8': ds for name, ds in sets.items()}
    times = {name: [] for name in list(sets) + list(uint8)}
    for r in range(repeats):  # interleaved: each repeat times every source once
      for name, ds in sets.items():
        times[name].append(_clips_per_s(ds, batch_size, num_batches, seed=r))
        times[f'{name} uint8'].append(_clips_per_s(ds, batch_size, num_batches, seed=r,
                                                   uint8=True))
    median = {name: statistics.median(v) for name, v in times.items()}
    load = os.getloadavg()[0]
    for name, value in median.items():
      out.append(dict(name=f'clips_per_s_{name.replace(" ", "_")}_main_process', value=value,
                      unit='clips/s', config=dict(common, workers=0, load_1min=load)))
    for fmt in ('jpeg', 'raw'):
      for kind in ('', ' uint8'):
        out.append(dict(name=f'prepared_{fmt}_over_raw_files{kind.replace(" ", "_")}',
                        value=median[f'prepared {fmt}{kind}'] / median[f'raw files{kind}'],
                        unit='x', config=dict(common, workers=0, load_1min=load,
                                              uint8=bool(kind),
                                              goal='>= 10' if kind else None)))
    loaders = {'1_process': dict(num_workers=1, worker_type='process'),
               '2_processes': dict(num_workers=2, worker_type='process'),
               '2_threads': dict(num_workers=2, worker_type='thread'),
               '1_process_uint8': dict(num_workers=1, worker_type='process', uint8=True),
               '2_processes_uint8': dict(num_workers=2, worker_type='process', uint8=True)}
    by_loader = {name: [] for name in loaders}
    for r in range(repeats):
      for name, loader in loaders.items():
        by_loader[name].append(_clips_per_s(sets['prepared jpeg'], batch_size,
                                            num_batches * 2, seed=r, **loader))
    load = os.getloadavg()[0]
    value = {name: statistics.median(v) for name, v in by_loader.items()}
    for name, loader in loaders.items():
      out.append(dict(name=f'clips_per_s_prepared_jpeg_{name}', value=value[name],
                      unit='clips/s', config=dict(common, **loader, load_1min=load)))
    for kind in ('', '_uint8'):
      out.append(dict(name=f'prepared_jpeg_2_over_1_processes{kind}',
                      value=value[f'2_processes{kind}'] / value[f'1_process{kind}'], unit='x',
                      config=dict(common, load_1min=load, uint8=bool(kind),
                                  goal='>= 1.8' if kind else None)))
  return out


SUITES = {'prepared_data': prepared_data}
