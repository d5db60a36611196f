"""The frozen-12 regime (modules 1-2 frozen, one update per clip, Adam 3e-3) peaked at 0.693
at step 1000 and fell back to 0.60-0.66 by 1500 (constant rate): a cosine decay over 1000
steps, for Sideways and bptt on the same graph."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 1000, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0,
         'module_lr_scales': '0,0,1,1,1', 'update_every': 'clip', 'learning_rate': 3e-3,
         'schedule': 'cosine'}
RUNS = {
    'sw_frozen12_clip_cosine': dict(_BASE),
    'bptt_frozen12_cosine': {**_BASE, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
