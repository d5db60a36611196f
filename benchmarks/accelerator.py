"""A real variant's step on whatever devices are present: `python -m benchmarks.run --only
accelerator` (a GPU / TPU if JAX sees one, else the CPU).

The network and regime of `experiments/configs/default.py:ucf101` (`_real`): VGG-8 ('base',
K = 8), input skips, head conv, local heads under Sideways, modules 1-5 held, one Adam step
per clip; 16 frames at 112x112, batch 8, full width. On a CPU, or with `--quick`, a smaller
clip and width (the records' config says which) so it ends in about two minutes.

Records, per algorithm A (`sideways`, `bptt`, `backprop`, `gpipe`):
- `accelerator[A:step_s]`: median seconds of a training step (one clip batch) after compile.
- `accelerator[A:frames_per_s]`: batch * frames / step time.
- `accelerator[A:compile_s]`: lowering + compiling the step.
- `accelerator[A:mfu]` (only on a device of the peak table below): model FLOPs per step /
  step time / the device's peak FLOP/s. On a CPU or an unknown device there is no peak to
  divide by: `accelerator[A:tflops_per_s]` (achieved) instead, and config says why.
With more than one device, `accelerator[sideways_placed:frames_per_s]` (the step placed on
S = min(8, devices, K) stage devices, modules grouped by measured cost) and
`accelerator[sideways_placed/one_device]` (its frames/s over one device's).

Model FLOPs: XLA's cost analysis of the compiled step counts a while loop's body once, not
once per iteration (measured: a sideways step of 4 and of 8 frames report the same FLOPs),
and every algorithm here runs its ticks in a scan. So the FLOPs are counted on a loop-free
program instead: one frame batch's forward through every module plus the gradient of the
top's loss with respect to the modules that learn (the held ones forward only), from
`cost_analysis()`, times the clip's frames. It is the work a per-frame model does (the
usual MFU numerator); Sideways' drain ticks and local-head losses are not counted.
The compiled step's own (loop-once) figure is kept in config as `xla_step_flops_loop_once`.
"""

import os
import statistics
import time
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj
from experiments import builders
from experiments.configs import default

ALGORITHMS = ('sideways', 'bptt', 'backprop', 'gpipe')

# Dense peak FLOP/s per chip (no structured sparsity), by `device_kind` substring; first
# match wins. For each compute dtype: (TFLOP/s, basis). float32 convs/dots at JAX's default
# matmul precision run on TF32 tensor cores on NVIDIA Ampere / Hopper and as one bf16 pass
# on a TPU's MXU, so those are the float32 peaks here; with
# jax_default_matmul_precision='highest' the GPU's plain FP32 figure applies ('float32_highest').
# NVIDIA: H100 / H200 datasheets (nvidia.com/en-us/data-center/h100, /h200: SXM FP32 67,
# TF32 989* and BF16 1,979* TFLOPS, * = with sparsity, halved here; H100 PCIe 51 / 756* /
# 1,513*; NVL 60 / 835* / 1,671*); A100 datasheet (FP32 19.5, TF32 156, BF16 312 dense).
# Google Cloud TPU docs (cloud.google.com/tpu/docs/v4, /v5e, /v5p): bf16 peak per chip
# 275 (v4), 197 (v5e), 459 (v5p) TFLOP/s.
_H100_SXM = {'float32': (494.5, 'TF32 tensor core, dense'), 'bfloat16': (989.5, 'BF16 dense'),
             'float32_highest': (67., 'FP32')}
_NVL = {'float32': (417.5, 'TF32 tensor core, dense'), 'bfloat16': (835.5, 'BF16 dense'),
        'float32_highest': (60., 'FP32')}
_tpu = lambda tflops: {'float32': (tflops, 'BF16 MXU (one pass)'), 'bfloat16': (tflops, 'BF16')}
PEAKS = (
    (('H100', 'PCIe'), 'H100 PCIe', {'float32': (378., 'TF32 tensor core, dense'),
                                     'bfloat16': (756.5, 'BF16 dense'),
                                     'float32_highest': (51., 'FP32')}),
    (('H100', 'NVL'), 'H100 NVL', _NVL),
    (('H100',), 'H100 SXM', _H100_SXM),
    (('H200', 'NVL'), 'H200 NVL', _NVL),
    (('H200',), 'H200 SXM', _H100_SXM),
    (('A100',), 'A100', {'float32': (156., 'TF32 tensor core, dense'),
                         'bfloat16': (312., 'BF16 dense'), 'float32_highest': (19.5, 'FP32')}),
    (('TPU v4',), 'TPU v4', _tpu(275.)),
    (('TPU v5 lite',), 'TPU v5e', _tpu(197.)),
    (('TPU v5e',), 'TPU v5e', _tpu(197.)),
    (('TPU v5',), 'TPU v5p', _tpu(459.)),   # v5p reports 'TPU v5p' or 'TPU v5'
)


