"""Screen 39, `dynamics`: a local head on module 4 in the regime of screen 37 (module 3
held, module 4 and the top learning; Skip-Sideways 0.652 at 4000 steps, seed 0). On
`motion` the default's local heads gave the learning modules a fresh gradient, taken at
their current input (+4.4 points over none, 3 seeds). Module 4 here reads x[t] through its
input skip and module 3's features of the frames before, so a classifier on its own output
may see part of a velocity change. `ss_m4_head`: a local head on module 4 at the default's
weight 3 (`model.local_heads=4`); `ss_m4_head_w1`: at weight 1. Seed 0, one core each,
4000 steps.

  python -m experiments.sweep --sweep=experiments/sweeps/screen39.py \\
      --root=workdirs/screen39 --parallel=2
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

_M4 = _SCREEN37['ss_m4_learns']
RUNS = {
    'ss_m4_head': {**_M4, 'model.local_heads': '4'},
    'ss_m4_head_w1': {**_M4, 'model.local_heads': '4', 'model.local_weight': 1.0},
}
