"""docs/RESULTS.md, the video-file row: the default (local heads on modules 3-4) reading the
`motion` set exported as MJPEG AVIs in UCF101's layout (`default.py:motion_files`: only the
dataset keys change, flips off), 3000 steps, 1 seed. Outcome: 0.939 (the in-memory runs:
0.939 / 0.910 / 0.879; without heads, results_more_v3.py: 0.869). Needs the export first:

  python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \\
      --root=/tmp/motion_ucf --train_clips=8192 --test_clips=512
  MOTION_FILES_ROOT=/tmp/motion_ucf python -m experiments.sweep \\
      --sweep=experiments/sweeps/results_motion_files.py --root=workdirs/results_motion_files
  python -m experiments.report --sweep=experiments/sweeps/results_motion_files.py \\
      --root=workdirs/results_motion_files --out=docs/results/motion_files --target=0.9
"""
import os

_ROOT = os.environ.get('MOTION_FILES_ROOT', '/tmp/motion_ucf')
RUNS = {'motion_files_skip_sideways': {
    'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'dataset.root': _ROOT,
    'config': 'experiments/configs/default.py:motion_files'}}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
