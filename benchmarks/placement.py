"""Placement benchmarks: overhead on one device, overlap on two, tick accounting and bytes.

- placement_overhead_1dev: a placed step on a 1 x 1 mesh over the unplaced engine's step,
  same network and batch (vgg-small + input skips, 16 clips x 16 frames, 32x32), medians of
  interleaved runs. Goal <= 1.05.
- pipeline_overlap_2dev: a balanced 2-module pipeline placed on 2 (fake CPU) devices, from
  a profiler trace of steady-state steps: the fraction of the steps' wall time in which two
  XLA CPU worker threads execute at once. The CPU trace names threads, not devices, so a
  second, timing-based estimate stands beside it: with the whole network on one device
  taking T1 and the two halves on two devices T2, both devices run at once a fraction
  f = T1 / T2 - 1 of the time (1 when halves overlap perfectly). Goal >= 0.8. Needs 2 idle
  cores; the record says how loaded the machine was.
- busy_fraction[ALG,D=d]: per device, the fraction of device-ticks doing work over a
  16-frame clip, read off the schedule (sideways_jax.timeline): Sideways after its pipeline
  has filled (1: every device works on every tick) and GPipe (its bubble is
  (D-1)/(T+D-1)).
- bytes_per_tick[vgg-SIZE,D=d]: bytes the placed Sideways step moves between devices per
  tick (activations up, gradient messages down, each packed vector once per sending
  device), and padding_overhead[...]: the extra bytes of packed per-device state (params,
  optimizer state, window, buffers) over what the modules use, from the packing layouts.
"""

import glob
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj
from sideways_jax import timeline
from sideways_jax.mesh import plan as mesh_plan


def _batch(batch_size, frames, resolution, channels=3, seed=0):
  rng = np.random.RandomState(seed)
  return {'frames': rng.rand(batch_size, frames, resolution, resolution,
                             channels).astype(np.float32),
          'labels': np.repeat(rng.randint(0, 8, (batch_size, 1)), frames, 1).astype(np.int32),
          'video_ids': np.repeat(np.arange(batch_size)[:, None], frames, 1).astype(np.int32)}


def _medians(fns, runs):
  for fn in fns:
    fn()
  times = [[] for _ in fns]
  for _ in range(runs):
    for fn, ts in zip(fns, times):
      start = time.perf_counter()
      fn()
      ts.append(time.perf_counter() - start)
  return [statistics.median(ts) for ts in times]


def _load():
  return round(os.getloadavg()[0], 2)


def placement_overhead(quick):
  batch = _batch(16, 8 if quick else 16, 32)
  net = sj.models.vgg('small', num_classes=8, skips='input')
  task, opt = sj.Classification(8), optax.adam(3e-4)
  plain = sj.build(net, opt, task)
  placed = sj.build(net, opt, task, placement=sj.place(net, sj.make_mesh(1, 1)))
  state, placed_state = plain.init(jax.random.PRNGKey(0), batch), None
  placed_state = placed.init(jax.random.PRNGKey(0), batch)
  plain_s, placed_s = _medians(
      [lambda: jax.block_until_ready(plain.step(state, batch)),
       lambda: jax.block_until_ready(placed.step(placed_state, batch))], 5 if quick else 9)
  return [{'name': 'placement_overhead_1dev', 'value': placed_s / plain_s, 'unit': 'ratio',
           'config': {'network': 'vgg-small+input', 'batch_size': 16,
                      'frames': batch['frames'].shape[1], 'resolution': 32,
                      'unplaced_ms': round(plain_s * 1e3, 1),
                      'placed_ms': round(placed_s * 1e3, 1), 'load_avg_1min': _load(),
                      'goal': '<= 1.05'}}]


def _two_module_net(channels=16):
  def half(last):
    def module(x):
      for i in range(2):
        x = jax.nn.relu(sj.Conv2D(channels, 3, name=f'conv{i}')(x))
      if last:
        x = sj.Conv2D(channels, 3, name='conv_out')(x).mean(axis=(1, 2))
        import haiku as hk  # pylint: disable=g-import-not-at-top
        return hk.Linear(8)(x)
      return jax.nn.relu(sj.Conv2D(channels, 3, name='conv_out')(x))
    return module
  return sj.Network((half(False), half(True)))


def _trace_overlap(trainer, state, batch, steps):
  """Fraction of the traced steps' span in which two XLA CPU worker threads run at once."""
  with tempfile.TemporaryDirectory() as log_dir:
    with jax.profiler.trace(log_dir, create_perfetto_trace=True):
      for _ in range(steps):
        state, _ = trainer.step(state, batch)
      jax.block_until_ready(state)
    path = glob.glob(os.path.join(log_dir, '**', '*perfetto*.json.gz'), recursive=True)[0]
    with gzip.open(path) as f:
      events = json.load(f)
  events = events['traceEvents'] if isinstance(events, dict) else events
  names = {(e.get('pid'), e.get('tid')): e['args']['name'] for e in events
           if e.get('ph') == 'M' and e.get('name') == 'thread_name'}
  spans = {}
  for e in events:
    thread = names.get((e.get('pid'), e.get('tid')), '')
    if e.get('ph') == 'X' and 'XLAEigen' in thread and e['name'] == 'ThunkExecutor::Execute':
      spans.setdefault(thread, []).append((e['ts'], e['ts'] + e['dur']))
  if len(spans) < 2:
    return float('nan'), len(spans)
  points = sorted([(a, 1) for s in spans.values() for a, _ in s] +
                  [(b, -1) for s in spans.values() for _, b in s])
  busy, both, last, start, end = 0, 0., points[0][0], points[0][0], points[-1][0]
  for ts, delta in points:
    if busy >= 2:
      both += ts - last
    busy, last = busy + delta, ts
  return both / max(end - start, 1e-9), len(spans)


