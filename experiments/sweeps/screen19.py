"""Screen 19, future frames without pooling (screen 17's graph, `model.size=16,16,32,32`,
600 steps, seed 0; copy-last-frame scores MSE 0.0469): plain Sideways there ends at a
saturated black output while module 4's activations grow to 3-4x bptt's. Do slower rates
for modules 3-4 (a tenth; their gradients are 4 and 2 ticks old, the decoder's exact) keep
the decoder out of saturation, and does Skip-Sideways (aligned input skips) stay ahead on
the same graph and rates?

  python -m experiments.sweep --sweep=experiments/sweeps/screen19.py \\
      --root=workdirs/screen19 --parallel=2
"""
CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
_BASE = {'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'model.size': '16,16,32,32', 'module_lr_scales': '0,0,0.1,0.1'}
RUNS = {
    'sideways_no_skips_nopool_slow34': {**_BASE, 'skips': 'none'},
    'skip_sideways_aligned_input_nopool_slow34': dict(_BASE),
}
