"""`dynamics`, `default.py:dynamics`: the regime of `results_dynamics_module4.py` with
module 4 at 0.3x the rate (`module_lr_scales=0,0,0,0.3`), Skip-Sideways and bptt at the
same rates, 4000 steps, 6 seeds, one core a run (470-550 training seconds, two side by side).
Outcome at step 4000: Skip-Sideways 0.615 +- 0.035, bptt 0.615 +- 0.029 (docs/RESULTS.md).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_module4_slow.py \\
      --root=workdirs/results_dynamics_module4_slow --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_module4_slow.py \\
      --root=workdirs/results_dynamics_module4_slow \\
      --out=docs/results/dynamics_module4_slow --target=0.8 \\
      --beside=docs/results/dynamics_module4.json
"""
from .results_dynamics_top_taps import GRAPH

SEEDS = (0, 1, 2, 3, 4, 5)
_M4_SLOW = {**GRAPH, 'module_lr_scales': '0,0,0,0.3'}
RUNS = {
    'skip_sideways': dict(_M4_SLOW),
    'bptt': {**_M4_SLOW, 'algorithm': 'bptt'},
}
