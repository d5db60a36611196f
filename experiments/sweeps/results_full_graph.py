"""bptt on the default's full graph (modules 1-2 learning too: `module_lr_scales=`), the
network's upper bound on `motion` when nothing is frozen, 3 seeds, 3000 steps. Seed 0 is
results_more_v3.py's `motion_bptt_full_graph` run (the same keys). Skip-Sideways has no
row here: it cannot train modules 1-2 with their 6-8-tick-old gradient (screen 9).

  python -m experiments.sweep --sweep=experiments/sweeps/results_full_graph.py \\
      --root=workdirs/results_full_graph --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_full_graph.py \\
      --root=workdirs/results_full_graph --out=docs/results/full_graph --target=0.9
"""
from experiments.sweeps import NO_HEADS

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0}
RUNS = {'bptt_full_graph': {**_BASE, 'algorithm': 'bptt', 'module_lr_scales': ''}}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
