"""Engine benchmarks: tick cost vs per-frame backprop, memory and compile time vs clip length.

- tick_cost_ratio: one `sideways` tick / one per-frame `backprop` step, same network, one
  device. The baseline is timed as a user runs it (CONTRACTS.md): a standalone jitted
  per-frame step, optimizer update included, called from a Python loop. Goal <= 1.15.
- temp_bytes_ratio_T512_T32: XLA temp bytes of a compiled `sideways` step, T=512 vs 32
  (goal <= 1.10); `bptt` beside it for contrast (it stores activations for every tick).
- compile_ratio_T512_T16: compile time of a `sideways` step, T=512 vs 16 (goal <= 1.2).
"""

import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj
from sideways_jax import updates


def _setup(algorithm, num_frames, batch_size=16, size='small', resolution=32, stream=True,
           skips='none'):
  net = sj.models.vgg(size, num_classes=8, skips=skips)
  rng = np.random.RandomState(0)
  batch = {
      'frames': jnp.asarray(rng.rand(batch_size, num_frames, resolution, resolution, 3),
                            jnp.float32),
      'labels': jnp.asarray(rng.randint(0, 8, (batch_size, num_frames)), jnp.int32),
      'video_ids': jnp.asarray(np.repeat(np.arange(batch_size)[:, None], num_frames, 1),
                               jnp.int32)}
  trainer = sj.build(net, optax.adam(1e-3), sj.Classification(8), algorithm=algorithm,
                     stream=stream and algorithm == 'sideways')
  return net, trainer, trainer.init(jax.random.PRNGKey(0), batch), batch


def _median_times(fns, runs):
  """Median seconds of each fn, runs interleaved so background load hits all alike."""
  for fn in fns:
    fn()  # warm-up (and compile)
  times = [[] for _ in fns]
  for _ in range(runs):
    for fn, ts in zip(fns, times):
      start = time.perf_counter()
      fn()
      ts.append(time.perf_counter() - start)
  return [statistics.median(ts) for ts in times]


def per_frame_backprop_step(net, optimizer):
  """The baseline a user would write: one frame, forward + backward + update, jitted."""
  optimizers = updates.per_module(optimizer, net.num_modules)

  @jax.jit
  def step(params, opt_state, frame, labels):
    def loss(p):
      logits = sj.same_frame_forward(net, p, frame)[-1]
      return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    grads = jax.grad(loss)(params)
    new = [o.update(g, s, p) for o, g, s, p in zip(optimizers, grads, opt_state, params)]
    params = tuple(optax.apply_updates(p, u) for p, (u, _) in zip(params, new))
    return params, tuple(s for _, s in new)

  return step


def tick_cost_ratio(quick):
  num_frames, runs = (16, 5) if quick else (32, 9)
  records = []
  for skips in ('none', 'input', 'two_below', 'dense', 'to_top'):
    net, trainer, state, batch = _setup('sideways', num_frames, skips=skips)
    step = per_frame_backprop_step(net, optax.adam(1e-3))
    frames = [batch['frames'][:, t] for t in range(num_frames)]
    labels = batch['labels'][:, 0]

    def loop():
      params, opt_state = state.params, state.opt_state
      for frame in frames:
        params, opt_state = step(params, opt_state, frame, labels)
      jax.block_until_ready(params)

    sideways_s, backprop_s = (s / num_frames for s in _median_times(
        [lambda: jax.block_until_ready(trainer.step(state, batch)), loop], runs))
    config = {'network': 'vgg-small', 'skips': skips, 'batch_size': 16, 'resolution': 32,
              'frames': num_frames, 'sideways_ms_per_tick': round(sideways_s * 1e3, 3),
              'backprop_ms_per_frame': round(backprop_s * 1e3, 3), 'goal': '<= 1.05',
              'load_avg_1min': round(os.getloadavg()[0], 2)}
    records.append({'name': f'tick_cost_ratio[{skips}]', 'value': sideways_s / backprop_s,
                    'unit': 'ratio', 'config': config})
  return records


def _compiled(algorithm, num_frames):
  _, trainer, state, batch = _setup(algorithm, num_frames, stream=False)
  start = time.perf_counter()
  compiled = trainer.step.lower(state, batch).compile()
  return compiled, time.perf_counter() - start


def temp_bytes_ratio(quick):
  del quick
  records = []
  for algorithm in ('sideways', 'bptt'):
    short, _ = _compiled(algorithm, 32)
    long, _ = _compiled(algorithm, 512)
    t32 = short.memory_analysis().temp_size_in_bytes
    t512 = long.memory_analysis().temp_size_in_bytes
    records.append({
        'name': 'temp_bytes_ratio_T512_T32' + ('' if algorithm == 'sideways' else '[bptt]'),
        'value': t512 / t32, 'unit': 'ratio',
        'config': {'algorithm': algorithm, 'network': 'vgg-small', 'batch_size': 16,
                   'resolution': 32, 'temp_bytes_T32': int(t32), 'temp_bytes_T512': int(t512),
                   'goal': '<= 1.10' if algorithm == 'sideways' else 'contrast'}})
  return records


def compile_ratio(quick):
  del quick
  _, t16 = _compiled('sideways', 16)
  _, t512 = _compiled('sideways', 512)
  return [{'name': 'compile_ratio_T512_T16', 'value': t512 / t16, 'unit': 'ratio',
           'config': {'algorithm': 'sideways', 'network': 'vgg-small', 'compile_s_T16':
                      round(t16, 3), 'compile_s_T512': round(t512, 3), 'goal': '<= 1.2'}}]


SUITES = {
    'tick_cost_ratio': tick_cost_ratio,
    'temp_bytes_ratio_T512_T32': temp_bytes_ratio,
    'compile_ratio_T512_T16': compile_ratio,
}
