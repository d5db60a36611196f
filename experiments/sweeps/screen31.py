"""Screen 31, `dynamics` on the motion features of screen 30 (modules 1-4 from the
default's `motion` run, held; the top alone learns): a larger top. Screen 30's top
(head conv 64, six bilinear taps of module 3) levels off at ~0.50 (0.525 / 0.488 at step
4000 for Skip-Sideways / bptt, seed 0), with circles at 0.98, turns and the reversal at
0.40-0.45 and constant velocity at 0.07. Here a hidden layer after the top's pooling
(`model.hidden`), and module 3 read at every delay 1-12 rather than every other one.
Skip-Sideways (its top's gradient is exact here), seed 0, one core each. Outcome (clip
accuracy at steps 1000 / 2000 / 3000 / 4000): hidden 256 0.428 / 0.432 / 0.479 / 0.506;
12 taps + hidden 128 0.396 / 0.408 / 0.418 / 0.432. Neither beats screen 30's top: the
held features, not the top's size, are the limit.

  python -m experiments.sweep --sweep=experiments/sweeps/screen31.py \\
      --root=workdirs/screen31 --parallel=2
"""
from experiments.sweeps.screen30 import _BASE

RUNS = {
    'ss_hidden256': {**_BASE, 'model.hidden': 256},
    'ss_taps12_hidden128': {**_BASE, 'model.hidden': 128,
                            'skips': 'input+3>5:fresh-' + '/'.join(map(str, range(12)))
                                     + ':bilinear'},
}
