"""Screen 8, on the head-conv default (3000 steps, seed 0; constant rate: Skip-Sideways
0.887, bptt 0.887): does a cosine decay of the rate over the run (to 1% at the end) lift
the final accuracy? It did not: bptt 0.861 at step 3000; Skip-Sideways 0.828 at step 2250
(stopped there; the constant-rate run had 0.859 at that step)."""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'schedule': 'cosine'}
RUNS = {
    'skip_sideways_cosine': dict(_BASE),
    'bptt_cosine': {**_BASE, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
