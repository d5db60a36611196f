"""`dynamics`, Skip-Sideways on the four-tap graph of `results_dynamics_top_taps.py` with
modules 1-4 all held at the default's `motion` run's parameters (`init_from`,
`module_lr_scales=0,0,0,0`): only the top learns, and its Sideways gradient is exact
(screen 36's `ss_top_alone`, seed 0, is this sweep's seed 0). Three seeds, 4000 steps, one
core a run.

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_top_alone.py \\
      --root=workdirs/results_dynamics_top_alone --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_top_alone.py \\
      --root=workdirs/results_dynamics_top_alone --out=docs/results/dynamics_top_alone \\
      --target=0.8 --beside=docs/results/dynamics_top_taps.json
"""
from experiments.sweeps.screen36 import RUNS as _SCREEN36

SEEDS = (0, 1, 2)
RUNS = {'skip_sideways_top_alone': dict(_SCREEN36['ss_top_alone'])}
