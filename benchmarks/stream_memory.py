"""Peak memory of online training on one long video: Sideways streams it in fixed chunks.

- stream_rss_ratio_4096_128: peak RSS of a process training `sideways` (stream=True) on a
  4096-frame video in chunks of 32 frames, over the same for a 128-frame video. The clock
  never resets and buffers carry across chunks, so memory must not grow with the video:
  goal <= 1.10.
- bptt_video_rss_ratio[T_128]: `bptt` beside it, unrolled over the whole video as one clip
  (the exact gradient needs every tick's activations), for T = 256, 512, ... up to where it
  fits in a memory budget (a quarter of the available memory, at most 4 GiB): it grows
  with T.

Each measurement is a fresh process (`ru_maxrss` is a process's peak). Chunks are rendered
on the fly (a square moving on a textured background), so the data side holds one chunk:
`data.streams.video_stream` keeps each lane's current video whole, which would measure the
loader rather than the training step.
"""

import json
import os
import resource
import subprocess
import sys
import time

_CHUNK = 32


def _settings(quick):
  return (dict(size='tiny', resolution=16, batch_size=2) if quick else
          dict(size='small', resolution=32, batch_size=4))


def _video_chunks(num_frames, chunk, batch_size, resolution):
  """The video in chunks of `chunk` frames: a square moving right, one lane per clip."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  background = rng.random((batch_size, resolution, resolution, 3), np.float32) * 0.3
  for start in range(0, num_frames, chunk):
    t = np.arange(start, start + chunk)
    frames = np.repeat(background[:, None], chunk, axis=1)
    x = (t * 1.5).astype(int) % (resolution - 4)
    for i, xi in enumerate(x):
      frames[:, i, 4:9, xi:xi + 4] = 1.0
    labels = np.zeros((batch_size, chunk), np.int32)
    ids = np.repeat(np.arange(batch_size, dtype=np.int32)[:, None], chunk, axis=1)
    yield {'frames': frames, 'labels': labels, 'video_ids': ids}


def child(algorithm, num_frames, size, resolution, batch_size):
  """Trains on one video; returns peak RSS (MiB) and seconds. Runs in its own process."""
  import jax  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  import sideways_jax as sj  # pylint: disable=g-import-not-at-top
  net = sj.models.vgg(size, num_classes=2, skips='input')
  stream = algorithm == 'sideways'
  trainer = sj.build(net, optax.adam(1e-4), sj.Classification(2), algorithm=algorithm,
                     stream=stream)
  chunk = _CHUNK if stream else num_frames  # bptt: the whole video is one clip
  start, state = time.time(), None
  for batch in _video_chunks(num_frames, chunk, batch_size, resolution):
    if state is None:
      state = trainer.init(jax.random.PRNGKey(0), batch)
    state, metrics = trainer.step(state, batch)
    jax.block_until_ready(metrics)
  if stream:
    assert int(state.clock) == num_frames, 'the stream clock must never reset'
  return {'peak_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          'seconds': time.time() - start}


def _measure(algorithm, num_frames, quick):
  args = [sys.executable, '-m', 'benchmarks.stream_memory', algorithm, str(num_frames),
          json.dumps(_settings(quick))]
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  out = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=1800,
                       check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def _budget_mib():
  available = 4096.
  try:
    with open('/proc/meminfo') as f:
      for line in f:
        if line.startswith('MemAvailable:'):
          available = min(available, int(line.split()[1]) / 1024 / 4)
  except OSError:
    pass
  return available


def stream_rss_ratio(quick):
  settings = _settings(quick)
  short, long = _measure('sideways', 128, quick), _measure('sideways', 4096, quick)
  config = dict(network=f'vgg-{settings["size"]}', skips='input', chunk_frames=_CHUNK,
                batch_size=settings['batch_size'], resolution=settings['resolution'],
                rss_mib_128=round(short['peak_rss_mib'], 1),
                rss_mib_4096=round(long['peak_rss_mib'], 1),
                seconds_4096=round(long['seconds'], 1),
                load_avg=round(os.getloadavg()[0], 2), goal='<= 1.10')
  records = [{'name': 'stream_rss_ratio_4096_128',
              'value': long['peak_rss_mib'] / short['peak_rss_mib'], 'unit': 'ratio',
              'config': config}]
  base = _measure('bptt', 128, quick)
  budget, frames = _budget_mib(), 256
  previous = base['peak_rss_mib']
  while frames <= 4096 and previous * 2.2 < budget:  # the next one would likely not fit
    got = _measure('bptt', frames, quick)
    records.append({'name': f'bptt_video_rss_ratio[{frames}_128]',
                    'value': got['peak_rss_mib'] / base['peak_rss_mib'], 'unit': 'ratio',
                    'config': dict(network=f'vgg-{settings["size"]}', skips='input',
                                   batch_size=settings['batch_size'],
                                   resolution=settings['resolution'],
                                   rss_mib_128=round(base['peak_rss_mib'], 1),
                                   rss_mib=round(got['peak_rss_mib'], 1),
                                   budget_mib=round(budget), note='one clip = the video')})
    previous, frames = got['peak_rss_mib'], frames * 2
  return records


SUITES = {'stream_rss_ratio_4096_128': stream_rss_ratio}


if __name__ == '__main__':
  print(json.dumps(child(sys.argv[1], int(sys.argv[2]), **json.loads(sys.argv[3]))))
