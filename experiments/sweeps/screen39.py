"""Screen 39, `dynamics`: a local head on module 4 in the regime of screen 37 (module 3
held, module 4 and the top learning; Skip-Sideways 0.652 at 4000 steps, seed 0). On
`motion` the default's local heads gave the learning modules a fresh gradient, taken at
their current input (+4.4 points over none, 3 seeds). Module 4 here reads x[t] through its
input skip and module 3's features of the frames before, so a classifier on its own output
may see part of a velocity change. `ss_m4_head`: a local head on module 4 at the default's
weight 3 (`model.local_heads=4`); `ss_m4_head_w1`: at weight 1. Seed 0, one core each,
4000 steps. The head reads the top's `head_conv` of 64 channels, so it starts from its
initialisation (the source run's heads had 32).
Outcome (clip accuracy at steps 1000 / 2000 / 3000 / 4000): ss_m4_head 0.514 / 0.580 /
0.586 / 0.617, ss_m4_head_w1 0.559 / 0.590 / 0.611 / 0.623: no gain over no head (0.557 /
0.584 / 0.619 / 0.652). On `dynamics` a single tick of module 4 does not hold the class, so
its head's fresh gradient does not help as it does on `motion`.

  python -m experiments.sweep --sweep=experiments/sweeps/screen39.py \\
      --root=workdirs/screen39 --parallel=2
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

_M4 = _SCREEN37['ss_m4_learns']
RUNS = {
    'ss_m4_head': {**_M4, 'model.local_heads': '4'},
    'ss_m4_head_w1': {**_M4, 'model.local_heads': '4', 'model.local_weight': 1.0},
}
