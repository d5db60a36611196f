"""docs/RESULTS.md, the rows beside `motion`, all with the previous default (VGG-small, 1500
steps; modules 1-2 frozen, one Adam step per clip at 3e-3):
- bptt on the full graph (nothing frozen: this network's upper bound on motion), 1 seed;
- dynamics (>= 3 frames per class): Skip-Sideways vs bptt, 1 seed;
- the motion set as UCF101-layout video files (`default.py:motion_files`, only dataset keys
  changed), Skip-Sideways, 1 seed. Needs the export first:
    python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \\
        --root=/tmp/motion_ucf --train_clips=8192 --test_clips=512

  python -m experiments.sweep --sweep=experiments/sweeps/results_more.py \\
      --root=workdirs/results_more --parallel=2
"""
from experiments.sweeps import NO_HEADS
import os

_ROOT = os.environ.get('MOTION_FILES_ROOT', '/tmp/motion_ucf')
_BASE = {**NO_HEADS, 'model.head_conv': 0,  # before the head conv was the default
         'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0,
         'model.size': 'small', 'num_steps': 1500}  # the default when this ran
RUNS = {}
RUNS['motion_bptt_full_graph'] = {**_BASE, 'algorithm': 'bptt', 'module_lr_scales': ''}
RUNS['dynamics_skip_sideways'] = {**_BASE, 'dataset.level': 'dynamics'}
RUNS['dynamics_bptt'] = {**_BASE, 'dataset.level': 'dynamics', 'algorithm': 'bptt'}
RUNS['motion_files_skip_sideways'] = {**_BASE, 'dataset.root': _ROOT,
                                      'config': 'experiments/configs/default.py:motion_files'}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
