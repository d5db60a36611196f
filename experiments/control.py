"""How much class information a `temporal_actions` clip holds, with no video model: a
vision-free control (`sideways_jax.data.controls`) trained on hand-made velocity features.

  python -m experiments.control --level=dynamics --train_clips=8192 \\
      --features=summary,sequence --hidden=256 --steps=2000 [--out=FILE.json]

Each clip's per-step velocity is estimated from its pixels (phase correlation of the
foreground's lowest Fourier coefficients), turned into rotation-invariant features
(`summary`: 13 statistics; `sequence`: the normalised speed and the turn's cosine and sine
per step, in order) and classified by an MLP (`--hidden=0`: softmax regression), full
batch. It prints held-out accuracy, chance +- 3 sigma and per-class accuracy, and writes
them as JSON with `--out`. A video model that does worse than this on a level has not
learnt what a global motion estimate sees; one that does better localises the object.
"""

import time

from absl import flags
import numpy as np

from . import checks
from . import cli
from . import workdir as workdir_lib
from sideways_jax.data import controls
from sideways_jax.data import get_dataset

FEATURES = {'summary': controls.clip_features, 'sequence': controls.velocity_sequence}


def _define_flags():
  """Defined when run as a program: importing this module beside another tool (the tests
  import several into one process) defines nothing, so their flag names cannot clash."""
  flags.DEFINE_enum('level', 'dynamics', ['dynamics', 'motion'], '`temporal_actions` level.')
  flags.DEFINE_integer('train_clips', 8192, 'Training clips (the split has 8192).')
  flags.DEFINE_integer('test_clips', 1024, 'Held-out clips (the split has 1024).')
  flags.DEFINE_list('features', ['summary', 'sequence'],
                    f'Feature sets to join, of {sorted(FEATURES)}.')
  flags.DEFINE_integer('hidden', 256, 'MLP hidden units (0: softmax regression).')
  flags.DEFINE_integer('steps', 2000, 'Full-batch Adam steps.')
  flags.DEFINE_float('l2', 1e-4, 'Weight decay on the weights.')
  flags.DEFINE_integer('num_distractors', None,
                       "Dataset's num_distractors (default: the level's 1).")
  flags.DEFINE_float('noise', None, "Dataset's noise std (default: the level's 0.05).")
  flags.DEFINE_string('out', None, 'Write the result here as JSON.')


def features(name, split, num_clips, keys, chunk=512, **kwargs):
  """Joined features [N, D] and labels [N] of the first `num_clips` clips of a split."""
  try:
    ds = get_dataset(name, split, num_clips=num_clips, **kwargs)
  except ValueError as err:  # a dataset argument out of range: the flag that set it
    raise checks.FlagError(f'{name} {split}: {err}') from err
  xs, ys = [], []
  for start in range(0, num_clips, chunk):
    batch = ds.get_batch(np.arange(start, min(num_clips, start + chunk)))
    xs.append(np.concatenate([FEATURES[k](batch['frames']) for k in keys], 1))
    ys.append(batch['labels'][:, 0])
  return np.concatenate(xs), np.concatenate(ys), ds.class_names


def run(level, train_clips, test_clips, keys, hidden, steps, l2, **dataset_kwargs):
  """Trains the control and returns its held-out result as a dict."""
  bad = sorted(set(keys) - set(FEATURES))
  if bad or not keys:
    raise checks.FlagError(f'--features={",".join(keys)}: unknown or empty feature set {bad}; '
                     f'use one or more of {sorted(FEATURES)}, comma-separated.')
  for flag, value in (('train_clips', train_clips), ('test_clips', test_clips),
                      ('steps', steps)):
    if value < 1:
      raise checks.FlagError(f'--{flag}={value}: give a positive number')
  kwargs = dict(level=level, **{k: v for k, v in dataset_kwargs.items() if v is not None})
  start = time.time()
  xtr, ytr, names = features('temporal_actions', 'train', train_clips, keys, **kwargs)
  xte, yte, _ = features('temporal_actions', 'test', test_clips, keys, **kwargs)
  _, pred = controls.fit_predict(xtr, ytr, xte, len(names), hidden=hidden, steps=steps, l2=l2)
  chance, band = controls.chance_band(len(names), test_clips)
  per_class = {n: float((pred[yte == c] == c).mean()) if (yte == c).any() else None
               for c, n in enumerate(names)}
  return dict(accuracy=float((pred == yte).mean()), chance=chance, chance_3sigma=band,
              per_class=per_class, level=level, train_clips=train_clips,
              test_clips=test_clips, features=list(keys), hidden=hidden, steps=steps, l2=l2,
              dataset_kwargs=kwargs, seconds=round(time.time() - start, 1))


def main(argv):
  if len(argv) > 1:
    raise checks.FlagError(f'unexpected arguments {argv[1:]}: give flags only (--help)')
  f = flags.FLAGS
  result = run(f.level, f.train_clips, f.test_clips, f.features, f.hidden, f.steps, f.l2,
               num_distractors=f.num_distractors, noise=f.noise)
  print(f"{result['level']}: held-out accuracy {result['accuracy']:.3f} "
        f"(chance {result['chance']:.3f} +- {result['chance_3sigma']:.3f}; "
        f"{result['train_clips']} train / {result['test_clips']} test clips, "
        f"features {'+'.join(result['features'])}, {result['seconds']} s)")
  print('per class: ' + ', '.join(f'{n} {a:.2f}' for n, a in result['per_class'].items()
                                  if a is not None))
  if f.out:
    workdir_lib.write_json(f.out, result)


if __name__ == '__main__':
  _define_flags()
  cli.run(main, __doc__)
