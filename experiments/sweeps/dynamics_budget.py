"""`dynamics` (>= 3 frames per class): with the default network both algorithms stay at
chance after 3000 steps (results_more_v3.py). Does this network learn it at all when every
module learns by bptt (its upper bound), and does a doubled budget help? 1 seed.

  python -m experiments.sweep --sweep=experiments/sweeps/dynamics_budget.py \\
      --root=workdirs/dynamics_budget --parallel=2
"""
_BASE = {'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0,
         'dataset.level': 'dynamics', 'algorithm': 'bptt', 'module_lr_scales': ''}
RUNS = {
    'bptt_full_graph': dict(_BASE),
    'bptt_full_graph_6000': {**_BASE, 'num_steps': 6000},
}
