"""Learning-speed benchmark: how long Skip-Sideways takes to a held-out accuracy, over bptt.

- time_to_accuracy_ratio: training seconds (and, beside it, steps) for the default config
  (Skip-Sideways on temporal_actions `motion`) to first reach 0.90 held-out clip accuracy,
  over the same for bptt on the same graph (the `bptt` config variant: the same network and
  data; bptt trains the top's loss only). Goal <= 1.5.
  The two run side by side, started together, each pinned to its own core (Linux, >= 2
  cores; elsewhere one after the other), so both see the same load: a ratio measured in
  one go, not two timings from different hours. Each has at most `NUM_STEPS` steps
  (the default's 3000 is not enough for bptt to reach 0.90) and is stopped once an
  evaluation, every `EVAL_EVERY` steps, reaches the target. Evaluation time is not
  counted; compile time is, for both. Both curves are plotted in
  docs/img/time_to_accuracy.png. A run that never reaches the target gives a ratio of inf
  (or 0 if only bptt misses it; `reached` says which); `--quick`: target 0.5, at most
  1000 steps, evaluations every 50.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_STEPS, EVAL_EVERY = 6000, 100
QUICK_STEPS, QUICK_EVAL_EVERY = 1000, 50


def _start(variant, workdir, num_steps, eval_every, core, overrides=()):
  config = 'experiments/configs/default.py' + (f':{variant}' if variant else '')
  args = [sys.executable, '-m', 'experiments.train', f'--config={config}',
          f'--workdir={workdir}', f'--config.eval_every={eval_every}',
          f'--config.log_every={eval_every}', '--config.checkpoint_every=0',
          '--config.eval_clips=512', f'--config.num_steps={num_steps}', *overrides]
  if core is not None:
    args = ['taskset', '-c', str(core)] + args
  os.makedirs(workdir, exist_ok=True)
  log = open(os.path.join(workdir, 'stdout.log'), 'w')
  return subprocess.Popen(args, cwd=_ROOT, stdout=log, stderr=subprocess.STDOUT), log


def _evals(workdir):
  path = os.path.join(workdir, 'metrics.jsonl')
  if not os.path.exists(path):
    return []
  with open(path) as f:
    lines = f.read().splitlines()
  records = []
  for line in lines:
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError:  # a line being written
      break
  return [r for r in records if r['split'] == 'eval']


def _first(evals, target):
  for r in evals:
    if r['clip_accuracy'] >= target:
      return r['step'], r['train_time_s']
  return None, None


def _race(runs, target, num_steps, eval_every, side_by_side, overrides=(), poll_s=5.):
  """Runs {name: (variant, workdir)}, side by side or one after the other, each stopped at
  its first evaluation at `target`; returns {name: evals}."""
  names = list(runs)
  groups = [names] if side_by_side else [[n] for n in names]
  for group in groups:
    procs = {n: _start(*runs[n], num_steps, eval_every, i if side_by_side else None,
                       overrides) for i, n in enumerate(group)}
    while procs:
      time.sleep(poll_s)
      for n, (proc, log) in list(procs.items()):
        done = _first(_evals(runs[n][1]), target)[0] is not None
        if done and proc.poll() is None:
          proc.terminate()
        if proc.poll() is not None or done:
          proc.wait()
          log.close()
          if proc.returncode != 0 and not done:
            with open(os.path.join(runs[n][1], 'stdout.log')) as f:
              raise RuntimeError(f'{n} failed:\n{f.read()[-2000:]}')
          del procs[n]
  return {n: _evals(runs[n][1]) for n in names}


def _plot(curves, target, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for name, evals in curves.items():
    acc = [r['clip_accuracy'] for r in evals]
    axes[0].plot([r['step'] for r in evals], acc, label=name)
    axes[1].plot([r['train_time_s'] / 60 for r in evals], acc, label=name)
  for ax, label in ((axes[0], 'step'), (axes[1], 'training minutes (compile included)')):
    ax.axhline(target, color='grey', ls='--', lw=0.6)
    ax.set_xlabel(label)
    ax.set_ylabel('held-out clip accuracy')
    ax.set_ylim(0, 1.02)
  axes[0].legend()
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def time_to_accuracy(quick):
  target = 0.5 if quick else 0.9
  num_steps, eval_every = (QUICK_STEPS, QUICK_EVAL_EVERY) if quick else (NUM_STEPS, EVAL_EVERY)
  side_by_side = sys.platform.startswith('linux') and (os.cpu_count() or 1) >= 2
  with tempfile.TemporaryDirectory() as tmp:
    curves = _race({'skip-sideways (default)': ('', os.path.join(tmp, 'default')),
                    'bptt, same graph': ('bptt', os.path.join(tmp, 'bptt'))},
                   target, num_steps, eval_every, side_by_side)
  (sw_step, sw_s), (bp_step, bp_s) = (_first(c, target) for c in curves.values())
  _plot(curves, target, os.path.join(_ROOT, 'docs', 'img', 'time_to_accuracy.png'))
  # Only Skip-Sideways reaches the target: 0 (it is faster than bptt by more than any
  # ratio); only bptt: inf; `reached` says which.
  ratio = (sw_s / bp_s if sw_s and bp_s else float('inf') if bp_s else 0.)
  reached = ','.join(n for n, s in (('sideways', sw_s), ('bptt', bp_s)) if s) or 'neither'
  return [{'name': 'time_to_accuracy_ratio', 'value': ratio, 'unit': 'ratio',
           'config': {'target_clip_accuracy': target, 'sideways_s': sw_s, 'bptt_s': bp_s,
                      'sideways_steps': sw_step, 'bptt_steps': bp_step,
                      'steps_ratio': (sw_step / bp_step if sw_step and bp_step else None),
                      'reached': reached, 'num_steps': num_steps, 'eval_every': eval_every,
                      'side_by_side': side_by_side,
                      'load_avg_1min': round(os.getloadavg()[0], 2),
                      'plot': 'docs/img/time_to_accuracy.png', 'goal': '<= 1.5'}}]


SUITES = {'time_to_accuracy_ratio': time_to_accuracy}
