"""`dynamics`, the regime of `results_dynamics_module4.py` (module 3 held, module 4 and the
top learning) with module 4 at 0.3x the rate (`module_lr_scales=0,0,0,0.3`), Skip-Sideways
and bptt, six seeds, 4000 steps, one core a run. Screen 41 found Skip-Sideways 3.3 and 2.6
points higher this way on seeds 1 and 2 (0.615 / 0.637 against 0.582 / 0.611); bptt takes
the same rates, so that the comparison is on the same graph and schedule. The seed 1 and 2
Skip-Sideways runs are screen 41's `ss_m4_slow` workdirs (identical configs).
Outcome at step 4000: **Skip-Sideways 0.615 +- 0.035** (0.646 / 0.615 / 0.637 / 0.643 / 0.592 /
0.557; at the full rate 0.597 +- 0.036, 1.8 +- 1.7 points lower paired by seed), **bptt
0.615 +- 0.029** (0.621 / 0.604 / 0.637 / 0.652 / 0.609 / 0.568): the same, 0.0 +- 1.6
points apart paired by seed (Skip-Sideways ahead in two seeds, level in one). bptt does
better at the full rate (0.630 +- 0.033, 1.4 +- 1.6 higher): against that, Skip-Sideways at
0.3x is 1.5 +- 0.9 points below, at most 2.9 in any seed. 470-550 training seconds a run,
two side by side.

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_module4_slow.py \\
      --root=workdirs/results_dynamics_module4_slow --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_module4_slow.py \\
      --root=workdirs/results_dynamics_module4_slow \\
      --out=docs/results/dynamics_module4_slow --target=0.8 \\
      --beside=docs/results/dynamics_module4.json
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

SEEDS = (0, 1, 2, 3, 4, 5)
RUNS = {
    'skip_sideways': {**_SCREEN37['ss_m4_learns'], 'module_lr_scales': '0,0,0,0.3'},
    'bptt': {**_SCREEN37['bptt_m4_learns'], 'module_lr_scales': '0,0,0,0.3'},
}
