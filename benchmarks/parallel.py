"""Depth parallelism, measured: does a second device make a step faster?

XLA:CPU (jax 0.10) runs every device of a process on one shared intra-op thread pool and
splits each op over it, so one fake CPU device already keeps every core busy, and
`--xla_cpu_multi_thread_eigen=false` no longer confines a device to one thread (one device
ran an elementwise loop with 1.96 cores busy; two devices doing a block each took 1.95x one
device's time). Two settings therefore stand side by side:

- depth_speedup[NET,ALG,processes]: **one core per device**, the model of separate
  accelerators: each stage device is its own process pinned to its own core
  (`jax.distributed` + gloo carry the `ppermute`s), against the whole network in one
  process pinned to one core. The limit is 2.0; Sideways' goal >= 1.8; gpipe's bound is
  2 / (1 + (D-1)/(T+D-1)). The gloo exchange between processes costs ~1 ms per collective
  here, so this is the harder setting for a pipeline that exchanges every tick.
- depth_speedup[NET,ALG,threads]: both devices in one process on the same 2 cores against
  one device on those 2 cores (what `--config.stage_devices=2` gives on a CPU), and the
  same one device pinned to one core (`one_core_ms`: what the second core buys a single
  device).
- ALG: `sideways`, placed `bptt` and `gpipe` on 2 stage devices (the launcher's
  `stage_devices=2`, modules grouped by `placement_groups`), `bptt[data=2]` (the batch
  split over 2 devices instead, `data_devices=2`), and `infer`: streaming inference
  (`algorithm='infer', stream=True`: forward only, one frame in and one output out per
  tick, buffers carried across calls; its speed-up is its frames/s ratio).
- NET: `default` (experiments/configs/default.py: VGG-small_pool3 + input skips, head
  conv, modules 1-2 frozen, local heads, 16 clips x 16 frames at 32x32), `small_all`
  (VGG-small, every module learning, no local heads: modules of more even cost) and
  `vgg8_64` (default.py:ucf101's VGG-8 regime at a quarter width, 8 clips x 16 frames at
  64x64).
- `bound` in a record: 1 / the heaviest stage's share of the modules' weighed cost
  (`Placement.shares`): the speed-up a pipeline of these groups could reach if nothing but
  the modules' ticks cost time. A module heavier than half the network caps it below 2.

Medians of steps after compile; the 1-minute load average before and after is in each
record (the machine must be otherwise idle for the numbers to mean anything).

    python -m benchmarks.run --only depth_speedup
    python -m benchmarks.parallel threads '{"net": "default", "algorithms": ["sideways"]}'
    python -m benchmarks.parallel processes '{"net": "default", "algorithms": ["sideways"]}'
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import types

ALGORITHMS = ('sideways', 'bptt', 'gpipe', 'bptt[data=2]', 'infer')
NETS = {
    'default': {'variant': '', 'overrides': {}},
    'small_all': {'variant': '', 'overrides': {
        'model.size': 'small', 'module_lr_scales': '', 'model.local_heads': ''}},
    'vgg8_64': {'variant': 'ucf101', 'overrides': {
        'model.width': 0.25, 'dataset.resolution': 64, 'batch_size': 8,
        'frames_per_clip': 16}},
}
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load():
  return round(os.getloadavg()[0], 2)


def _split(name):
  """'bptt[data=2]' -> ('bptt', stage 1, data 2); 'sideways' -> ('sideways', 2, 1)."""
  if name.endswith('[data=2]'):
    return name[:-len('[data=2]')], 1, 2
  return name, 2, 1


def _config(net, algorithm, stage, data, groups=None):
  from experiments.configs import default  # pylint: disable=g-import-not-at-top
  spec = NETS[net]
  config = default.get_config(spec['variant'])
  for key, value in spec['overrides'].items():
    node, *path = key.split('.')
    target = config[node] if path else config
    target[path[0] if path else node] = value
  config.algorithm = algorithm
  if algorithm != 'sideways':
    config.model.local_heads = ''  # a Sideways regime; the baselines train the top's loss
  config.stage_devices, config.data_devices = stage, data
  if groups:
    config.placement_groups = groups
  return config


def setup(net, algorithm, stage, data, groups=None):
  """(trainer, state, batch, placement) as the launcher builds them, on random frames."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from experiments import builders  # pylint: disable=g-import-not-at-top
  config = _config(net, algorithm, stage, data, groups)
  res = config.dataset.resolution
  dataset = types.SimpleNamespace(num_classes=8, frame_shape=(res, res, 3))
  task, network = builders.make_task_and_network(config, dataset)
  b, t = config.batch_size, config.frames_per_clip
  if algorithm == 'infer':  # forward only, the buffers carried from call to call
    import optax  # pylint: disable=g-import-not-at-top
    import sideways_jax as sj  # pylint: disable=g-import-not-at-top
    placement = None
    if stage * data > 1:  # every module weighed by its forward alone
      placement = sj.place(network, sj.make_mesh(stage, data),
                           groups=builders.placement_groups(config),
                           frame_shape=(b // data, res, res, 3),
                           frozen=tuple(range(1, network.num_modules + 1)))
    trainer = sj.build(network, optax.identity(), task, algorithm='infer', stream=True,
                       placement=placement)
  else:
    trainer = builders.make_trainer(config, network, task, (res, res, 3))
  rng = np.random.RandomState(0)
  batch = {'frames': rng.rand(b, t, res, res, 3).astype(np.float32),
           'labels': np.repeat(rng.randint(0, 8, (b, 1)), t, 1).astype(np.int32),
           'video_ids': np.repeat(np.arange(b)[:, None], t, 1).astype(np.int32)}
  state = trainer.init(jax.random.PRNGKey(0), batch)
  placement = getattr(trainer, 'placement', None)
  return trainer, state, batch, placement


def stepper(trainer, state, batch):
  """A function running one step (blocking), carrying the state."""
  import jax  # pylint: disable=g-import-not-at-top
  box = [state]

  def run():
    box[0], metrics = trainer.step(box[0], batch)
    jax.block_until_ready((box[0], metrics))
  return run


def _pin(cores):
  """Every thread of this process on `cores` (threads made later inherit the caller's)."""
  for tid in os.listdir('/proc/self/task'):
    try:
      os.sched_setaffinity(int(tid), cores)
    except OSError:  # a thread that has just ended
      pass


def _describe(placement):
  """(stages, bound) of a placement (None, None without one)."""
  if placement is None:
    return None, None
  shares = placement.shares()
  return list(placement.stages), (round(1 / max(shares), 3) if shares else None)


def _record(net, name, groups, stages, bound=None, **fields):
  algorithm, stage, data = _split(name)
  config = _config(net, algorithm, stage, data, groups)
  frames = config.frames_per_clip
  out = {'stages': stages, 'bound': bound,
         'grouping': config.placement_groups if stage > 1 else 'data',
         'batch_size': config.batch_size, 'frames': frames,
         'resolution': config.dataset.resolution, 'limit': 2.0, **fields}
  if algorithm == 'sideways' and data == 1:
    out['goal'] = '>= 1.8'
  if algorithm == 'gpipe':
    out['bubble_bound'] = round(2 / (1 + 1 / (frames + 1)), 3)
  return out


def threads(net, algorithms, runs, groups=None):
  """One process, 2 fake devices on the same cores: 2 devices vs 1 (and 1 on one core)."""
  records = []
  all_cores = os.sched_getaffinity(0)
  for name in algorithms:
    algorithm, stage, data = _split(name)
    one, two = setup(net, algorithm, 1, 1), setup(net, algorithm, stage, data, groups)
    run_one, run_two = stepper(*one[:3]), stepper(*two[:3])
    load_before = _load()
    for fn in (run_one, run_two, run_one, run_two):  # compile and warm up
      fn()
    times = {'one_core': [], 'one': [], 'two': []}
    for _ in range(runs):
      for key, fn in (('one_core', run_one), ('one', run_one), ('two', run_two)):
        _pin({min(all_cores)} if key == 'one_core' else all_cores)
        start = time.perf_counter()
        fn()
        times[key].append(time.perf_counter() - start)
    _pin(all_cores)
    t = {k: statistics.median(v) for k, v in times.items()}
    records.append({'name': f'depth_speedup[{net},{name},threads]', 'value': t['one'] / t['two'],
                    'unit': 'x', 'config': _record(
                        net, name, groups, *_describe(two[3]), one_device_ms=round(t['one'] * 1e3, 1),
                        two_devices_ms=round(t['two'] * 1e3, 1),
                        one_core_ms=round(t['one_core'] * 1e3, 1), runs=runs,
                        cores=len(all_cores), load_avg_1min_before=load_before,
                        load_avg_1min_after=_load())})
  return records


def _free_port():
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def worker(spec, process_id, num_processes, port):
  """One process of the `processes` setting: pinned to its core, one device; prints the
  median step time (process 0)."""
  import jax  # pylint: disable=g-import-not-at-top
  if num_processes > 1:
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
    jax.distributed.initialize(coordinator_address=f'localhost:{port}',
                               num_processes=num_processes, process_id=process_id,
                               initialization_timeout=120)
  algorithm, stage, data = _split(spec['name'])
  if num_processes == 1:
    stage = data = 1
  trainer, state, batch, placement = setup(spec['net'], algorithm, stage, data,
                                           spec.get('groups'))
  run = stepper(trainer, state, batch)
  run()
  run()
  times = []
  for _ in range(spec['runs']):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
  if process_id == 0:
    stages, bound = _describe(placement)
    print(json.dumps({'times': times, 'stages': stages, 'bound': bound}), flush=True)
  if num_processes > 1:
    jax.distributed.shutdown()


def _launch(spec, num_processes):
  port = _free_port()
  procs = []
  for i in range(num_processes):
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1',
               JAX_PLATFORMS='cpu', SIDEWAYS_PIN_CORE=str(i % os.cpu_count()))
    procs.append(subprocess.Popen(
        [sys.executable, '-m', 'benchmarks.parallel', 'worker', json.dumps(spec), str(i),
         str(num_processes), str(port)], env=env, cwd=_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True))
  outs = [p.communicate(timeout=1200) for p in procs]
  for p, (_, err) in zip(procs, outs):
    if p.returncode:
      raise RuntimeError(f'a benchmark worker failed:\n{err[-3000:]}')
  return json.loads(outs[0][0].strip().splitlines()[-1])


