"""Screen 14, at the default's wall time instead of its step count (seed 0): a step of
batch 8 costs 0.51x a step of batch 16, so 6000 steps of batch 8 take what the default's
3000 take (the same clips, twice the updates). Timed side by side on one core: batch 16
394 ms/step, batch 8 202 ms/step; pooling after module 1 ('16p,16,32p,32p', the frozen
module 2 at 16x16) 0.84x, so 3600 of its steps take what 3000 of the default take
(`python -m benchmarks.run --only step_cost` re-measures the batch ratio; the frozen
modules are 0.43 of a default step). The default's seed 0 scores 0.887 at step 3000.
Outcome (clip accuracy, seed 0): batch 8 at 3e-3 0.891 at step 6000, no better than the
default at the same clips and time, and behind it on the way (0.777 at step 5000 against
the default's 0.852 at its step 2500, the same clips); pooling after module 1 0.857 at
step 3600 (0.789 at 3000). Neither is adopted; batch 8 at 2e-3 was not run."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0, 'num_steps': 6000,
         'batch_size': 8}
RUNS = {
    'sw_b8': dict(_BASE),
    'sw_b8_lr2e-3': {**_BASE, 'learning_rate': 2e-3},
    'sw_pool1': {**_BASE, 'batch_size': 16, 'num_steps': 3600, 'model.size': '16p,16,32p,32p'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
