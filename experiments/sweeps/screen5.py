"""Screen 5, on top of the default regime (modules 1-2 frozen, one Adam step per clip at
3e-3, 1500 steps; seed 0 gave Skip-Sideways 0.658, bptt 0.719): what closes the remaining
same-graph gap and the rotation error?
- small_pool3: one more pooling, so modules 3-4 see a whole actor (a rotation's sense);
- input+to_top: the top also reads modules 1-3 fresh: module 3 gets the top's gradient
  two ticks late instead of four, and the top sees the frozen random features;
- input+two_below: module k also reads module k-2, one frame newer than its main input."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0}
RUNS = {
    'sw_pool3': {**_BASE, 'model.size': 'small_pool3'},
    'sw_to_top': {**_BASE, 'skips': 'input+to_top'},
    'sw_two_below': {**_BASE, 'skips': 'input+two_below'},
    'bptt_pool3': {**_BASE, 'model.size': 'small_pool3', 'algorithm': 'bptt'},
    'bptt_to_top': {**_BASE, 'skips': 'input+to_top', 'algorithm': 'bptt'},
    'bptt_two_below': {**_BASE, 'skips': 'input+two_below', 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
