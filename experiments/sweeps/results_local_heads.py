"""docs/RESULTS.md, `motion` with local heads: the default (Skip-Sideways, VGG-small_pool3
with input skips and a 3x3 head conv, modules 1-2 frozen, one Adam step per clip at 3e-3,
3000 steps) with a local head on modules 3 and 4 (`model.local_heads=3,4`, each a 3x3 conv
and a linear classifier of the module's own output, whose fresh gradient joins the module's
Sideways gradient; docs/ALGORITHM.md "Local heads"), weight 3 (`model.local_weight=3`). bptt, per-frame backprop
and plain Sideways on the same body graph are in results_motion.py (bptt refuses heads).
Screen 22 in "What we tried" picked the weight.

  python -m experiments.sweep --sweep=experiments/sweeps/results_local_heads.py \\
      --root=workdirs/results_local_heads --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_local_heads.py \\
      --root=workdirs/results_local_heads --out=docs/results/local_heads --target=0.9 \\
      --beside=docs/results/motion.json:skip_sideways,bptt

Outcome (clip accuracy at 3000 steps): 0.939 / 0.910 / 0.879, 0.910 +- 0.030, against
the default without heads 0.887 / 0.885 / 0.826 (0.866 +- 0.034) and bptt on the same body
0.879 +- 0.012. Every seed first reaches 0.90 by step 2750 (2750 / 2500 / 2250; 561 / 437 /
385 training seconds, two runs side by side, one core each). Now the default
(`model.local_heads='auto'`, `model.local_weight=3`).
At learning rate 5e-3 (second row): 0.941 / 0.939 / 0.895, 0.925 +- 0.027, first at 0.90
at step 2250 in every seed; inside the spread, so not the default (seeds 0-2 are screen 22's
probe runs, the same configs, copied into the root).
"""

SEEDS = (0, 1, 2)
_BASE = {'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0}
RUNS = {'skip_sideways_heads34': {**_BASE, 'model.local_heads': '3,4', 'model.local_weight': 3.},
        # a candidate, not the default: the same at learning rate 5e-3 (screen 22)
        'skip_sideways_heads34_lr5e-3': {**_BASE, 'model.local_heads': '3,4',
                                         'model.local_weight': 3., 'learning_rate': 5e-3}}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
