"""Learning-speed benchmark: how long Skip-Sideways takes to a held-out accuracy, over bptt.

- time_to_accuracy_ratio: training seconds (and, beside it, steps) for the default config
  (Skip-Sideways on temporal_actions `motion`) to first reach 0.90 held-out clip accuracy,
  over the same for bptt on the same graph (the `bptt` config variant: the same network and
  data, bptt's own learning rate). Both run here one after the other, with evaluations every
  `EVAL_EVERY` steps (evaluation time is not counted; compile time is, for both). Goal
  <= 1.5. Both curves are plotted in docs/img/time_to_accuracy.png. A run that never
  reaches the target within the config's steps gives a ratio of inf (or 0 if only bptt
  misses it); `--quick` uses target 0.5 and at most 1000 steps.
"""

import json
import os
import subprocess
import sys
import tempfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVAL_EVERY = 50


def _run(variant, workdir, quick):
  config = 'experiments/configs/default.py' + (f':{variant}' if variant else '')
  args = [sys.executable, '-m', 'experiments.train', f'--config={config}',
          f'--workdir={workdir}', f'--config.eval_every={EVAL_EVERY}',
          '--config.checkpoint_every=0', '--config.eval_clips=512']
  if quick:
    args.append('--config.num_steps=1000')
  subprocess.run(args, cwd=_ROOT, check=True, capture_output=True, text=True)
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [r for r in map(json.loads, f) if r['split'] == 'eval']


def _first(evals, target):
  for r in evals:
    if r['clip_accuracy'] >= target:
      return r['step'], r['train_time_s']
  return None, None


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
  curves = {}
  with tempfile.TemporaryDirectory() as tmp:
    for name, variant in (('skip-sideways (default)', ''), ('bptt, same graph', 'bptt')):
      curves[name] = _run(variant, os.path.join(tmp, variant or 'default'), quick)
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
                      'reached': reached,
                      'num_steps': max(c[-1]['step'] for c in curves.values()),
                      'eval_every': EVAL_EVERY, 'load_avg_1min': round(os.getloadavg()[0], 2),
                      'plot': 'docs/img/time_to_accuracy.png', 'goal': '<= 1.5'}}]


SUITES = {'time_to_accuracy_ratio': time_to_accuracy}
