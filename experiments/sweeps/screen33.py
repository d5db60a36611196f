"""Screen 33, `dynamics`: screen 32's graph with the top's taps of module 3 detached
(`:detach`), so module 3 learns only along the main path (its Sideways gradient 4 ticks
old, as on `motion`) and not from the six taps (2-12 ticks old). Screen 32 at step 4000 /
7000: Skip-Sideways 0.531 / 0.539, level from step 2000, bptt 0.580 / 0.670, still
rising; Skip-Sideways there is no better than its top alone on the held features (0.525,
screen 30), so modules 3-4 gain nothing from the gradient they get. Skip-Sideways and bptt
on the detached graph, otherwise screen 32's settings, seed 0, one core each.
Outcome: Skip-Sideways 0.195 / 0.291 / 0.322 / 0.369 / 0.373 / 0.393 at steps 500 / 1000 /
... / 3000 (attached taps, screen 32: 0.195 / 0.359 / 0.412 / 0.490 / 0.494 / 0.518), so it
was stopped (SIGTERM, which checkpoints) at step 3465: the taps' stale gradient, far from
hurting module 3, is most of what it learns from. bptt on this graph was not run.

  python -m experiments.sweep --sweep=experiments/sweeps/screen33.py \\
      --root=workdirs/screen33 --parallel=2
"""
from experiments.sweeps.screen32 import _TUNE

_DETACHED = {**_TUNE, 'num_steps': 3465,
             'skips': 'input+3>5:fresh-0/2/4/6/8/10:bilinear:detach'}
RUNS = {
    'ss_finetune_detached': dict(_DETACHED),
}
