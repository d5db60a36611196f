"""`dynamics`, the four-tap graph of `results_dynamics_top_taps.py` with module 3 held as
well (`module_lr_scales=0,0,0`: modules 1-3 held at the default's `motion` run's
parameters, module 4 and the top learning), Skip-Sideways and bptt, three seeds, 4000
steps, one core a run (screen 37; its `ss_m4_learns` and `bptt_m4_learns` are this sweep's
seed 0).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_module4.py \\
      --root=workdirs/results_dynamics_module4 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_module4.py \\
      --root=workdirs/results_dynamics_module4 --out=docs/results/dynamics_module4 \\
      --target=0.8 --beside=docs/results/dynamics_top_taps.json
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

SEEDS = (0, 1, 2)
RUNS = {
    'skip_sideways': dict(_SCREEN37['ss_m4_learns']),
    'bptt': dict(_SCREEN37['bptt_m4_learns']),
}
