"""Screen 19, future frames without pooling (screen 17's graph, `model.size=16,16,32,32`,
600 steps, seed 0; copy-last-frame scores MSE 0.0469): plain Sideways there ends at a
saturated black output while module 4's activations grow to 3-4x bptt's. Do slower rates
for modules 3-4 (a tenth; their gradients are 4 and 2 ticks old, the decoder's exact) keep
the decoder out of saturation, and does Skip-Sideways (aligned input skips) stay ahead on
the same graph and rates? Outcome (MSE at steps 200 / 400 / 600): plain Sideways 0.0451 /
0.0296 / 0.0283, below copy-last from step 200; Skip-Sideways 0.0307 / 0.0297 / 0.0291.
Taken to 3 seeds in results_digits_nopool.py (a tie there too), now `moving_digits`.

  python -m experiments.sweep --sweep=experiments/sweeps/screen19.py \\
      --root=workdirs/screen19 --parallel=2
"""
from experiments.sweeps import NO_HEADS

CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
_BASE = {**NO_HEADS, 'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'model.size': '16,16,32,32', 'module_lr_scales': '0,0,0.1,0.1'}
RUNS = {
    'sideways_no_skips_nopool_slow34': {**_BASE, 'skips': 'none'},
    'skip_sideways_aligned_input_nopool_slow34': dict(_BASE),
}
