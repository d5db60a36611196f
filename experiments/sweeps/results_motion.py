"""docs/RESULTS.md, `motion` rows: the default config (Skip-Sideways, VGG-small_pool3 with
input skips and a 3x3 head conv, modules 1-2 frozen, one Adam step per clip at 3e-3, 3000
steps) beside bptt and per-frame backprop on the same graph and budget, and plain Sideways
(no skips). bptt on the full graph (nothing frozen), one seed, is in results_more_v3.py;
the previous default (no head conv) is results_motion_pool3.py.

  python -m experiments.sweep --sweep=experiments/sweeps/results_motion.py \\
      --root=workdirs/results_motion --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_motion.py \\
      --root=workdirs/results_motion --out=docs/results/motion --target=0.8
  python -m experiments.evaluate --workdir=workdirs/results_motion/bptt/seed_0 --per_class
"""
from experiments.sweeps import NO_HEADS
from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0}
RUNS = same_graph_runs(_BASE)

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
