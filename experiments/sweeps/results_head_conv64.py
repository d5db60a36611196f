"""Candidate default from screen 10: the head conv at 64 channels instead of 32 (one seed at
1500 steps: Skip-Sideways 0.820 vs the default's 0.795). 3 seeds, 3000 steps, Skip-Sideways
and bptt on the same graph (the per-frame controls are at chance on this family of graphs:
results_motion.py).

  python -m experiments.sweep --sweep=experiments/sweeps/results_head_conv64.py \\
      --root=workdirs/results_head_conv64 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_head_conv64.py \\
      --root=workdirs/results_head_conv64 --out=docs/results/head_conv64 --target=0.8
"""
from experiments.sweeps import NO_HEADS
from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'model.head_conv': 64}
RUNS = same_graph_runs(_BASE, rows=('skip_sideways', 'bptt'))

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
