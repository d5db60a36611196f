"""Screen 21, `dynamics` (>= 3 frames per class): is the top's temporal reach the limit?
With the default network no algorithm leaves chance in 3000 steps (Skip-Sideways 0.113,
bptt 0.100), and the top mixes at most 5 consecutive frames per tick (x[t] and its main
input's frame t - 4) while an acceleration or a turn is spread over the clip. Skips that
carry older frames (`KIND-N`) reach further back: modules 1-3 into the top, 8 ticks older
than fresh (their outputs of frames t - 9, t - 10, t - 11), so the top spans 12 frames.
The default otherwise, 3000 steps, seed 0. Outcome (clip accuracy at steps 500 / 1000 /
1500 / 2000 / 2500 / 3000): bptt 0.115 / 0.209 / 0.258 / 0.303 / 0.363 / 0.389, off chance
(0.125; 3 sigma 0.044) from step 1000 and still rising, where the default graph's bptt has 0.100
at 3000; Skip-Sideways 0.107 / 0.143 / 0.113 / 0.131 / 0.107 / 0.107, at chance. So reach is
one limit for the graph; Skip-Sideways does not use it. bptt seeds 1-2:
results_dynamics_reach.py (started, not finished).

  python -m experiments.sweep --sweep=experiments/sweeps/screen21.py \\
      --root=workdirs/screen21 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0,
         'dataset.level': 'dynamics',
         'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'}
RUNS = {
    'bptt_reach12': {**_BASE, 'algorithm': 'bptt'},
    'ss_reach12': dict(_BASE),
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
