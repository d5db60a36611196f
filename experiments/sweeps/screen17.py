"""Screen 17, future frames on the embedded moving digits (`default.py:moving_digits`, 600
steps, seed 0; copy-last-frame scores MSE 0.047): without skips, VGG-small's decoder must
rebuild a 32x32 frame from module 4's pooled 8x8 map, and neither plain Sideways nor bptt
on that graph beats copy-last (both 0.0530, screen 13). Without pooling ('16,16,32,32':
every module keeps the frame's 32x32 map) the decoder reads a full-resolution map of the
frame its output comes from. Does that graph beat copy-last, for Sideways without skips, and
does Skip-Sideways with aligned input skips still beat it on the same graph?
Outcome at step 600 (MSE; copy-last 0.0469): bptt without skips 0.0273 (0.0281 at step 200):
the graph beats copy-last by far. Plain Sideways on it stays at an almost black output,
0.0530 at 3e-4 and 0.0529 at 1e-3, from step 200 on: its decoder's sigmoid is saturated
(output rms 0.007 on held-out clips, where bptt's is 0.16) while module 4's activations grew
to rms 1.36 (bptt 0.36), so the exact gradient the decoder gets is near zero. Skip-Sideways
with aligned input skips: 0.0372 (0.0357 at step 200), better than on VGG-small (0.0406)
but above bptt's no-skip 0.0273. Not adopted: the no-skip ordering still fails, now with a
graph that could pass it.

  python -m experiments.sweep --sweep=experiments/sweeps/screen17.py \\
      --root=workdirs/screen17 --parallel=2
"""
from experiments.sweeps import NO_HEADS

CONFIG = 'experiments/configs/default.py:moving_digits'
METRIC = 'mse'
_BASE = {**NO_HEADS, 'num_steps': 600, 'eval_every': 200, 'log_every': 200, 'checkpoint_every': 0,
         'model.size': '16,16,32,32'}
RUNS = {
    'sideways_no_skips_nopool': {**_BASE, 'skips': 'none'},
    'bptt_no_skips_nopool': {**_BASE, 'skips': 'none', 'algorithm': 'bptt'},
    'skip_sideways_aligned_input_nopool': dict(_BASE),
    'sideways_no_skips_nopool_lr1e-3': {**_BASE, 'skips': 'none', 'learning_rate': 1e-3},
}
