"""`dynamics`, the graph of `results_dynamics_top_taps.py` with modules 1-4 all held at the
`motion` run's parameters (`module_lr_scales=0,0,0,0`): only the top learns, its Sideways
gradient is exact, so bptt takes the same step (tests/test_engine.py checks it) and this is
bptt's figure too. 4000 steps, 6 seeds, one core a run.
Outcome at step 4000: 0.598 +- 0.021 (docs/RESULTS.md).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_top_alone.py \\
      --root=workdirs/results_dynamics_top_alone --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_top_alone.py \\
      --root=workdirs/results_dynamics_top_alone --out=docs/results/dynamics_top_alone \\
      --target=0.8 --beside=docs/results/dynamics_top_taps.json
"""
from .results_dynamics_top_taps import GRAPH

SEEDS = (0, 1, 2, 3, 4, 5)
RUNS = {'skip_sideways_top_alone': {**GRAPH, 'module_lr_scales': '0,0,0,0'}}
