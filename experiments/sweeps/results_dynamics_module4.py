"""`dynamics`, the graph of `results_dynamics_top_taps.py` with module 3 held as well
(`module_lr_scales=0,0,0`: module 4 and the top learn at the full rate), Skip-Sideways and
bptt, 4000 steps, 6 seeds, one core a run.
Outcome at step 4000: Skip-Sideways 0.597 +- 0.036, bptt 0.630 +- 0.033 (docs/RESULTS.md).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_module4.py \\
      --root=workdirs/results_dynamics_module4 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_module4.py \\
      --root=workdirs/results_dynamics_module4 --out=docs/results/dynamics_module4 \\
      --target=0.8 --beside=docs/results/dynamics_top_taps.json \\
      --beside=docs/results/dynamics_top_alone.json
"""
from .results_dynamics_top_taps import GRAPH

SEEDS = (0, 1, 2, 3, 4, 5)
_M4 = {**GRAPH, 'module_lr_scales': '0,0,0'}
RUNS = {
    'skip_sideways': dict(_M4),
    'bptt': {**_M4, 'algorithm': 'bptt'},
}
