"""Screen 30, `dynamics` on motion features learned by Skip-Sideways: the default's run on
`motion` (the README's main command, 4000 steps, 0.957 held-out there) gives modules 1-4
(velocity, rotation and size-change features), held fixed here (`init_from`,
`module_lr_scales=0,0,0,0`); the top alone learns the dynamics classes, reading module 3's
features at six delays (taps, each multiplied with its main input: `bilinear`) and module
4's every tick. With every module below it frozen, the top's Sideways gradient is exact,
so Skip-Sideways and bptt differ only in the pipeline's frame offsets. The default's rate
and average, training clips augmented (`dataset.augment`), seed 0, one core each.
Outcome (clip accuracy at steps 500 / 1000 / ... / 4000): Skip-Sideways 0.355 / 0.473 /
0.461 / 0.467 / 0.502 / 0.504 / 0.486 / 0.525, bptt 0.357 / 0.479 / 0.471 / 0.484 / 0.508 /
0.504 / 0.488 / 0.488: the same curve, as it must be, fast to start and level at ~0.5. Per
class (Skip-Sideways, step 4000): circles 0.98, reverse 0.45, turns 0.40 / 0.44,
decelerate 0.56, accelerate 0.31, constant 0.07.

  python -m experiments.train --workdir=workdirs/motion_default     # the source run
  python -m experiments.sweep --sweep=experiments/sweeps/screen30.py \\
      --root=workdirs/screen30 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 500,
         'dataset.level': 'dynamics', 'dataset.augment': 'roll,rot90,colors',
         'num_steps': 4000, 'module_lr_scales': '0,0,0,0',
         'init_from': 'workdirs/motion_default',
         'skips': 'input+3>5:fresh-0/2/4/6/8/10:bilinear', 'model.head_conv': 64}
RUNS = {
    'ss_motion_features': dict(_BASE),
    'bptt_motion_features': {**_BASE, 'algorithm': 'bptt'},
}
