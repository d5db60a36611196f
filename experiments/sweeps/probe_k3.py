"""Probe: K = 3 Sideways does not leave the plateau even with one update per clip, where
bptt does. Is it module 1's gradient (4 frames stale) that holds it back? Freeze it."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 600, 'eval_every': 200, 'log_every': 100, 'checkpoint_every': 0,
         'model.convs_per_module': 2, 'update_every': 'clip', 'learning_rate': 3e-3}
RUNS = {
    'bptt_k3_frozen1': {**_BASE, 'algorithm': 'bptt', 'module_lr_scales': '0,1,1'},
    'sw_k3_clip_frozen1': {**_BASE, 'module_lr_scales': '0,1,1'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
