"""Screen 40, `dynamics`: a longer parameter average in the regime of screen 37 (module 3
held, module 4 and the top learning; seed 0 at step 4000: Skip-Sideways 0.652, bptt 0.660;
3 seeds 0.615 ± 0.035 against 0.646 ± 0.020). Both plateau from step ~3000 with evaluations
moving 2-3 points between checks; module 4's Sideways gradient refers to its output two
ticks older than the input it is applied to, and an average over more steps may smooth
what that misalignment adds. `ema_decay=0.995` (the default's 0.99) for both algorithms.
Seed 0, one core each, 4000 steps.
Outcome (clip accuracy at steps 1000 / 2000 / 3000 / 4000): ss_m4_ema995 0.535 / 0.576 /
0.627 / 0.650, bptt_m4_ema995 0.551 / 0.613 / 0.625 / 0.648: the same finals as at 0.99
(0.652 / 0.660) for Skip-Sideways, 1.2 points lower for bptt; three seeds in
`results_dynamics_module4_ema995.py`.

  python -m experiments.sweep --sweep=experiments/sweeps/screen40.py \\
      --root=workdirs/screen40 --parallel=2
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

RUNS = {
    'ss_m4_ema995': {**_SCREEN37['ss_m4_learns'], 'ema_decay': 0.995},
    'bptt_m4_ema995': {**_SCREEN37['bptt_m4_learns'], 'ema_decay': 0.995},
}
