"""Screen 7: every algorithm misses a rotation's sense (per-class clip accuracy: rotations
are told from the other classes, cw from ccw at chance), bptt on the full graph too. A
rotation's sense is a spatial arrangement of local motions (up on one side, down on the
other), which the classifier's global average pool cannot see. With `small_pool3` the top
module reads a 4x4 map of 8-pixel cells; a 3x3 conv there (`head_conv`) spans 24 pixels,
a whole actor, and sits in the top module, whose Sideways gradient is exact. 1500 steps,
seed 0 (without it: Skip-Sideways 0.730, bptt 0.789, screen5)."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500,
         'model.size': 'small_pool3', 'model.head_conv': 32}
RUNS = {
    'sw_pool3_head32': _BASE,
    'bptt_pool3_head32': {**_BASE, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
