"""Freezing the modules whose Sideways gradient is stale by >= 4 frames (K = 5: modules 1,
2; K = 3: module 1) made Sideways track bptt at 800 steps. Longer (1500 steps), per-tick
and per-clip updates, bptt with and without the same modules frozen."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 1500, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0}
_K3 = {**_BASE, 'model.convs_per_module': 2}
RUNS = {
    'sw_k5_frozen12_tick_lr3e-4': {**_BASE, 'module_lr_scales': '0,0,1,1,1'},
    'sw_k5_frozen12_clip_lr3e-3': {**_BASE, 'module_lr_scales': '0,0,1,1,1',
                                   'update_every': 'clip', 'learning_rate': 3e-3},
    'bptt_k5_lr3e-3': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 3e-3},
    'bptt_k5_frozen12_lr3e-3': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 3e-3,
                                'module_lr_scales': '0,0,1,1,1'},
    'sw_k3_frozen1_tick_lr3e-4': {**_K3, 'module_lr_scales': '0,1,1'},
    'bptt_k3_lr3e-3': {**_K3, 'algorithm': 'bptt', 'learning_rate': 3e-3},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
