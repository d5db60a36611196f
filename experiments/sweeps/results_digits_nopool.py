"""docs/RESULTS.md, future frames on the embedded moving digits (`default.py:moving_digits`)
on a graph without pooling (`model.size=16,16,32,32`: every module keeps the frame's 32x32
map, so a decoder without skips can rebuild the frame), modules 3-4 at a tenth of the rate
(screen 19: at the full rate plain Sideways' decoder saturates at a black output, screen
17): Skip-Sideways with aligned input skips vs plain Sideways, 3 seeds, 600 steps; every
eval also scores copy-last-frame. Seed 0 of each row is screen 19's run (the same config).

  python -m experiments.sweep --sweep=experiments/sweeps/results_digits_nopool.py \\
      --root=workdirs/results_digits_nopool --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_digits_nopool.py \\
      --root=workdirs/results_digits_nopool --out=docs/results/digits_nopool
"""
from . import NO_HEADS

CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'model.size': '16,16,32,32', 'module_lr_scales': '0,0,0.1,0.1'}
RUNS = {
    'skip_sideways_aligned_input': dict(_BASE),
    'sideways_no_skips': {**_BASE, 'skips': 'none'},
    # Fresh input skips into every module but the top (screen 20): temporal mixing that
    # never shows the top its target. Seed 0 is screen 20's run ('0>2+0>3+0>4', the same
    # edges spelt one by one).
    'skip_sideways_input_below_top': {**_BASE, 'skips': 'input_below_top'},
    # The same plus x[t-1], the newest frame the top may see, into the top: its decoder
    # starts by copying it (the copy-last baseline). Seed 0 is screen 20's run.
    'skip_sideways_input_below_top_last_frame_top': {
        **_BASE, 'skips': 'input_below_top+0>-1:fresh-1'},
    'bptt_input_below_top': {**_BASE, 'skips': 'input_below_top', 'algorithm': 'bptt'},
    'bptt_input_below_top_last_frame_top': {
        **_BASE, 'skips': 'input_below_top+0>-1:fresh-1', 'algorithm': 'bptt'},
}
