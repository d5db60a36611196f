"""Screen 9: bptt on the full graph of the head-conv default (modules 1-2 learning too)
reaches 0.96 on `motion` (results_more_v3.py), so the frozen modules are what caps the
default near 0.88. Can Skip-Sideways train them a little, at a fraction of the rate,
despite their 6-8-tick-old gradient? 1500 steps, seed 0 (the default at its step 1500:
0.795)."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500}
RUNS = {
    'sw_lower_0.1': {**_BASE, 'module_lr_scales': '0.1,0.1'},
    'sw_module2_0.3': {**_BASE, 'module_lr_scales': '0,0.3'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
