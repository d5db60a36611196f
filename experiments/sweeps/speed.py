"""The Sideways-vs-bptt gap against motion speed (temporal_actions motion, speed s: the
actor moves s times as far per frame). The static-clip theorem says the gap closes as
s -> 0. The full graph (nothing frozen; VGG-small + input skips), Sideways with an Adam
step every tick at 3e-4 (the schedule that learned without freezing), bptt at 3e-3;
800 steps, one seed.

  python -m experiments.sweep --sweep=experiments/sweeps/speed.py --root=workdirs/speed \\
      --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/speed.py --root=workdirs/speed \\
      --out=docs/results/speed
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'model.size': 'small',  # the default when this ran
         'num_steps': 800, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'module_lr_scales': ''}
RUNS = {}
for _speed in (0.25, 0.5, 1.0):
  RUNS[f'sw_speed{_speed}'] = {**_BASE, 'dataset.speed': _speed, 'update_every': 1,
                               'learning_rate': 3e-4}
  RUNS[f'bptt_speed{_speed}'] = {**_BASE, 'dataset.speed': _speed, 'algorithm': 'bptt'}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
