"""Screen 38, `dynamics`: the regime screen 37 found (module 3 held, module 4 and the top
learning: Skip-Sideways 0.652 at step 4000 and still rising, seed 0) taken further.
`ss_m4_long`: the same run to 8000 steps (a constant rate, so its first 4000 steps are
screen 37's `ss_m4_learns`; copy that workdir here to resume it instead of re-running).
`bptt_m4_long`: bptt's run in that regime to 8000 steps (from screen 37's
`bptt_m4_learns` the same way). `ss_m3slow_m4`: module 3 learning at a tenth of the rate, module 4 at the full rate
(`module_lr_scales=0,0,0.1`; screen 37 had both at a tenth: 0.631). Seed 0, one core each.
Outcome (clip accuracy): ss_m4_long 0.652 at 4000, then 0.637 / 0.627 / 0.623 / 0.635 /
0.611 / 0.633 / 0.619 / 0.629 at 4500-8000: level at 0.61-0.64 after step 4000.
ss_m3slow_m4 0.539 / 0.586 / 0.596 / 0.623 at 1000 / 2000 / 3000 / 4000: below module 3
held (0.652). bptt_m4_long 0.660 at 4000, then 0.652 / 0.639 / 0.656 / 0.645 / 0.643 /
0.680 / 0.658 / 0.652 at 4500-8000: level at 0.64-0.68, 2-4 points above Skip-Sideways'.

  python -m experiments.sweep --sweep=experiments/sweeps/screen38.py \\
      --root=workdirs/screen38 --parallel=2
"""
from experiments.sweeps.screen37 import RUNS as _SCREEN37

_M4 = _SCREEN37['ss_m4_learns']
RUNS = {
    'ss_m4_long': {**_M4, 'num_steps': 8000},
    'ss_m3slow_m4': {**_M4, 'module_lr_scales': '0,0,0.1'},
    'bptt_m4_long': {**_SCREEN37['bptt_m4_learns'], 'num_steps': 8000},
}
