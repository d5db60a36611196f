"""Summarises a sweep (experiments/sweep.py): mean +- std over seeds, learning curves.

  python -m experiments.report --sweep=experiments/sweeps/screen25.py \\
      --root=workdirs/screen25 --out=docs/results/motion

Reads every run's metrics.jsonl and result.json under ROOT and writes OUT.json (per run
name: final metric mean, std and per-seed values, seconds and steps to a target accuracy,
the eval curve of every seed) and OUT.png (held-out curves against steps and against
training time, mean over seeds with a band of +- one std). Runs not finished yet are
listed as missing, so a report can be written over several sittings; what such a run has
evaluated so far (a run still training, or one stopped early) is kept apart as its
`partial` curve, drawn dotted and named with its last step, never counted in a mean.
A torn last line of a metrics.jsonl (a run writing it) is skipped; a corrupt line before
it stops the report with one `error:` line naming the file and line.
"""

import json
import os
import sys

from absl import app
from absl import flags
import numpy as np

from . import sweep as sweep_lib

# --sweep and --root are experiments.sweep's flags (the same meaning here).
_OUT = flags.DEFINE_string('out', None, 'Output path without extension.', required=True)
_METRIC = flags.DEFINE_string('metric', None, 'Eval metric (default: the sweep\'s METRIC, '
                              'else clip_accuracy).')
_TARGET = flags.DEFINE_float('target', 0.9, 'Accuracy whose first crossing is timed.')
_BESIDE = flags.DEFINE_multi_string('beside', [], 'Earlier summaries (OUT.json of another report) '
                            'whose runs to plot beside these, as FILE or FILE:RUN,RUN (repeatable); '
                            'drawn dashed and named "RUN (FILE)", not added to OUT.json.')


class CorruptMetricsError(ValueError):
  """A metrics.jsonl line before the last one is not JSON (the message names file and
  line)."""


def read_metrics(path):
  """The records of a metrics.jsonl. A torn last line (no newline yet: the run is writing
  it, or was killed while it did) is skipped; any other line that is not JSON is a
  CorruptMetricsError naming the file and line."""
  with open(path) as f:
    lines = f.read().split('\n')  # a whole last record leaves '' after its newline
  records = []
  for number, line in enumerate(lines, 1):
    if not line.strip():
      continue
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError as err:
      if number == len(lines):  # not ended by a newline: still being written
        continue
      raise CorruptMetricsError(f'{path}:{number}: not a JSON record ({err.msg} at column '
                                f'{err.colno}): {line[:60]!r}') from err
  return records


def read_run(workdir):
  """(eval records, result) of one run; result None if it has not finished."""
  path = os.path.join(workdir, 'metrics.jsonl')
  if not os.path.exists(path):
    return [], None
  evals = [r for r in read_metrics(path) if r.get('split') == 'eval']
  result = None
  if os.path.exists(os.path.join(workdir, 'result.json')):
    with open(os.path.join(workdir, 'result.json')) as f:
      result = json.load(f)
  return evals, result


def first_crossing(evals, metric, target):
  """(step, train seconds) of the first eval at or above `target`, or (None, None)."""
  for r in evals:
    if r.get(metric, -np.inf) >= target:
      return r['step'], r.get('train_time_s')
  return None, None


def summarise(module, root, metric, target):
  runs = sweep_lib.expand(module)
  by_name = {}
  for name, suffix, _ in runs:
    evals, result = read_run(os.path.join(root, suffix))
    entry = by_name.setdefault(name, {'finals': [], 'curves': [], 'missing': [],
                                      'steps_to_target': [], 'seconds_to_target': [],
                                      'train_time_s': [], 'copy_last_mse': [],
                                      'partial': {}})
    curve = [(r['step'], r.get('train_time_s'), r.get(metric)) for r in evals]
    if result is None:
      entry['missing'].append(suffix)
      if curve:
        entry['partial'][suffix] = curve
      continue
    entry['finals'].append(result[metric])
    entry['train_time_s'].append(result.get('train_time_s'))
    if 'copy_last_mse' in result:  # prediction: the copy-last-frame baseline on the same clips
      entry['copy_last_mse'].append(result['copy_last_mse'])
    entry['curves'].append(curve)
    step, seconds = first_crossing(evals, metric, target)
    entry['steps_to_target'].append(step)
    entry['seconds_to_target'].append(seconds)
  for entry in by_name.values():
    finals = np.array(entry['finals'], float)
    entry['n'] = len(finals)
    entry['mean'] = float(finals.mean()) if len(finals) else None
    entry['std'] = float(finals.std(ddof=1)) if len(finals) > 1 else None
  return {'metric': metric, 'target': target, 'runs': by_name,
          'overrides': {name: overrides for name, overrides in module.RUNS.items()}}


