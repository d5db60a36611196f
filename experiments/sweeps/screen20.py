"""Screen 20, future frames with temporal skips that are legal for prediction (screen 19's
graph and rates: `model.size=16,16,32,32`, modules 1-2 frozen, 3-4 at 0.1x, 600 steps,
seed 0; there plain Sideways 0.0283 and aligned input skips 0.0291, copy-last 0.0469).
Aligned input skips add no temporal information. A *fresh* input skip into a module below
the top does, and never shows the top its target: module k < K then mixes x[t] with its
main input's older frame, and the top reads it one tick later, so its newest frame is
t - 1 and its target x[t] has arrived (only a fresh input skip into the top itself is
refused). Which of these gives Skip-Sideways what plain Sideways lacks?
Outcome (MSE at step 600; copy-last 0.0468, 0.0469 for aligned-1 whose top outputs cover
other ticks): fresh input skips into modules 2-4 0.0254 (the best; 0.0327 / 0.0266 at steps
200 / 400); the same plus an aligned skip into the top 0.0303 (the top then also reads a
frame 4 ticks old and is slower to leave it); into module 4 only 0.0263; into 3-4 0.0264;
modules 2-4 plus x[t-1] into the top (`fresh-1`) 0.0273; every module also reading the frame
before its main input's (`input:aligned-1`, the past only) 0.0277. Taken to 3 seeds as
`input_below_top` in results_digits_nopool.py, with bptt on the same graph.

  python -m experiments.sweep --sweep=experiments/sweeps/screen20.py \\
      --root=workdirs/screen20 --parallel=2
"""
from experiments.sweeps import NO_HEADS

CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
_BASE = {**NO_HEADS, 'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'model.size': '16,16,32,32', 'module_lr_scales': '0,0,0.1,0.1'}
RUNS = {
    'ss_fresh_input_below_top': {**_BASE, 'skips': '0>2+0>3+0>4'},
    'ss_fresh_input_below_top_aligned_top': {**_BASE, 'skips': '0>2+0>3+0>4+0>5:aligned'},
    'ss_fresh_input_into_4': {**_BASE, 'skips': '0>4'},
    'ss_fresh_input_into_3_4': {**_BASE, 'skips': '0>3+0>4'},
    # Skips that carry an older frame ('KIND-N'): the top also reads x[t-1], the newest
    # frame it may see; or every module also reads the frame before its main input's.
    'ss_fresh_input_below_top_fresh1_top': {**_BASE, 'skips': '0>2+0>3+0>4+0>5:fresh-1'},
    'ss_aligned1_input': {**_BASE, 'skips': 'input:aligned-1'},
}
