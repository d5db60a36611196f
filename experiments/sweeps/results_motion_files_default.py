"""docs/RESULTS.md, the video-file row with the default since screen 24 (Adam at 5e-3 per
clip, local heads on modules 3-4, scored on a moving average of the parameters,
`ema_decay=0.99`): `default.py:motion_files` reads the `motion` set exported as MJPEG AVIs
in UCF101's layout (only the dataset keys change, flips off), 3000 steps, 3 seeds. The row
before (results_motion_files.py, 3e-3 without an average, 1 seed): 0.939.
Outcome (clip accuracy at 3000 steps): 0.955 / 0.961 / 0.949, 0.955 +- 0.006 (in memory,
screen 24: 0.958 +- 0.013); first >= 0.90 at steps 2000 / 1750 / 2000.
Needs the export first:

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
    'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'dataset.root': _ROOT,
    'config': 'experiments/configs/default.py:motion_files'}}
