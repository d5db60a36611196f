"""A reference outside the frame clock: a whole-clip CNN trained by ordinary backprop.

  python -m experiments.clip_cnn --level=dynamics --steps=20000 \\
      [--augment=roll,rot90,colors] [--out=FILE.json]

The clip's frames, centred per frame, are stacked as channels (16 frames x 3 = 48) and read
by three 3x3 conv + ReLU + 2x2 max-pool layers (32, 64, 64 channels), a global average
pool, a hidden layer (128) and a linear classifier: one prediction per clip, Adam at 1e-3,
batches of 16 training clips (`--augment`: the dataset's label-preserving transforms,
drawn per clip and epoch). It prints held-out clip accuracy (512 test clips) every
`--eval_every` steps and writes the curve as JSON with `--out`. What it is for: how much
of a `temporal_actions` level a CNN of about this size learns from the 8192 training clips
when it sees every frame at once, with no pipeline, no causality and no delay (the frame
clock's networks see the clip one frame per tick).
"""

import time

from absl import flags
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import checks
from . import cli
from . import workdir as workdir_lib
from sideways_jax.data import get_dataset
from sideways_jax.data import pipeline


def network(num_classes, channels=(32, 64, 64), hidden=128):
  """Frames [B, T, H, W, C] -> logits [B, num_classes]: the frames as channels."""
  def forward(frames):
    frames = frames - frames.mean(axis=(2, 3), keepdims=True)
    b, t, h, w, c = frames.shape
    x = frames.transpose(0, 2, 3, 1, 4).reshape(b, h, w, t * c)
    for width in channels:
      x = hk.max_pool(jax.nn.relu(hk.Conv2D(width, 3)(x)), 2, 2, 'VALID')
    x = jax.nn.relu(hk.Linear(hidden)(x.mean(axis=(1, 2))))
    return hk.Linear(num_classes)(x)
  return hk.without_apply_rng(hk.transform(forward))


def run(level='dynamics', steps=20000, eval_every=1000, augment=None, seed=0,
        learning_rate=1e-3, batch_size=16, test_clips=512, log=print):
  """Trains the clip CNN; returns dict(curve=[(step, held-out clip accuracy)], ...)."""
  for flag, value in (('steps', steps), ('eval_every', eval_every), ('batch_size', batch_size),
                      ('test_clips', test_clips)):
    if value < 1:
      raise checks.FlagError(f'--{flag}={value}: give a positive number')
  try:
    train = get_dataset('temporal_actions', 'train', level=level, augment=augment,
                        seed=seed).keep_rendered()
    test = get_dataset('temporal_actions', 'test', level=level, num_clips=test_clips,
                       seed=seed)
  except ValueError as err:
    raise checks.FlagError(f'temporal_actions: {err}') from err
  held_out = test.get_batch(np.arange(test_clips))
  net = network(train.num_classes)
  batches = pipeline.batches(train, batch_size, seed=seed)
  first = next(batches)
  params = net.init(jax.random.PRNGKey(seed), first['frames'])
  opt = optax.adam(learning_rate)
  opt_state = opt.init(params)

  @jax.jit
  def step(params, opt_state, frames, labels):
    def loss_fn(p):
      return optax.softmax_cross_entropy_with_integer_labels(net.apply(p, frames),
                                                             labels).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  predict = jax.jit(lambda p, frames: net.apply(p, frames).argmax(-1))
  curve, start, batch = [], time.time(), first
  for s in range(1, steps + 1):
    params, opt_state, loss = step(params, opt_state, batch['frames'], batch['labels'][:, 0])
    batch = next(batches)
    if s % eval_every == 0 or s == steps:
      preds = np.concatenate([predict(params, held_out['frames'][i:i + 128])
                              for i in range(0, test_clips, 128)])
      accuracy = float((preds == held_out['labels'][:, 0]).mean())
      curve.append((s, accuracy))
      log(f'step {s}: train loss {float(loss):.3f}, held-out clip accuracy {accuracy:.3f} '
          f'({time.time() - start:.0f} s)')
  return dict(curve=curve, level=level, steps=steps, augment=augment, seed=seed,
              learning_rate=learning_rate, batch_size=batch_size, test_clips=test_clips,
              seconds=round(time.time() - start, 1))


def _define_flags():
  """Defined when run as a program (see experiments.control)."""
  flags.DEFINE_enum('level', 'dynamics', ['dynamics', 'motion'], '`temporal_actions` level.')
  flags.DEFINE_integer('steps', 20000, 'Training steps (batches of 16 clips).')
  flags.DEFINE_integer('eval_every', 1000, 'Steps between held-out evaluations.')
  flags.DEFINE_string('augment', None, "The dataset's augment (e.g. roll,rot90,colors).")
  flags.DEFINE_integer('seed', 0, 'Seed of the data order and the initialisation.')
  flags.DEFINE_string('out', None, 'Write the result here as JSON.')


def main(argv):
  if len(argv) > 1:
    raise checks.FlagError(f'unexpected arguments {argv[1:]}: give flags only (--help)')
  f = flags.FLAGS
  result = run(f.level, f.steps, f.eval_every, f.augment, f.seed,
               log=lambda line: print(line, flush=True))
  if f.out:
    workdir_lib.write_json(f.out, result)


if __name__ == '__main__':
  _define_flags()
  cli.run(main, __doc__)
