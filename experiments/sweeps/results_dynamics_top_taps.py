"""`dynamics`, bptt's best graph found: modules 1-4 start from the default's `motion` run
(`workdirs/motion_default`), 1-2 held, 3-4 and the top learning; the top reads module 3 at
four delays (`3>5:fresh-0/2/4/6`, bilinear: first valid at tick 9 of 16); augmented
training clips; the default's rate and average; 4000 steps, 3 seeds, one core a run.
Outcome at step 4000: Skip-Sideways 0.486 +- 0.046, bptt 0.665 +- 0.016 (docs/RESULTS.md).
GRAPH is the base of the other `results_dynamics_*` sweeps.

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_top_taps.py \\
      --root=workdirs/results_dynamics_top_taps --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_top_taps.py \\
      --root=workdirs/results_dynamics_top_taps --out=docs/results/dynamics_top_taps \\
      --target=0.8
"""
from . import NO_HEADS

SEEDS = (0, 1, 2)
GRAPH = {**NO_HEADS, 'dataset.level': 'dynamics', 'dataset.augment': 'roll,rot90,colors',
         'init_from': 'workdirs/motion_default', 'init_modules': '1,2,3,4',
         'module_lr_scales': '0,0', 'skips': 'input+3>5:fresh-0/2/4/6:bilinear',
         'model.head_conv': 64, 'num_steps': 4000, 'eval_every': 500, 'log_every': 500,
         'checkpoint_every': 500}
RUNS = {
    'skip_sideways': dict(GRAPH),
    'bptt': {**GRAPH, 'algorithm': 'bptt'},
}
