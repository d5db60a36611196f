"""Screen 37, `dynamics`: which of modules 3-4 costs Skip-Sideways accuracy when it learns.
On the four-tap graph (`results_dynamics_top_taps.py`) Skip-Sideways reaches 0.486 ± 0.046
with modules 3-4 learning and 0.592 ± 0.018 with both held (`results_dynamics_top_alone.py`),
while bptt gains from them (0.665 ± 0.016). Module 3 learns mostly from the taps' messages,
each about its output 2-8 ticks older than the input it is applied to (the probe: its
whole-batch cosine with bptt 0.11); module 4 learns from the top's main input only, a
message about its output two ticks older (cosine 0.62).
`ss_m4_learns`: module 3 held, module 4 and the top
learning (`module_lr_scales=0,0,0`). `ss_m34_slow`: both learning at a tenth of the rate
(`0,0,0.1,0.1`). `bptt_m4_learns`: the exact gradient in the first regime, the same-graph
comparison for it. Seed 0, one core each, 4000 steps.
Outcome (clip accuracy at steps 1000 / 2000 / 3000 / 4000): **ss_m4_learns 0.557 / 0.584 /
0.619 / 0.652**, still rising (held 3-4: 0.611 at 4000; both learning: 0.539);
ss_m34_slow 0.547 / 0.584 / 0.643 / 0.631; bptt_m4_learns 0.564 / 0.613 / 0.607 / 0.660
(bptt with 3-4 learning: 0.676). Holding module 3 and letting module 4 learn is the best
Skip-Sideways regime found on `dynamics`, within a point of bptt in the same regime.

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/screen37.py \\
      --root=workdirs/screen37 --parallel=2
"""
from experiments.sweeps.results_dynamics_top_taps import RUNS as _RUNS

_SS = _RUNS['skip_sideways']
RUNS = {
    'ss_m4_learns': {**_SS, 'module_lr_scales': '0,0,0'},
    'ss_m34_slow': {**_SS, 'module_lr_scales': '0,0,0.1,0.1'},
    'bptt_m4_learns': {**_SS, 'module_lr_scales': '0,0,0', 'algorithm': 'bptt'},
}
