"""Screen 3: around input+to_top (the best of screens 1-2): head width, learning rate,
update windows, BPTT on the same graph, group norm for BPTT; one long run."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 100, 'checkpoint_every': 0}
_TOP = {**_BASE, 'skips': 'input+to_top'}
RUNS = {
    'sw_inputtop_hidden64': {**_TOP, 'model.hidden': 64},
    'bptt_inputtop_lr3e-3': {**_TOP, 'algorithm': 'bptt', 'learning_rate': 3e-3},
    'sw_inputtop_lr1.5e-4': {**_TOP, 'learning_rate': 1.5e-4},
    'sw_inputtop_every4_lr6e-4': {**_TOP, 'update_every': 4, 'learning_rate': 6e-4},
    'bptt_input_group_lr3e-3': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 3e-3,
                                'model.norm': 'group'},
    'sw_inputtop_2000': {**_TOP, 'num_steps': 2000, 'eval_every': 250},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
