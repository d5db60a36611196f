"""Screen 15: update schedules between one Adam step per clip (the default) and one per
tick, on the default (1500 steps, seed 0; the default at its step 1500: 0.795, and
0.127 / 0.320 at steps 250 / 500 against bptt's 0.482 / 0.580): more steps per clip might
start faster. A clip is 20 ticks (16 frames + 4 drain), so `update_every=10` steps twice
per clip and 5 four times; the rate falls as the steps multiply. Outcome (clip accuracy at
steps 250 / 500 / 1500): every 10 ticks at 3e-3 0.133 / 0.121 / 0.686; every 5 at 1.5e-3
0.145 / 0.400 / 0.725. No faster start, and both end below the default's 0.795."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500}
RUNS = {
    'sw_every10_3e-3': {**_BASE, 'update_every': 10},
    'sw_every5_1.5e-3': {**_BASE, 'update_every': 5, 'learning_rate': 1.5e-3},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