def peak_flops(device_kind, dtype='float32', precision=None):
  """(peak FLOP/s, what it is) of one chip for `dtype` at `precision`, or (None, why not)."""
  for parts, name, peaks in PEAKS:
    if all(p.lower() in device_kind.lower() for p in parts):
      key = dtype + ('_highest' if precision in ('highest', 'float32') else '')
      if key not in peaks:
        return None, f'no {key} peak for {name} in the table'
      tflops, basis = peaks[key]
      return tflops * 1e12, f'{name} {basis} {tflops} TFLOP/s ({dtype} compute)'
  return None, f'no peak known for {device_kind!r} (CPU or not in the table): MFU left out'


def _config(algorithm, resolution, width, batch_size):
  config = default.get_config('ucf101')
  config.algorithm, config.batch_size = algorithm, batch_size
  config.model.width = width
  config.dataset.resolution = resolution
  return config


def _network(config):
  frame_shape = (config.dataset.resolution,) * 2 + (3,)
  dataset = types.SimpleNamespace(num_classes=101, frame_shape=frame_shape)
  return builders.make_task_and_network(config, dataset)


def _batch(batch_size, frames, resolution):
  rng = np.random.RandomState(0)
  return {'frames': jnp.asarray(rng.rand(batch_size, frames, resolution, resolution, 3),
                                jnp.float32),
          'labels': jnp.asarray(rng.randint(0, 101, (batch_size, frames)), jnp.int32),
          'video_ids': jnp.asarray(np.repeat(np.arange(batch_size)[:, None], frames, 1),
                                   jnp.int32)}


def _flops(compiled):
  analysis = compiled.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
  return float((analysis or {}).get('flops', 0.))


def model_flops(network, frozen, batch):
  """Loop-free FLOPs of a clip: per frame, the forward of every module and the gradient of
  the top's loss for the modules not in `frozen`; times the frames."""
  frame = batch['frames'][:, 0]
  params = network.init(jax.random.PRNGKey(0), frame)
  learn = [k for k in range(network.num_modules) if k + 1 not in frozen]

  def loss(learned, params, frame, labels):
    params = list(params)
    for k, p in zip(learn, learned):
      params[k] = p
    logits = sj.same_frame_forward(network, tuple(params), frame)[-1]
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

  args = ([params[k] for k in learn], params, frame, batch['labels'][:, 0])
  lowered = jax.jit(jax.grad(loss)).lower(*args)
  # Loop-free, so the unoptimised HLO's count is the compiled one's (within 0.2% on CPU),
  # without a compile; compiled where a backend gives none before.
  per_frame = _flops(lowered) or _flops(lowered.compile())
  return per_frame * batch['frames'].shape[1]


def _median_step_s(step, state, batch, steps):
  state, metrics = step(state, batch)  # warm-up (and, placed, compile)
  jax.block_until_ready(metrics)
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    state, metrics = step(state, batch)
    jax.block_until_ready((state, metrics))
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def _sizes(quick, on_cpu, resolution, frames, batch_size, width, steps):
  small = quick or on_cpu
  pick = lambda given, full, reduced: given if given is not None else (reduced if small else full)
  return (pick(resolution, 112, 32), pick(frames, 16, 8), pick(batch_size, 8, 4),
          pick(width, 1.0, 0.25), pick(steps, 10, 3))


