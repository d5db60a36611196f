"""Is the default capped by its budget or by its graph? Neither curve had flattened at
step 3000 (results_motion.py). The default and bptt on the same graph at twice the budget,
6000 steps (18-25 minutes a run on one core: outside the 10-minute target). At a constant
rate a run's first 3000 steps are the 3000-step run of its seed. Outcome (3 seeds):
Skip-Sideways 0.908 +- 0.002, first at 0.90 at step 4000 in every seed, then level; bptt
0.951 +- 0.018, at 0.90 at step 4167 +- 764, still rising (docs/RESULTS.md, claims table).

  python -m experiments.sweep --sweep=experiments/sweeps/budget6000.py \\
      --root=workdirs/budget6000 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/budget6000.py \\
      --root=workdirs/budget6000 --out=docs/results/budget6000 --target=0.9
"""
from experiments.sweeps import NO_HEADS
from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0, 'num_steps': 6000}
RUNS = same_graph_runs(_BASE, rows=('skip_sideways', 'bptt'))

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
