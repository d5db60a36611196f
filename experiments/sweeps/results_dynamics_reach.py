"""docs/RESULTS.md, `dynamics`: bptt with a 12-frame temporal reach (screen 21's graph:
modules 1-3 also feed the top their outputs 8 ticks older than fresh), 3 seeds, 3000 steps.
Seed 0 is screen 21's run (the same config): 0.389 at step 3000. Seed 1: 0.273 / 0.383 /
0.439 at steps 1000 / 2000 / 3000. Seed 2: 0.262 / 0.254 / 0.279. Over the 3 seeds:
0.369 +- 0.082.

  python -m experiments.sweep --sweep=experiments/sweeps/results_dynamics_reach.py \\
      --root=workdirs/results_dynamics_reach --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_dynamics_reach.py \\
      --root=workdirs/results_dynamics_reach --out=docs/results/dynamics_reach
"""
from experiments.sweeps import NO_HEADS

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0,
         'dataset.level': 'dynamics',
         'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'}
RUNS = {
    'bptt_reach12': {**_BASE, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
