"""Screen 1: what moves Skip-Sideways on `motion` (800 steps, one seed)."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 100}
RUNS = {
    'sw_input_lr3e-4': {**_BASE},
    'sw_input_group_lr3e-4': {**_BASE, 'model.norm': 'group'},
    'sw_input_group_lr1e-4': {**_BASE, 'model.norm': 'group', 'learning_rate': 1e-4},
    'sw_input_layer_lr3e-4': {**_BASE, 'model.norm': 'layer'},
    'sw_inputtop_lr3e-4': {**_BASE, 'skips': 'input+to_top'},
    'sw_inputtop_group_lr3e-4': {**_BASE, 'skips': 'input+to_top', 'model.norm': 'group'},
    'sw_dense_group_lr3e-4': {**_BASE, 'skips': 'dense', 'model.norm': 'group'},
    'sw_input_group_clip_lr3e-3': {**_BASE, 'model.norm': 'group', 'update_every': 'clip',
                                   'learning_rate': 3e-3},
    'bptt_input_group_lr3e-3': {**_BASE, 'algorithm': 'bptt', 'model.norm': 'group',
                                'learning_rate': 3e-3},
    'bptt_input_lr3e-3': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 3e-3},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
