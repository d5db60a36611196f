"""`dynamics`, the best graph found for bptt so far, three seeds: modules 1-4 start from the
default's `motion` run (the README's main command, `workdirs/motion_default`), 1-2 held,
3-4 and the top learning; the top reads module 3 at four delays (`3>5:fresh-0/2/4/6`,
bilinear), so it is first valid at tick 9 of the 16; augmented training clips; the
default's rate and average; 4000 steps, one core a run (screen 34; seed 0 of
`skip_sideways` is screen 34's `ss_top_taps`, the same run).

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_top_taps.py \\
      --root=workdirs/results_dynamics_top_taps --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_top_taps.py \\
      --root=workdirs/results_dynamics_top_taps --out=docs/results/dynamics_top_taps \\
      --target=0.8
"""
from experiments.sweeps.screen34 import RUNS as _SCREEN34

SEEDS = (0, 1, 2)
_GRAPH = {**_SCREEN34['ss_top_taps'], 'num_steps': 4000}
RUNS = {
    'skip_sideways': dict(_GRAPH),
    'bptt': {**_GRAPH, 'algorithm': 'bptt'},
}
