"""Screen 11, on the head-conv default (1500 steps, seed 0; the default at its step 1500:
Skip-Sideways 0.795): a fresh skip from module 2 into the top module ('2>-1'). Its edge
delivers the top's exact gradient to module 2 two ticks late instead of six, so module 2
might learn through it (with its main-path gradient cut: model.detach=2); or, with modules
1-2 frozen, the top merely sees newer low-level features beside module 4's. Outcome at step
1500: 0.518 frozen, 0.742 with module 2 learning through the skip: both below the default."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500}
RUNS = {
    'sw_skip2top': {**_BASE, 'skips': 'input+2>-1'},
    'sw_skip2top_train2': {**_BASE, 'skips': 'input+2>-1', 'model.detach': 2,
                           'module_lr_scales': '0'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
