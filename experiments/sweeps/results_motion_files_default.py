"""`motion` read from video files: `default.py:motion_files` (the default with only its
dataset keys changed, flips off) on the `motion` set exported as MJPEG AVIs in UCF101's
layout, 3000 steps (the default's budget before it became 4000), 3 seeds.
Outcome at step 3000: 0.955 +- 0.006 (docs/RESULTS.md). Needs the export first:

  python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \\
      --root=/tmp/motion_ucf --train_clips=8192 --test_clips=512
  MOTION_FILES_ROOT=/tmp/motion_ucf python -m experiments.sweep \\
      --sweep=experiments/sweeps/results_motion_files_default.py \\
      --root=workdirs/results_motion_files_default --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_motion_files_default.py \\
      --root=workdirs/results_motion_files_default --out=docs/results/motion_files_default \\
      --target=0.9
"""
import os

SEEDS = (0, 1, 2)
_ROOT = os.environ.get('MOTION_FILES_ROOT', '/tmp/motion_ucf')
RUNS = {'motion_files_skip_sideways': {
    'num_steps': 3000,  # pinned: measured at 3000; the default trains 4000 now
    'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'dataset.root': _ROOT,
    'config': 'experiments/configs/default.py:motion_files'}}
