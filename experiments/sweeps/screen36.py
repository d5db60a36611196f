"""Screen 36, `dynamics`: what Skip-Sideways' modules 3-4 add on the four-tap graph
(`results_dynamics_top_taps.py`: Skip-Sideways 0.486 ± 0.046, bptt 0.665 ± 0.016 at 4000
steps). `ss_top_alone`: modules 3-4 held at the `motion` run's parameters, only the top
learns, so its Sideways gradient is exact (screen 30 did this on the six-tap graph:
0.525); if Skip-Sideways with 3-4 learning is no higher, what they learn from the stale
gradient adds nothing. `ss_top_taps_tick`: one step every tick (`update_every=1`) instead
of one per clip, the other schedule the spec offers. Seed 0, one core each, 4000 steps.
Outcome: **ss_top_alone 0.611 at 4000** (0.572 at 1500, 0.59-0.61 after): higher than
Skip-Sideways with modules 3-4 learning on the same graph (0.539 in this seed): what they
learn from the stale gradient costs accuracy. ss_top_taps_tick stayed at chance (0.11-0.12
to step 2500, stopped there): an Adam step every tick at the default's rate is too much.

  python -m experiments.sweep --sweep=experiments/sweeps/screen36.py \\
      --root=workdirs/screen36 --parallel=2
"""
from experiments.sweeps.results_dynamics_top_taps import RUNS as _RUNS

_SS = _RUNS['skip_sideways']
RUNS = {
    'ss_top_alone': {**_SS, 'module_lr_scales': '0,0,0,0'},
    'ss_top_taps_tick': {**_SS, 'update_every': 1},
}