def processes(net, algorithms, runs, groups=None, rounds=2):
  """One core per device: 2 pinned processes against 1, alternating `rounds` times."""
  records = []
  for name in algorithms:
    spec = {'net': net, 'name': name, 'runs': runs, 'groups': groups}
    load_before = _load()
    one, two, out = [], [], {}
    for _ in range(rounds):
      one += _launch(spec, 1)['times']
      out = _launch(spec, 2)
      two += out['times']
    t1, t2 = statistics.median(one), statistics.median(two)
    records.append({'name': f'depth_speedup[{net},{name},processes]', 'value': t1 / t2,
                    'unit': 'x', 'config': _record(
                        net, name, groups, out['stages'], out['bound'],
                        one_device_ms=round(t1 * 1e3, 1),
                        two_devices_ms=round(t2 * 1e3, 1), runs=runs * rounds,
                        cores_per_device=1, exchange='gloo between processes',
                        load_avg_1min_before=load_before, load_avg_1min_after=_load())})
  return records


def _child(mode, spec, quick):
  env = dict(os.environ, JAX_PLATFORMS='cpu',
             XLA_FLAGS='--xla_force_host_platform_device_count=2')
  spec = dict(spec, runs=spec.get('runs', 3 if quick else 7))
  out = subprocess.run([sys.executable, '-m', 'benchmarks.parallel', mode, json.dumps(spec)],
                       env=env, check=True, capture_output=True, text=True, cwd=_ROOT)
  return json.loads(out.stdout.strip().splitlines()[-1])


# (net, setting, algorithms) measured by the suite; --quick: the first row only.
PLAN = (('default', 'processes', ALGORITHMS),
        ('small_all', 'processes', ('sideways',)),
        ('vgg8_64', 'processes', ('sideways', 'bptt[data=2]', 'infer')),
        ('default', 'threads', ('sideways', 'bptt[data=2]')))


def depth_speedup(quick):
  records = []
  for net, mode, algorithms in (PLAN[:1] if quick else PLAN):
    records += _child(mode, {'net': net, 'algorithms': list(algorithms)}, quick)
  return records


SUITES = {'depth_speedup': depth_speedup}


if __name__ == '__main__':
  if sys.argv[1] == 'worker':
    if os.environ.get('SIDEWAYS_PIN_CORE'):
      os.sched_setaffinity(0, {int(os.environ['SIDEWAYS_PIN_CORE'])})
    worker(json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
  else:
    args = json.loads(sys.argv[2])
    fn = {'threads': threads, 'processes': processes}[sys.argv[1]]
    print(json.dumps(fn(args['net'], args.get('algorithms', ALGORITHMS), args.get('runs', 7),
                        args.get('groups'))))