def beside_runs(specs, metric):
  """{label: run entry} from earlier summaries: 'FILE' (every run) or 'FILE:RUN,RUN'."""
  out = {}
  for spec in specs:
    path, _, names = spec.partition(':')
    if not os.path.exists(path):
      raise app.UsageError(f'--beside={spec}: no such summary {path!r}; give the .json an '
                           'earlier experiments.report wrote.')
    with open(path) as f:
      other = json.load(f)
    if other.get('metric') != metric:
      raise app.UsageError(f'--beside={spec}: its metric is {other.get("metric")!r}, '
                           f'this report\'s {metric!r}; compare like with like.')
    wanted = [n for n in names.split(',') if n] or list(other['runs'])
    unknown = [n for n in wanted if n not in other['runs']]
    if unknown:
      raise app.UsageError(f'--beside={spec}: no run {unknown[0]!r} in {path}; it has '
                           f'{", ".join(other["runs"])}.')
    for name in wanted:
      out[f'{name} ({os.path.basename(path)})'] = other['runs'][name]
  return out


def plot(summary, path, beside=None):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
  runs = [(name, entry, '-') for name, entry in summary['runs'].items()]
  runs += [(name, entry, '--') for name, entry in (beside or {}).items()]
  for name, entry, style in runs:
    curves = [c for c in entry['curves'] if c]
    if not curves:
      continue
    n = min(len(c) for c in curves)
    steps = np.array([p[0] for p in curves[0][:n]])
    values = np.array([[p[2] for p in c[:n]] for c in curves], float)
    seconds = np.array([[p[1] or np.nan for p in c[:n]] for c in curves], float)
    mean, std = values.mean(0), values.std(0)
    label = f'{name} ({len(curves)} seeds)'
    for ax, x in ((axes[0], steps), (axes[1], np.nanmean(seconds, 0) / 60)):
      line, = ax.plot(x, mean, style, label=label)
      if len(curves) > 1:
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
  for name, entry, _ in runs:
    for suffix, curve in entry.get('partial', {}).items():
      steps = [p[0] for p in curve]
      values = [p[2] for p in curve]
      minutes = [(p[1] or np.nan) / 60 for p in curve]
      label = f'{name}: {suffix} unfinished (step {steps[-1]})'
      if suffix == name:
        label = f'{name} unfinished (step {steps[-1]})'
      line, = axes[0].plot(steps, values, ':', label=label)
      axes[1].plot(minutes, values, ':', color=line.get_color())
  metric = summary['metric']
  copy_last = [v for e in summary['runs'].values() for v in e.get('copy_last_mse', [])]
  for ax, xlabel in ((axes[0], 'step (one batch of clips)'),
                     (axes[1], 'training time, minutes (this machine, compile included)')):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f'held-out {metric}')
    if 'accuracy' in metric:
      ax.axhline(summary['target'], color='grey', lw=0.5, ls='--')
      ax.set_ylim(0, 1.02)
    if copy_last and metric == 'mse':
      ax.axhline(float(np.mean(copy_last)), color='black', lw=1, ls='--',
                 label='copy last frame')
  axes[0].legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main(argv):
  del argv
  module = sweep_lib.load_sweep(flags.FLAGS.sweep)
  metric = _METRIC.value or getattr(module, 'METRIC', 'clip_accuracy')
  beside = beside_runs(_BESIDE.value, metric)
  try:
    summary = summarise(module, flags.FLAGS.root, metric, _TARGET.value)
  except CorruptMetricsError as err:
    sys.exit(f'error: {err}')  # one line, exit status 1
  os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
  with open(_OUT.value + '.json', 'w') as f:
    json.dump(summary, f, indent=1)
  plot(summary, _OUT.value + '.png', beside)
  for name, entry in summary['runs'].items():
    if not entry['n']:
      text = 'missing'
    elif entry['std'] is None:
      text = f'{entry["mean"]:.3f} (one seed: no std)'
    else:
      text = f'{entry["mean"]:.3f} +- {entry["std"]:.3f}'
    partial = ', '.join(f'{suffix} at step {curve[-1][0]}: {curve[-1][2]:.3f}'
                        for suffix, curve in entry['partial'].items())
    print(f'{name:40s} {metric} {text} (n={entry["n"]}, missing {len(entry["missing"])})'
          + (f'; unfinished: {partial}' if partial else ''))


if __name__ == '__main__':
  app.run(main)
