"""docs/RESULTS.md: the default (Skip-Sideways with local heads on modules 3-4) past its
3000 steps, to 6000, beside bptt's 6000-step runs on the same graph (budget6000.py: bptt
trains the top's loss only, so those runs are its same-graph baseline). At a constant rate
a run's first N steps are its N-step run. Two runs side by side, one core each.

  python -m experiments.sweep --sweep=experiments/sweeps/results_heads_budget.py \\
      --root=workdirs/results_heads_budget --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_heads_budget.py \\
      --root=workdirs/results_heads_budget --out=docs/results/heads_budget --target=0.9 \\
      --beside=docs/results/budget6000.json:bptt
"""

SEEDS = (0, 1, 2)
RUNS = {'skip_sideways_heads34': {'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0,
                                  'num_steps': 6000}}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