def pipeline_overlap(quick):
  """Runs `_pipeline_overlap` in a fresh process with 2 fake CPU devices."""
  if len(jax.devices()) >= 2:
    return _pipeline_overlap(quick)
  env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=2',
             JAX_ENABLE_COMPILATION_CACHE='false')
  out = subprocess.run([sys.executable, '-m', 'benchmarks.placement', 'overlap',
                        'quick' if quick else 'full'], env=env, check=True,
                       capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  return json.loads(out.stdout.strip().splitlines()[-1])


def _pipeline_overlap(quick):
  batch = _batch(16, 8 if quick else 16, 32)
  net = _two_module_net()
  task, opt = sj.Classification(8), optax.adam(3e-4)
  one = sj.build(net, opt, task, placement=sj.place(net, sj.make_mesh(1, 1)))
  two = sj.build(net, opt, task, placement=sj.place(net, sj.make_mesh(2, 1), groups=(0, 1)))
  s1, s2 = one.init(jax.random.PRNGKey(0), batch), two.init(jax.random.PRNGKey(0), batch)
  t1, t2 = _medians([lambda: jax.block_until_ready(one.step(s1, batch)),
                     lambda: jax.block_until_ready(two.step(s2, batch))], 5 if quick else 9)
  traced, threads = _trace_overlap(two, s2, batch, 3)
  return [{'name': 'pipeline_overlap_2dev', 'value': traced, 'unit': 'fraction',
           'config': {'network': '2 modules x 3 convs, 16 channels', 'batch_size': 16,
                      'resolution': 32, 'frames': batch['frames'].shape[1],
                      'measure': 'profiler: both XLA CPU worker threads executing',
                      'worker_threads': threads, 'load_avg_1min': _load(),
                      'goal': '>= 0.8'}},
          {'name': 'pipeline_overlap_2dev[timing]', 'value': t1 / t2 - 1, 'unit': 'fraction',
           'config': {'one_device_ms': round(t1 * 1e3, 1), 'two_devices_ms': round(t2 * 1e3, 1),
                      'measure': 'f = T1/T2 - 1', 'load_avg_1min': _load(),
                      'goal': '>= 0.8'}}]


def tick_accounting(quick):
  del quick
  records, frames = [], 16
  for devices in (2, 4, 8):
    for algorithm in ('sideways', 'gpipe'):
      value = timeline.busy_fraction(devices, frames, algorithm)
      records.append({'name': f'busy_fraction[{algorithm},D={devices}]', 'value': value,
                      'unit': 'fraction',
                      'config': {'frames': frames, 'devices': devices,
                                 'bubble': round(1 - value, 4),
                                 'expected_gpipe_bubble': round((devices - 1) /
                                                                (frames + devices - 1), 4),
                                 'note': 'sideways: steady state, after fill'}})
  for size, stage_counts in (('tiny', (2, 3)), ('small', (2, 4)), ('base', (2, 4, 8))):
    net = sj.models.vgg(size, num_classes=8, skips='input')
    batch = _batch(16, 16, 32)
    state = sj.build(net, optax.adam(3e-4), sj.Classification(8)).init(
        jax.random.PRNGKey(0), batch)
    for devices in stage_counts:
      # Layouts need only the stage count: an abstract mesh, no devices.
      mesh = jax.sharding.AbstractMesh((devices, 1), ('stage', 'data'))
      placement = sj.place(net, mesh, frame_shape=(16, 32, 32, 3))
      clock = sj.clock.Clock(net, net.graph(), net.apply_fns(), sj.Classification(8), None, 1)
      plan = mesh_plan.Plan(clock, placement, (optax.adam(3e-4),) * net.num_modules, True,
                            jax.eval_shape(lambda: state.params),
                            jax.ShapeDtypeStruct((16, 32, 32, 3), jnp.float32))
      moved = sum(n * np.dtype(k).itemsize for link in plan.links
                  for k, n in plan.link_sizes[link].items())
      used = padded = 0
      for layouts, sizes in ((plan.param_layouts, plan.param_sizes),
                             (plan.rest_layouts, plan.rest_sizes),
                             (plan.buffer_layouts, plan.buffer_sizes)):
        for layout in layouts:
          used += sum(n * np.dtype(k).itemsize for k, n in layout.sizes.items())
          padded += sum(n * np.dtype(k).itemsize for k, n in sizes.items())
      name = f'vgg-{size}+input,D={devices}'
      records.append({'name': f'bytes_per_tick[{name}]', 'value': float(moved),
                      'unit': 'bytes',
                      'config': {'stages': list(placement.stages), 'batch_size': 16,
                                 'resolution': 32}})
      records.append({'name': f'padding_overhead[{name}]', 'value': padded / used - 1,
                      'unit': 'fraction',
                      'config': {'stages': list(placement.stages), 'used_bytes': used,
                                 'packed_bytes': padded,
                                 'grouping': 'cost (sj.place default)'}})
  return records


SUITES = {
    'placement_overhead_1dev': placement_overhead,
    'pipeline_overlap_2dev': pipeline_overlap,
    'tick_accounting': tick_accounting,
}


if __name__ == '__main__':
  if sys.argv[1:2] == ['overlap']:
    print(json.dumps(_pipeline_overlap(sys.argv[2:3] == ['quick'])))
