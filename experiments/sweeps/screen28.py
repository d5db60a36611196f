"""Screen 28, `dynamics` without its distractor (`dataset.num_distractors=0`, a named
setting beside the level, which stays as it is): is the distractor what stops the network?
The vision-free control (`python -m experiments.control`, an MLP on velocities estimated
from the whole frame) reads 0.740 of the level from the 8192 training clips and 0.906
without the distractor: a global motion estimate is spoiled by the second moving shape, so
a model must find the actor first. Screen 21's reach-12 graph (modules 1-3 also feed the
top their outputs 8 ticks older than fresh), 3e-3, no average, no heads, seed 0, 3000
steps, one core each; with the distractor bptt had 0.389 there and Skip-Sideways 0.107.

  python -m experiments.sweep --sweep=experiments/sweeps/screen28.py \\
      --root=workdirs/screen28 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 500,
         'dataset.level': 'dynamics', 'dataset.num_distractors': 0, 'num_steps': 3000,
         'learning_rate': 3e-3, 'ema_decay': 0.0,
         'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'}
RUNS = {
    'bptt_reach12_clean': {**_BASE, 'algorithm': 'bptt'},
    'ss_reach12_clean': dict(_BASE),
    # Only the top learns (modules 3-4 frozen too): what the top's own exact gradient buys.
    'bptt_reach12_clean_top_only': {**_BASE, 'algorithm': 'bptt', 'module_lr_scales': '0,0,0,0'},
    # Skip-Sideways with only the top learning (its gradient is exact: as bptt's top-only
    # run, up to the pipeline's frame offsets), and with modules 3-4 at a tenth of the rate.
    'ss_reach12_clean_top_only': {**_BASE, 'module_lr_scales': '0,0,0,0'},
    'ss_reach12_clean_slow34': {**_BASE, 'module_lr_scales': '0,0,0.1,0.1'},
}
