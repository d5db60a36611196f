"""Where do Sideways' gradients part ways with the exact ones? A diagnostic training run.

  python -m experiments.diagnose --config=experiments/configs/default.py \\
      --workdir=/tmp/diag --probe_every=100 [--config.KEY=VALUE ...]

Trains exactly as `experiments.train` would with this config (any algorithm), and every
`probe_every` steps, on a fixed batch of held-out clips and at the current parameters,
records per module (`sideways_jax.diagnostics.gradient_agreement`):

- cosine between the Sideways window-mean gradient and the bptt gradient of the same graph
  (all parameters, and kernels only), on the moving clips and on their static control
  (each clip's first frame repeated: the static-clip theorem says cosine 1);
- the cosine of every tick's g_k[t] with bptt's (which tick of the clip parts ways);
- gradient norms, activation RMS, the fraction of dead units (channels never > 0);
- the effective step: |theta after one training step - before| / |theta| per module.

With local heads (the default's `model.local_heads='auto'`) the Sideways gradient of a
headed module holds its head's term too, and bptt trains the top's loss alone, so those
modules' cosines are below 1 even on static clips; `--config.model.local_heads=` compares
the body without them (the comparison is on the body's parameters either way).

With `--by_class`, each probe also records the moving-clip cosine per class
(`cosine_by_class`, `probe_clips` held-out clips of each class): where a class is told by
how motion changes (`dynamics`' turns, reversal, speed changes) and where by what every
frame pair shows (its constant velocity), the two gradients may part differently.

Writes DIR/diagnostics.jsonl (one record per probe) and DIR/diagnostics.png, and prints a
line per probe.
"""

import json
import os

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from sideways_jax import diagnostics
from . import builders
from . import train

# --config and --workdir are the launcher's flags (defined where experiments.train is).
_PROBE_EVERY = flags.DEFINE_integer('probe_every', 100, 'Steps between probes.')
_PROBE_CLIPS = flags.DEFINE_integer('probe_clips', 16, 'Held-out clips per probe.')
_BY_CLASS = flags.DEFINE_bool('by_class', False, 'Also the cosine per class (probe_clips '
                              'held-out clips of each).')


def _norm(tree):
  return float(jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree))))


def probe(network, task, params, batch):
  """One probe record: gradient agreement (moving, static, kernels only) per module."""
  record = {}
  for name, kwargs in (('moving', {}), ('static', {'static': True}),
                       ('kernels', {'weights_only': True})):
    report = diagnostics.gradient_agreement(network, task, params, batch, **kwargs)
    record[f'cosine_{name}'] = report['cosine'].tolist()
    if name == 'moving':
      record['tick_cosine'] = np.where(np.isnan(report['tick_cosine']), None,
                                       report['tick_cosine']).tolist()
      for key in ('sideways_norm', 'bptt_norm', 'activation_rms', 'dead_fraction'):
        record[key] = report[key].tolist()
  return record


def class_batches(test_set, clips_per_class, prep):
  """{class name: a batch of the first `clips_per_class` held-out clips of that class}.
  Raises ValueError if the split has fewer clips of a class."""
  labels = np.concatenate([
      np.asarray(test_set.get_batch(np.arange(i, min(i + 256, len(test_set))))['labels'])[:, 0]
      for i in range(0, len(test_set), 256)])
  names = getattr(test_set, 'class_names', None) or [str(c) for c in range(labels.max() + 1)]
  out = {}
  for c, name in enumerate(names):
    index = np.flatnonzero(labels == c)[:clips_per_class]
    if len(index) < clips_per_class:
      raise ValueError(f'by_class: the held-out split has {len(index)} clips of class '
                       f'{name!r}, fewer than probe_clips={clips_per_class}; give a smaller '
                       '--probe_clips.')
    out[name] = prep(test_set.get_batch(index))
  return out


