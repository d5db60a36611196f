"""Screen 18: does a smoother frozen front end help the stale gradients? Skip-Sideways starts
slowly on the default's random front end (clip accuracy 0.127 / 0.320 at steps 250 / 500
against bptt's 0.482 / 0.580) but as fast as bptt on the front end bptt learned (screen 16:
0.809 vs 0.812 at step 500). A module's Sideways gradient is computed for its output of a
few ticks earlier; on the random 3x3 features' high-frequency maps a moving actor's
gradient lands off its features sooner than on smooth ones. Average pooling (every pooling
of the network, `model.pool=avg`) smooths the maps modules 3-5 read and spreads a gradient
over the whole window instead of routing it to one position. It was tried only before the
frozen regime (0.133 at step 800 then). Default otherwise, 1500 steps, seed 0 (the default
at its step 1500: 0.795, bptt 0.813). Outcome (clip accuracy at steps 250 / 500 / 750 /
1500): Skip-Sideways 0.137 / 0.248 / 0.596 / 0.779 (the default: 0.127 / 0.320 / 0.605 /
0.795), bptt 0.527 / 0.652 / 0.711 / 0.818 (0.813 at 1500 with max pooling). No faster
start and 1.6 points lower at 1500: not adopted.

  python -m experiments.sweep --sweep=experiments/sweeps/screen18.py \\
      --root=workdirs/screen18 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500,
         'model.pool': 'avg'}
RUNS = {
    'sw_avgpool': dict(_BASE),
    'bptt_avgpool': {**_BASE, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
