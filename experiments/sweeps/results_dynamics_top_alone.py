"""`dynamics`, Skip-Sideways on the four-tap graph of `results_dynamics_top_taps.py` with
modules 1-4 all held at the default's `motion` run's parameters (`init_from`,
`module_lr_scales=0,0,0,0`): only the top learns, and its Sideways gradient is exact
(screen 36's `ss_top_alone`, seed 0, is this sweep's seed 0). 4000 steps, one core a run.
With only the top learning bptt takes the same step (tests/test_engine.py checks it), so
this is bptt's figure too. Outcome, three seeds on an earlier session's machine: 0.592 +-
0.018 (0.611 / 0.576 / 0.588). Re-run from scratch with six seeds on a later one (runs
repeat bitwise on one machine, not across machines): 0.598 +- 0.021 (0.598 / 0.617 / 0.613 /
0.607 / 0.594 / 0.561), 485-495 training seconds a run with the machine to themselves,
870-885 while a test suite shared it (seeds 0-3).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_top_alone.py \\
      --root=workdirs/results_dynamics_top_alone --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_top_alone.py \\
      --root=workdirs/results_dynamics_top_alone --out=docs/results/dynamics_top_alone \\
      --target=0.8 --beside=docs/results/dynamics_top_taps.json
"""
from experiments.sweeps.screen36 import RUNS as _SCREEN36

SEEDS = (0, 1, 2, 3, 4, 5)
RUNS = {'skip_sideways_top_alone': dict(_SCREEN36['ss_top_alone'])}
