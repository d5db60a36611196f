"""Screen 4: K = 3 (two convs per module), where Sideways' gradients are near exact
(diagnose: cosine >= 0.99 per module): is the update schedule what holds it back?"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 100, 'checkpoint_every': 0,
         'model.convs_per_module': 2}
RUNS = {
    'sw_k3_input_clip_lr3e-3': {**_BASE, 'update_every': 'clip', 'learning_rate': 3e-3},
    'sw_k3_input_lr1e-3': {**_BASE, 'learning_rate': 1e-3},
    'sw_k3_input_every4_lr1e-3': {**_BASE, 'update_every': 4, 'learning_rate': 1e-3},
    'sw_k3_input_lr1e-4': {**_BASE, 'learning_rate': 1e-4},
    'bptt_k3_input_lr1e-2': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 1e-2},
    'sw_k5_input_clip_lr3e-3': {**_BASE, 'model.convs_per_module': 1, 'update_every': 'clip',
                                'learning_rate': 3e-3},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
