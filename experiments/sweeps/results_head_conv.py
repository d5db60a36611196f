"""docs/RESULTS.md, the head-conv candidate (screen 7's winner): the default (VGG-small_pool3,
modules 1-2 frozen, one Adam step per clip at 3e-3) at 1500 steps plus a 3x3 conv with 32
channels in the top module before its global pooling (`model.head_conv=32`: it spans a
whole actor on the 4x4 map, and its Sideways gradient is exact): Skip-Sideways, bptt and
per-frame backprop on the same graph, and plain Sideways (no skips), 3 seeds. The learning
rate is constant, so the default's 3000-step runs at their step-1500 evaluation are the
matching comparison.

  python -m experiments.sweep --sweep=experiments/sweeps/results_head_conv.py \\
      --root=workdirs/results_head_conv --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_head_conv.py \\
      --root=workdirs/results_head_conv --out=docs/results/head_conv --target=0.7
"""
from experiments.sweeps import NO_HEADS
from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500,
         'model.head_conv': 32}
RUNS = same_graph_runs(_BASE)

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
