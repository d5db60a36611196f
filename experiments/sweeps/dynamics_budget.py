"""`dynamics` (>= 3 frames per class): with the default network both algorithms stay at
chance after 3000 steps (results_more_v3.py). Does this network learn it at all when every
module learns by bptt (its upper bound), given twice the budget? 1 seed, 6000 steps (at a
constant rate its first 3000 steps are the 3000-step run). About 20 minutes on one core.

  python -m experiments.sweep --sweep=experiments/sweeps/dynamics_budget.py \\
      --root=workdirs/dynamics_budget
"""
from experiments.sweeps import NO_HEADS

RUNS = {
    'bptt_full_graph_6000': {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0,
                             'dataset.level': 'dynamics', 'algorithm': 'bptt',
                             'module_lr_scales': '', 'num_steps': 6000},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
