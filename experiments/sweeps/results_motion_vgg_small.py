"""docs/RESULTS.md, the previous default's `motion` rows (Skip-Sideways, VGG-small with input
skips, modules 1-2 frozen, one Adam step per clip at 3e-3, 1500 steps) beside bptt and
per-frame backprop on the same graph and budget, and plain Sideways (no skips). bptt on
the full graph (nothing frozen), one seed, is in results_more.py.

  python -m experiments.sweep --sweep=experiments/sweeps/results_motion_vgg_small.py \\
      --root=workdirs/results_motion_vgg_small --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_motion_vgg_small.py \\
      --root=workdirs/results_motion_vgg_small --out=docs/results/motion_vgg_small
"""
from experiments.sweeps import NO_HEADS
from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0,
         'model.size': 'small', 'num_steps': 1500}
RUNS = same_graph_runs(_BASE)

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
