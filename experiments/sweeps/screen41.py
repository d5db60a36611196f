"""Screen 41, `dynamics`: module 4's rate in the regime of screen 37 (module 3 held, module 4
and the top learning; 3 seeds 0.615 ± 0.035 against bptt's 0.646 ± 0.020, paired by seed
0.8 / 4.1 / 4.4 points). Module 4's Sideways gradient refers to its output two ticks older
than the input it is applied to; on the 8x8 map it reads, the actor moves 0.4-1.1 px in
those two frames, so its kernel gradient is, roughly, the exact one shifted by that
displacement and, over random directions, blurred. If that error behaves like noise, a
smaller step (0.3x) should cost Skip-Sideways less than it costs the signal; if it is a
systematic blur that slows what module 4 learns, a larger one (2x) should help. Skip-Sideways
only, seeds 1 and 2 (the two seeds where the gap is 4 points), one core each, 4000 steps;
compare with `results_dynamics_module4.py`'s runs of the same seeds (Skip-Sideways 0.582 /
0.611, bptt 0.623 / 0.656).
Outcome (clip accuracy at steps 1000 / 2000 / 3000 / 4000, seed 1; seed 2):
ss_m4_slow 0.512 / 0.561 / 0.580 / **0.615**; 0.549 / 0.617 / 0.611 / **0.637** (3.3 and 2.6
points above the full rate, 0.8 and 1.9 below bptt at the full rate). ss_m4_fast 0.467 /
0.516 / 0.545 / 0.584; 0.439 / 0.553 / 0.574 / 0.588 (behind the full rate at every
evaluation). With module 4 held (the top alone) the same seeds gave 0.576 / 0.588. So a
smaller step helps: the error of module 4's gradient behaves more like noise around a
useful direction than like a blur that only slows it. Six seeds of 0.3x, with bptt at the
same rates, in `results_dynamics_module4_slow.py`.

  python -m experiments.sweep --sweep=experiments/sweeps/screen41.py \\
      --root=workdirs/screen41 --parallel=2
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

SEEDS = (1, 2)
RUNS = {
    'ss_m4_slow': {**_SCREEN37['ss_m4_learns'], 'module_lr_scales': '0,0,0,0.3'},
    'ss_m4_fast': {**_SCREEN37['ss_m4_learns'], 'module_lr_scales': '0,0,0,2'},
}
