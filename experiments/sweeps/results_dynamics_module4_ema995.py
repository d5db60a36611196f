"""`dynamics`, the regime of `results_dynamics_module4.py` (module 3 held, module 4 and the
top learning) with a longer parameter average (`ema_decay=0.995`), Skip-Sideways and bptt,
three seeds, 4000 steps, one core a run (screen 40's runs are this sweep's seed 0).
Outcome: Skip-Sideways 0.609 ± 0.038 (0.650 / 0.576 / 0.600), bptt 0.640 ± 0.013 (0.648 /
0.625 / 0.646): 3.1 points apart, as at 0.99 (0.615 ± 0.035 against 0.646 ± 0.020).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_module4_ema995.py \\
      --root=workdirs/results_dynamics_module4_ema995 --parallel=2
  python -m experiments.report \\
      --sweep=experiments/sweeps/results_dynamics_module4_ema995.py \\
      --root=workdirs/results_dynamics_module4_ema995 \\
      --out=docs/results/dynamics_module4_ema995 --target=0.8 \\
      --beside=docs/results/dynamics_module4.json
"""
from experiments.sweeps.screen40 import RUNS as _SCREEN40

SEEDS = (0, 1, 2)
RUNS = {
    'skip_sideways_ema995': dict(_SCREEN40['ss_m4_ema995']),
    'bptt_ema995': dict(_SCREEN40['bptt_m4_ema995']),
}
