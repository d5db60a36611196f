"""Screen 32, `dynamics` from the motion features of screen 30, now learning: modules 1-4
start from the default's `motion` run (`init_from`, `init_modules=1,2,3,4`), modules 1-2
stay frozen as in the default and modules 3-4 go on learning with the top (screen 30 held
them: 0.525 / 0.488 at step 4000 for Skip-Sideways / bptt; a larger top did not help,
screen 31). Skip-Sideways and bptt, the graph, rate, average and augmentation of screen
30, seed 0, one core each.

  python -m experiments.sweep --sweep=experiments/sweeps/screen32.py \\
      --root=workdirs/screen32 --parallel=2
"""
from experiments.sweeps.screen30 import _BASE

# 12000 steps at a constant rate: a run's first 4000 are a 4000-step run's.
_TUNE = {**_BASE, 'module_lr_scales': '0,0', 'init_modules': '1,2,3,4', 'num_steps': 12000}
RUNS = {
    # Stopped (SIGTERM, which checkpoints) at step 7935: level at 0.50-0.55 from step 2000.
    'ss_finetune': {**_TUNE, 'num_steps': 7935},
    'bptt_finetune': {**_TUNE, 'algorithm': 'bptt'},
}
