"""(sw_detach4_tick3e-4 was stopped at step 100 for time: clip updates had won elsewhere.)
Stale main-path gradients are what hurt (freezing the stale modules closed most of the
gap). Cut them instead of freezing: `model.detach=4` stops every gradient along the main
path below the top, and `to_top` skips give each conv module the top's gradient two ticks
after its output (deep-supervision-like, nearly aligned). Same graph for bptt."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 100, 'checkpoint_every': 0,
         'skips': 'input+to_top', 'model.detach': 4}
RUNS = {
    'sw_detach4_clip3e-3': {**_BASE, 'update_every': 'clip', 'learning_rate': 3e-3},
    'bptt_detach4_3e-3': {**_BASE, 'algorithm': 'bptt', 'learning_rate': 3e-3},
    # detach only modules 1-2 (the most stale): they learn through to_top, 3-4 along the main path
    'sw_detach2_clip3e-3': {**_BASE, 'model.detach': 2, 'update_every': 'clip',
                            'learning_rate': 3e-3},
    'bptt_detach2_3e-3': {**_BASE, 'model.detach': 2, 'algorithm': 'bptt',
                          'learning_rate': 3e-3},
    'sw_headconv32_frozen12_clip3e-3': {**NO_HEADS, 'model.size': 'small', 'num_steps': 800, 'eval_every': 200, 'log_every': 100,
                                        'checkpoint_every': 0, 'module_lr_scales': '0,0,1,1,1',
                                        'update_every': 'clip', 'learning_rate': 3e-3,
                                        'model.head_conv': 32},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
