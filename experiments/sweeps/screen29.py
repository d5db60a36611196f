"""Screen 29, `dynamics`: is the training set what stops the network? A CNN fed the whole
clip at once (`python -m experiments.clip_cnn`: 16 frames as channels, ordinary backprop,
outside the frame clock) stays at 0.57-0.62 held-out from step 9000 on while its training
loss falls to 0.07 (it learns the 8192 clips by heart), and reaches 0.645 at step 20000,
still rising, with the training clips shifted on the torus, quarter-turned and recoloured
(`dataset.augment`, which keeps every dynamics label). Here the same question on the
frame clock: screen 21's reach-12
graph (bptt there: 0.389 at step 3000, seed 0; levels off at 0.44-0.48 by step 5000)
with the augmentation, and a graph whose top reads module 3's motion features at six
delays (taps, `3>5:fresh-0/2/4/6/8/10`, each multiplied with the top's main input:
`bilinear`), for bptt and Skip-Sideways. 3e-3, no average, no heads, seed 0, one core
each, evaluations every 500. Outcome (clip accuracy at steps 500 / 1000 / ... / 3000):
bptt_reach12_aug 0.137 / 0.223 / 0.266 / 0.275 / 0.359 / 0.430 (without augmentation
0.389 at 3000: overfitting is not yet what limits it at this budget); bptt_taps_aug 0.104
/ 0.256 / 0.328 / 0.322 / 0.350 / 0.416; ss_taps_aug 0.174 / 0.238 / 0.260 / 0.248 / 0.268 /
0.266: Skip-Sideways leaves chance on `dynamics` (on the reach-12 graph it did not: 0.107),
15 points below bptt on the same graph.

  python -m experiments.sweep --sweep=experiments/sweeps/screen29.py \\
      --root=workdirs/screen29 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 500,
         'dataset.level': 'dynamics', 'dataset.augment': 'roll,rot90,colors',
         'num_steps': 3000, 'learning_rate': 3e-3, 'ema_decay': 0.0}
_REACH12 = 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'
_TAPS = 'input+3>5:fresh-0/2/4/6/8/10:bilinear'
RUNS = {
    'bptt_reach12_aug': {**_BASE, 'algorithm': 'bptt', 'skips': _REACH12},
    'bptt_taps_aug': {**_BASE, 'algorithm': 'bptt', 'skips': _TAPS},
    'ss_taps_aug': {**_BASE, 'skips': _TAPS},
}
