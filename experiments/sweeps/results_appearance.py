"""docs/RESULTS.md, `appearance` row (the class is visible in every frame): Skip-Sideways
vs per-frame backprop on the same graph, the default regime, 500 steps, 3 seeds.

  python -m experiments.sweep --sweep=experiments/sweeps/results_appearance.py \\
      --root=workdirs/results_appearance --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_appearance.py \\
      --root=workdirs/results_appearance --out=docs/results/appearance
"""
from . import NO_HEADS

CONFIG = 'experiments/configs/default.py:appearance'
SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'num_steps': 500, 'eval_every': 100, 'log_every': 100, 'checkpoint_every': 0}
RUNS = {
    'skip_sideways': dict(_BASE),
    'backprop': {**_BASE, 'algorithm': 'backprop'},
}
