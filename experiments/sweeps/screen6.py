"""Screen 6: `small_pool3` won screen 5 for both algorithms (seed 0, 1500 steps:
Skip-Sideways 0.730 vs 0.658, bptt 0.789 vs 0.719), the same-graph gap stayed ~6 points.
Module 3's Sideways gradient is 4 ticks old, module 4's 2. Put the two trainable convs in
one module, so both learn from a gradient 2 ticks old (exact backprop inside it):
- convs '1,1,2' (K = 4): frozen conv1, conv2; conv3+conv4 one module;
- convs '2,2' (K = 3): frozen conv1+conv2 as one module; conv3+conv4 one module.
bptt trains each same graph (the split changes the skips' frame offsets, so it is a
different graph for both)."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0,
         'model.size': 'small_pool3'}
_K4 = {**_BASE, 'model.convs_per_module': '1,1,2'}
_K3 = {**_BASE, 'model.convs_per_module': '2,2', 'module_lr_scales': '0'}
RUNS = {
    'sw_k4': _K4,
    'bptt_k4': {**_K4, 'algorithm': 'bptt'},
    'sw_k3': _K3,
    'bptt_k3': {**_K3, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