def accelerator(quick, *, resolution=None, frames=None, batch_size=None, width=None,
                steps=None, algorithms=ALGORITHMS, placed=True):
  """The records above; sizes default to the real variant's (reduced on a CPU / quick)."""
  devices = jax.devices()
  dev = devices[0]
  on_cpu = dev.platform == 'cpu'
  resolution, frames, batch_size, width, steps = _sizes(
      quick, on_cpu, resolution, frames, batch_size, width, steps)
  precision = jax.config.jax_default_matmul_precision
  peak, peak_basis = peak_flops(dev.device_kind, 'float32', precision)
  batch = _batch(batch_size, frames, resolution)
  base = {'network': f'vgg-base (K=8) width {width}', 'variant': 'ucf101 regime',
          'device_kind': dev.device_kind, 'platform': dev.platform,
          'device_count': len(devices), 'dtype': 'float32',
          'matmul_precision': precision or 'default', 'batch_size': batch_size,
          'frames': frames, 'resolution': resolution, 'width': width, 'steps': steps,
          'reduced': (resolution, frames, batch_size, width) != (112, 16, 8, 1.0),
          'peak': peak_basis}
  if on_cpu:
    base['load_avg_1min'] = round(os.getloadavg()[0], 2)
  records, frames_per_s = [], {}
  for algorithm in algorithms:
    config = _config(algorithm, resolution, width, batch_size)
    task, network = _network(config)
    frozen = builders.frozen_modules(config, network.num_modules)
    trainer = builders.make_trainer(config, network, task, batch['frames'].shape[2:],
                                    placed=False)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    start = time.perf_counter()
    compiled = trainer.lower(state, batch).compile()
    compile_s = time.perf_counter() - start
    step_s = _median_step_s(compiled, state, batch, steps)
    flops = model_flops(network, frozen, batch)
    frames_per_s[algorithm] = batch_size * frames / step_s
    config = {**base, 'algorithm': algorithm, 'frozen_modules': ','.join(map(str, frozen)),
              'step_ms': round(step_s * 1e3, 2), 'model_flops_per_step': flops,
              'xla_step_flops_loop_once': _flops(compiled)}
    name = f'accelerator[{algorithm}:'
    records += [
        {'name': name + 'step_s]', 'value': step_s, 'unit': 's per step', 'config': config},
        {'name': name + 'frames_per_s]', 'value': frames_per_s[algorithm],
         'unit': 'frames/s (batch * frames / step)', 'config': config},
        {'name': name + 'compile_s]', 'value': compile_s, 'unit': 's (lower + compile)',
         'config': config}]
    if peak:
      records.append({'name': name + 'mfu]', 'value': flops / step_s / peak,
                      'unit': 'model FLOPs / s / peak', 'config': config})
    else:
      records.append({'name': name + 'tflops_per_s]', 'value': flops / step_s / 1e12,
                      'unit': 'model TFLOP/s achieved (no peak: MFU left out)',
                      'config': config})
  if placed and len(devices) > 1 and 'sideways' in algorithms:
    records += _placed(base, batch, frames_per_s['sideways'], steps)
  return records


def _placed(base, batch, one_device_fps, steps):
  """The sideways step placed on min(8, devices, K) stage devices, grouped by cost."""
  batch_size, frames = batch['frames'].shape[:2]
  config = _config('sideways', base['resolution'], base['width'], batch_size)
  task, network = _network(config)
  stages = min(8, len(jax.devices()), network.num_modules)
  placement = sj.place(network, sj.make_mesh(stage=stages), groups='cost',
                       frame_shape=(batch_size,) + tuple(batch['frames'].shape[2:]))
  trainer = sj.build(network, builders.make_optimizer(config, network.num_modules), task,
                     algorithm='sideways', update_every=config.update_every,
                     stream=config.stream, placement=placement,
                     frozen=builders.frozen_modules(config, network.num_modules))
  state = trainer.init(jax.random.PRNGKey(0), batch)
  step_s = _median_step_s(trainer.step, state, batch, steps)
  fps = batch_size * frames / step_s
  config = {**base, 'algorithm': 'sideways', 'stages': stages, 'groups': 'cost',
            'step_ms': round(step_s * 1e3, 2), 'one_device_frames_per_s': round(one_device_fps, 2)}
  return [{'name': 'accelerator[sideways_placed:frames_per_s]', 'value': fps,
           'unit': f'frames/s on {stages} stage devices', 'config': config},
          {'name': 'accelerator[sideways_placed/one_device]', 'value': fps / one_device_fps,
           'unit': 'ratio of frames/s', 'config': config}]


SUITES = {'accelerator': accelerator}

if __name__ == '__main__':
  for r in accelerator(False):
    print(f"{r['name']:44s} {r['value']:.4g} {r['unit']}")
