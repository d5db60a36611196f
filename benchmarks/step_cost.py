"""What a step of the default config costs, and where: `python -m benchmarks.run --only
step_cost` (or `python benchmarks/step_cost.py`).

Records (ratios of times measured side by side in one process, medians of 5 rounds):
- `step_cost[batch_size=8]`: a default Skip-Sideways step at batch 8 over one at batch 16
  (the default). A step's cost is linear in the batch, so half the batch buys twice the
  steps in the same time.
- `step_cost[frozen_share]`: the default's frozen modules 1-2 (forward only) run tick by
  tick in a scan over one clip's ticks (16 frames + 4 drain), over a whole default step:
  the part of a step the frozen front end takes.
- `step_cost[frozen_batched/scan]`: those frozen modules run once over all the clip's
  ticks at once (vmapped: a batch of 20 x 16 frames), over the scan. Above 1 on XLA:CPU:
  why the engine runs frozen modules inside its scan, not before it.
- `step_cost[drain_trimmed/full]`: a default step draining K - 1 - 2 = 2 ticks after the
  last frame (`sj.drain_ticks`: modules 1-2 are frozen, so later drain ticks carry only
  zero-loss messages; the same numbers) over one draining K - 1 = 4 (18 vs 20 ticks).
- `step_cost[loop_kept/rendered]`: one iteration of the launcher's loop (next batch,
  preprocessing, step, metrics to the host) reading clips kept in memory
  (`dataset.cache`, after the first epoch) over rendering them, both with the trimmed drain.
- `step_cost[loop_now/before]`: the loop with both (kept clips, trimmed drain) over the
  loop with neither: what the two buy a default run after its first epoch.
- `step_cost[loop_frozen_kept/now]`: the loop with the frozen modules' outputs kept per
  clip too (`frozen_cache_gb`, `sj.FrozenCache`: the step runs no frozen forward; the
  batch's clips are hashed and their outputs stacked), every clip already kept (after the
  first epoch), over the loop without them.
- `step_cost[loop_frozen_first/now]`: the same cache in the first epoch, where every batch
  is new: the frozen outputs computed on their own, then the step without them.
"""

import contextlib
import functools
import statistics
import time
from unittest import mock

import jax
import jax.numpy as jnp

from sideways_jax import clock as clk
from experiments import builders
from experiments.configs import default


def _trainer(batch_size=None):
  config = default.get_config()
  if batch_size:
    config.batch_size = batch_size
  train, _ = builders.make_datasets(config)
  task, network = builders.make_task_and_network(config, train)
  batch = builders.preprocess(config)(next(iter(builders.make_batches(config, train))))
  trainer = builders.make_trainer(config, network, task, batch['frames'].shape[2:])
  return trainer, network, batch


def _median_seconds(fn, rounds, calls):
  fn()
  times = []
  for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(calls):
      out = fn()
    jax.block_until_ready(out)
    times.append((time.perf_counter() - start) / calls)
  return statistics.median(times)


def _stepper(trainer, batch):
  state = [trainer.init(jax.random.PRNGKey(0), batch)]

  def step():
    state[0], metrics = trainer.step(state[0], batch)
    return metrics
  return step


def _frozen_front_end(network, params, batch):
  """Modules 1-2 of the default (module 2 reads module 1 one tick late and the frame
  fresh) over one clip's ticks: (scan, vmapped over ticks) jitted functions of the frames."""
  fns = network.apply_fns()
  f1, f2 = (functools.partial(fns[k], params[k]) for k in (0, 1))
  frames = jnp.moveaxis(batch['frames'], 1, 0)
  frames = jnp.concatenate([frames, jnp.repeat(frames[-1:], network.num_modules - 1, 0)])

  def scanned(frames):
    def tick(h1, x):
      return f1(x), f2(h1, x)
    return jax.lax.scan(tick, jnp.zeros_like(f1(frames[0])), frames)[1]

  def batched(frames):
    h1 = jax.vmap(f1)(frames)
    return jax.vmap(f2)(jnp.concatenate([jnp.zeros_like(h1[:1]), h1[:-1]]), frames)

  return jax.jit(scanned), jax.jit(batched), frames


