"""Screen 13, future frames on the embedded moving digits (`default.py:moving_digits`, 600
steps, seed 0; copy-last-frame scores MSE 0.046): plain Sideways (no skips) was measured
only at 3e-3, where it predicts an all-black frame (0.052); at the variant's own rate,
3e-4, does it beat copy-last? bptt on the same no-skip graph says what the graph can do.
Outcome at step 600: both 0.0530 (copy-last 0.0469): neither beats copy-last.

  python -m experiments.sweep --sweep=experiments/sweeps/screen13.py \\
      --root=workdirs/screen13 --parallel=2
"""
from experiments.sweeps import NO_HEADS

CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
_BASE = {**NO_HEADS, 'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'skips': 'none'}
RUNS = {
    'sideways_no_skips_lr3e-4': dict(_BASE),
    'bptt_no_skips_lr3e-4': {**_BASE, 'algorithm': 'bptt'},
}
