"""`dynamics`, what budget the 12-frame reach takes: bptt on results_dynamics_reach.py's
graph (modules 1-3 also feed the top their outputs 8 ticks older than fresh, so the top
spans 12 frames; 3e-3, no average, no heads), seed 0, run 4x as long (12000 steps), and the
same graph with every module learning (`module_lr_scales=`; on `motion` bptt on the full
graph reaches 0.979 against 0.948 frozen), 8000 steps. One core each, side by side; the
frozen run keeps its frozen outputs (modules 1 and 2, both read by the top: ~1.3 MB a
clip, so 11 GB for the 8192 clips; the same numbers without). Outcome (clip accuracy at
steps 1000, 2000, ...): frozen, 12000 steps: 0.209 / 0.303 / 0.389 / 0.426 / 0.447 / 0.441
/ 0.459 / 0.479 / 0.461 / 0.465 / 0.471 / 0.461 (the first three as screen 21's); every
module learning: 0.240 / 0.291 / 0.416 / 0.428 / 0.457, stopped at step 5258 (it resumes
with the command below). Far from 0.80 either way (docs/RESULTS.md, "Not reached").

  python -m experiments.sweep --sweep=experiments/sweeps/dynamics_reach_budget.py \\
      --root=workdirs/dynamics_reach_budget --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 1000, 'log_every': 500, 'checkpoint_every': 1000,
         'dataset.level': 'dynamics', 'algorithm': 'bptt',
         'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'}
RUNS = {
    'bptt_reach12_12000': {**_BASE, 'num_steps': 12000, 'frozen_cache_gb': 11.0},
    'bptt_reach12_full_8000': {**_BASE, 'num_steps': 8000, 'module_lr_scales': ''},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # the rate and average of results_dynamics_reach.py