def step_cost(quick):
  rounds, calls = (3, 3) if quick else (5, 10)
  trainer, network, batch = _trainer()
  small, _, small_batch = _trainer(batch_size=8)
  step, small_step = _stepper(trainer, batch), _stepper(small, small_batch)
  params = network.init(jax.random.PRNGKey(0), batch['frames'][:, 0])
  scanned, batched, frames = _frozen_front_end(network, params, batch)
  assert jnp.allclose(scanned(frames), batched(frames), atol=1e-4)
  seconds = {}
  for name, fn in (('step', step), ('step_b8', small_step),
                   ('frozen_scan', lambda: scanned(frames)),
                   ('frozen_batched', lambda: batched(frames))):
    seconds[name] = _median_seconds(fn, rounds, calls)
  ms = {f'{k}_ms': round(v * 1e3, 1) for k, v in seconds.items()}
  config = {'config': 'default', **ms}
  return [
      {'name': 'step_cost[batch_size=8]', 'value': seconds['step_b8'] / seconds['step'],
       'unit': 'ratio batch 8 / batch 16', 'config': config},
      {'name': 'step_cost[frozen_share]', 'value': seconds['frozen_scan'] / seconds['step'],
       'unit': 'fraction of a step', 'config': config},
      {'name': 'step_cost[frozen_batched/scan]',
       'value': seconds['frozen_batched'] / seconds['frozen_scan'],
       'unit': 'ratio batched / scan', 'config': config},
  ]


def _loop(config, train, trainer, full_drain, fill=False):
  """One launcher loop iteration of `trainer` on `train`, compiled now (`full_drain`: K - 1
  ticks), with the frozen modules' outputs kept per clip where `config.frozen_cache_gb`
  says so (`fill`: one epoch's clips kept first)."""
  batches, base = builders.make_batches(config, train), builders.preprocess(config)
  batch = base(next(batches))
  state = [trainer.init(jax.random.PRNGKey(0), batch)]
  keep = builders.frozen_cache(config, trainer, state[0].params, train)
  prep = lambda b: keep(base(b))
  batch = keep(batch)
  full = mock.patch.object(clk, 'drain_ticks', lambda k, frozen=(): k - 1)
  with full if full_drain else contextlib.nullcontext():
    jax.block_until_ready(trainer.step(state[0], batch))
  for _ in range(len(train) // config.batch_size if fill else 0):
    prep(next(batches))

  def iteration():
    state[0], metrics = trainer.step(state[0], prep(next(batches)))
    return jax.device_get(metrics)
  return iteration


def loop_cost(quick):
  """The drain trim, the kept clips and the kept frozen outputs, side by side (medians of
  interleaved rounds)."""
  rounds, calls = (3, 4) if quick else (5, 16)
  config = default.get_config()
  if quick:
    config.dataset.num_clips = 128
  loops = {}
  for name, cache, full_drain, frozen_gb in (
      ('before', False, True, 0.), ('trimmed', False, False, 0.), ('now', True, False, 0.),
      ('frozen_kept', True, False, 4.), ('frozen_first', True, False, 1e-9)):
    config.dataset.cache, config.frozen_cache_gb = cache, frozen_gb
    train, _ = builders.make_datasets(config)
    task, network = builders.make_task_and_network(config, train)
    trainer = builders.make_trainer(config, network, task, train.frame_shape)
    if cache:  # the steady state after the first epoch: every clip already kept
      train.get_batch(range(len(train)))
    loops[name] = _loop(config, train, trainer, full_drain, fill=name == 'frozen_kept')
  seconds = {name: [] for name in loops}
  for _ in range(rounds):
    for name, fn in loops.items():
      seconds[name].append(_median_seconds(fn, 1, calls))
  med = {k: statistics.median(v) for k, v in seconds.items()}
  config = {'config': 'default', **{f'{k}_ms': round(v * 1e3, 1) for k, v in med.items()},
            'calls': calls, 'rounds': rounds}
  return [
      {'name': 'step_cost[drain_trimmed/full]', 'value': med['trimmed'] / med['before'],
       'unit': 'ratio of loop times (clips rendered)', 'config': config},
      {'name': 'step_cost[loop_kept/rendered]', 'value': med['now'] / med['trimmed'],
       'unit': 'ratio of loop times', 'config': config},
      {'name': 'step_cost[loop_now/before]', 'value': med['now'] / med['before'],
       'unit': 'ratio of loop times', 'config': config},
      {'name': 'step_cost[loop_frozen_kept/now]', 'value': med['frozen_kept'] / med['now'],
       'unit': 'ratio of loop times (after the first epoch)', 'config': config},
      {'name': 'step_cost[loop_frozen_first/now]', 'value': med['frozen_first'] / med['now'],
       'unit': 'ratio of loop times (first epoch)', 'config': config},
  ]


SUITES = {'step_cost': step_cost, 'loop_cost': loop_cost}

if __name__ == '__main__':
  for r in step_cost(False) + loop_cost(False):
    print(f"{r['name']:34s} {r['value']:.3f} {r['unit']}   {r['config']}")
