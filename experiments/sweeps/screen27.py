"""Screen 27, `dynamics`: a bilinear combine on the top's skips (proj(s) + main * proj'(s),
the product of two frames' features, as a motion-energy unit takes it). Screen 26's
reach16 graph (bptt there: 0.324 at step 3000, seed 0) and screen 21's reach-12 graph
(0.389), each with its three module skips into the top bilinear; bptt, 3e-3, no average,
no heads, seed 0, 3000 steps, one core each. Why: on reach16 the circling classes are
found (60 of 63 test clips called a circle) but their sense is not (circle_ccw 0.48,
circle_cw 0.58, confused with each other), like the rotation sense left on `motion`; the
sense is a sign of a product (a cross product of two velocities).

  python -m experiments.sweep --sweep=experiments/sweeps/screen27.py \\
      --root=workdirs/screen27 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 500,
         'dataset.level': 'dynamics', 'algorithm': 'bptt', 'num_steps': 3000,
         'learning_rate': 3e-3, 'ema_decay': 0.0}
RUNS = {
    'reach16_bilinear': {**_BASE, 'skips': 'input+1>5:fresh-12:bilinear'
                                           '+2>5:fresh-8:bilinear+3>5:fresh-4:bilinear'},
    'reach12_bilinear': {**_BASE, 'skips': 'input+1>5:fresh-8:bilinear'
                                           '+2>5:fresh-8:bilinear+3>5:fresh-8:bilinear'},
}
