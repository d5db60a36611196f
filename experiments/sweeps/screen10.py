"""Screen 10, on the head-conv default (1500 steps, seed 0; the default at its step 1500:
Skip-Sideways 0.795, bptt 0.813): more capacity where Skip-Sideways' gradient is exact or
nearly so (the top module), or more random features in the frozen front end, since the
frozen front end is what caps the default. Outcome (clip accuracy at step 1500): head conv
64: 0.820, 128: 0.811, hidden 64: 0.752, 32-channel front end + head conv 64: 0.830 at 1.4x
the cost per step; head conv 64 over 3 seeds at 3000 steps: results_head_conv64.py."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500}
RUNS = {
    'sw_head_conv64': {**_BASE, 'model.head_conv': 64},
    'sw_hidden64': {**_BASE, 'model.hidden': 64},
    'sw_head_conv128': {**_BASE, 'model.head_conv': 128},
    'sw_wide_front_hc64': {**_BASE, 'model.size': '32,32p,32p,32p', 'model.head_conv': 64},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
