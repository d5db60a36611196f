"""docs/RESULTS.md, the previous default's `motion` rows: VGG-small_pool3 without the head
conv (`model.head_conv=0`), otherwise the default (input skips, modules 1-2 frozen, one
Adam step per clip at 3e-3, 3000 steps): Skip-Sideways, bptt and per-frame backprop on the
same graph, plain Sideways (no skips), 3 seeds.

  python -m experiments.sweep --sweep=experiments/sweeps/results_motion_pool3.py \\
      --root=workdirs/results_motion_pool3 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_motion_pool3.py \\
      --root=workdirs/results_motion_pool3 --out=docs/results/motion_pool3 --target=0.7
"""
from experiments.sweeps import NO_HEADS
from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'model.head_conv': 0}
RUNS = same_graph_runs(_BASE)

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
