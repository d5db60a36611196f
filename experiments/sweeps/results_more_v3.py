"""docs/RESULTS.md, the rows beside `motion` re-measured with the current default
(VGG-small_pool3 with a 3x3 head conv, modules 1-2 frozen, one Adam step per clip at 3e-3,
3000 steps), 1 seed:
- bptt on the full graph (nothing frozen: this network's upper bound on motion);
- the `dynamics` level (>= 3 frames per class), Skip-Sideways and bptt on the same graph;
- the motion set as UCF101-layout video files (`default.py:motion_files`, only dataset keys
  changed), Skip-Sideways. Needs the export first:
    python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \\
        --root=/tmp/motion_ucf --train_clips=8192 --test_clips=512

  MOTION_FILES_ROOT=/tmp/motion_ucf python -m experiments.sweep \\
      --sweep=experiments/sweeps/results_more_v3.py --root=workdirs/results_more_v3 --parallel=2
"""
from experiments.sweeps import NO_HEADS
import os

_ROOT = os.environ.get('MOTION_FILES_ROOT', '/tmp/motion_ucf')
_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0}
RUNS = {}
RUNS['motion_files_skip_sideways'] = {**_BASE, 'dataset.root': _ROOT,
                                      'config': 'experiments/configs/default.py:motion_files'}
RUNS['motion_bptt_full_graph'] = {**_BASE, 'algorithm': 'bptt', 'module_lr_scales': ''}
RUNS['dynamics_skip_sideways'] = {**_BASE, 'dataset.level': 'dynamics'}
RUNS['dynamics_bptt'] = {**_BASE, 'dataset.level': 'dynamics', 'algorithm': 'bptt'}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
