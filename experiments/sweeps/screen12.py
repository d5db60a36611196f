"""Screen 12, on the head-conv default (1500 steps, seed 0; the default at its step 1500:
Skip-Sideways 0.795; at step 250 it is still at chance, 0.127, where bptt has 0.482): is
the slow start the stale-gradient modules 3-4 taking full Adam steps from step 1? Train
them at 0.3x the rate, or warm every module's rate up over the first 300 steps. Outcome
(stopped at step 750): 0.148 / 0.264 / 0.545 and 0.162 / 0.229 / 0.543 at steps 250 / 500 /
750, against the default's 0.127 / 0.320 / 0.605: neither starts faster."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500}
RUNS = {
    'sw_mid_0.3': {**_BASE, 'module_lr_scales': '0,0,0.3,0.3'},
    'sw_warmup300': {**_BASE, 'warmup_steps': 300},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
