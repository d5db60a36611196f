"""Screen 2: skip patterns that shorten gradient paths, fewer modules, average pooling
(Skip-Sideways on `motion`, 800 steps, one seed)."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 100}
RUNS = {
    'sw_dense': {**_BASE, 'skips': 'dense'},
    'sw_k3_input': {**_BASE, 'skips': 'input', 'model.convs_per_module': 2},
    'sw_avg_input': {**_BASE, 'skips': 'input', 'model.pool': 'avg'},
    'sw_avg_inputtop': {**_BASE, 'skips': 'input+to_top', 'model.pool': 'avg'},
    'bptt_k3_input_lr3e-3': {**_BASE, 'skips': 'input', 'model.convs_per_module': 2,
                             'algorithm': 'bptt', 'learning_rate': 3e-3},
    'sw_k3_dense': {**_BASE, 'skips': 'dense', 'model.convs_per_module': 2},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