def plot(records, names, path):
  """The diagnostic figure: cosines over training, per-tick cosine, norms, dead units."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  steps = [r['step'] for r in records]
  series = lambda key: np.array([r[key] for r in records], dtype=float)
  fig, axes = plt.subplots(2, 3, figsize=(15, 8))
  colours = plt.cm.viridis(np.linspace(0, 0.9, len(names)))
  panels = [('cosine_moving', 'cosine, Sideways vs bptt (moving clips)'),
            ('cosine_kernels', 'cosine, kernels only (moving)'),
            ('cosine_static', 'cosine, static control (theorem: 1)'),
            ('bptt_norm', '|g| bptt (solid) and Sideways (dashed)'),
            ('dead_fraction', 'fraction of dead channels (conv modules)'),
            ('effective_step', '|step| / |theta| per training step')]
  for ax, (key, title) in zip(axes.flat, panels):
    values = series(key)
    for k, name in enumerate(names):
      if key == 'dead_fraction' and k == len(names) - 1:
        continue  # the top module's outputs (logits, a frame) are not ReLU units
      ax.plot(steps, values[:, k], color=colours[k], label=name)
      if key == 'bptt_norm':
        ax.plot(steps, series('sideways_norm')[:, k], '--', color=colours[k])
    ax.set_title(title, fontsize=10)
    ax.set_xlabel('step')
    if key.startswith('cosine'):
      ax.set_ylim(-0.1, 1.05)
    if key in ('bptt_norm', 'effective_step'):
      ax.set_yscale('log')
  axes[0, 0].legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  # Per-tick cosine of the last probe: which tick of the clip parts ways.
  last = np.array(records[-1]['tick_cosine'], dtype=float)
  fig, ax = plt.subplots(figsize=(8, 3))
  im = ax.imshow(last.T, aspect='auto', vmin=-1, vmax=1, cmap='RdBu')
  ax.set_yticks(range(len(names)), names)
  ax.set_xlabel('tick of the clip (drain included)')
  ax.set_title(f'cosine of g_k[t] with the bptt gradient, step {records[-1]["step"]}')
  fig.colorbar(im)
  fig.tight_layout()
  fig.savefig(path.replace('.png', '_ticks.png'), dpi=90)
  plt.close(fig)


def run(config, workdir, probe_every=100, probe_clips=16, by_class=False):
  """Trains `config` as the launcher would (its datasets, batches, trainer with the frozen
  modules held, `init_from`), probing every `probe_every` steps; returns the records and
  writes DIR/diagnostics.jsonl and DIR/diagnostics.png."""
  os.makedirs(workdir, exist_ok=True)
  train_set, test_set = builders.make_datasets(config)
  task, network = builders.make_task_and_network(config, train_set)
  if network.local_heads:
    print(f'local heads on modules {[k for k, _ in network.local_heads]}: their gradient '
          'includes the heads\' terms, so their cosine with bptt (the top\'s loss) is below 1 '
          'even on static clips (--config.model.local_heads= to compare without them)')
  trainer = builders.make_trainer(config, network, task, placed=False)
  prep = builders.preprocess(config)
  batches = map(prep, builders.make_batches(config, train_set))
  probe_batch = prep(test_set.get_batch(np.arange(probe_clips)))
  per_class = class_batches(test_set, probe_clips, prep) if by_class else {}
  batch = next(batches)
  state = train.initial_state(config, trainer, train_set, batch)
  records = []
  path = os.path.join(workdir, 'diagnostics.jsonl')
  with open(path, 'w') as log:
    for step in range(config.num_steps + 1):
      record = None
      if step % probe_every == 0 or step == config.num_steps:
        record = {'step': step, **probe(network, task, state.params, probe_batch)}
        if per_class:
          record['cosine_by_class'] = {
              name: diagnostics.gradient_agreement(network, task, state.params,
                                                   b)['cosine'].tolist()
              for name, b in per_class.items()}
        before = state.params
      state, metrics = trainer.step(state, batch)
      batch = next(batches)
      if record is not None:
        record['effective_step'] = [_norm(jax.tree.map(jnp.subtract, a, b)) / _norm(b)
                                    for a, b in zip(state.params, before)]
        record['train_loss'] = float(metrics['loss'])
        records.append(record)
        log.write(json.dumps(record) + '\n')
        log.flush()
        print(f'step {step}: loss {record["train_loss"]:.3f} cos ' +
              ' '.join(f'{c:.2f}' for c in record['cosine_moving']) + ' | kernels ' +
              ' '.join(f'{c:.2f}' for c in record['cosine_kernels']) + ' | static ' +
              ' '.join(f'{c:.2f}' for c in record['cosine_static']) + ' | dead ' +
              ' '.join(f'{d:.2f}' for d in record['dead_fraction'][:-1]), flush=True)
        for name, cosines in record.get('cosine_by_class', {}).items():
          print(f'  {name:24s} cos ' + ' '.join(f'{c:.2f}' for c in cosines), flush=True)
  plot(records, network.names, os.path.join(workdir, 'diagnostics.png'))
  print(f'wrote {path} and {os.path.join(workdir, "diagnostics.png")}')
  return records


def main(argv):
  del argv
  if not flags.FLAGS.workdir:
    raise app.UsageError('--workdir is required.')
  run(flags.FLAGS.config, flags.FLAGS.workdir, _PROBE_EVERY.value, _PROBE_CLIPS.value,
      _BY_CLASS.value)


if __name__ == '__main__':
  app.run(main)
