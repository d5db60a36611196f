"""docs/RESULTS.md, future frames on the embedded moving digits (`default.py:moving_digits`,
32x32, 20 frames, modules 1-2 frozen, one Adam step per clip): Skip-Sideways with aligned input skips (legal for
prediction: each module reads the input frame its main input came from) vs plain
Sideways, 3 seeds, 600 steps; every eval also scores copy-last-frame.

  python -m experiments.sweep --sweep=experiments/sweeps/results_digits.py \\
      --root=workdirs/results_digits --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_digits.py \\
      --root=workdirs/results_digits --out=docs/results/digits
"""
from experiments.sweeps import NO_HEADS

CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0}
RUNS = {
    # Run at 3e-3 (the motion default's rate), before the variant moved to 3e-4.
    'skip_sideways_aligned_input': {**_BASE, 'skips': 'input:aligned', 'learning_rate': 3e-3},
    'sideways_no_skips': {**_BASE, 'skips': 'none', 'learning_rate': 3e-3},
    # At 3e-3, one Skip-Sideways seed of three collapsed to an all-black output: a lower rate.
    'skip_sideways_aligned_input_lr3e-4': {**_BASE, 'skips': 'input:aligned',
                                           'learning_rate': 3e-4},
}
