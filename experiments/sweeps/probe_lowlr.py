"""Probe: with module 1 frozen, K = 3 Sideways (one update per clip) tracks bptt (0.47 vs
0.52 at step 600; unfrozen 0.11 vs 0.65 at 800). Slow low modules instead of freezing
them; per-tick updates; K = 5 with its two lowest modules frozen."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 100, 'checkpoint_every': 0}
_K3 = {**_BASE, 'model.convs_per_module': 2}
RUNS = {
    'sw_k3_clip_scale0.1': {**_K3, 'update_every': 'clip', 'learning_rate': 3e-3,
                            'module_lr_scales': '0.1,1,1'},
    'sw_k3_tick_frozen1_lr3e-4': {**_K3, 'module_lr_scales': '0,1,1'},
    'sw_k5_clip_frozen12': {**_BASE, 'update_every': 'clip', 'learning_rate': 3e-3,
                            'module_lr_scales': '0,0,1,1,1'},
    'bptt_k5_frozen12': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 3e-3,
                         'module_lr_scales': '0,0,1,1,1'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
