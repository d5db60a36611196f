"""`motion`, bptt with every module learning (`module_lr_scales=`: modules 1-2 too) on the
default's network, no local heads, Adam at 3e-3 per clip on the raw parameters (the
regime of its time: `before_ema`), 3000 steps, 3 seeds. Skip-Sideways has no row: it
cannot train modules 1-2 with their 6-8-tick-old gradient (docs/RESULTS_HISTORY.md).
Outcome at step 3000: 0.979 +- 0.014 (docs/RESULTS.md).

  python -m experiments.sweep --sweep=experiments/sweeps/results_full_graph.py \\
      --root=workdirs/results_full_graph --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_full_graph.py \\
      --root=workdirs/results_full_graph --out=docs/results/full_graph --target=0.9
"""
from . import NO_HEADS
from . import before_ema

SEEDS = (0, 1, 2)
# num_steps pinned: the default trains 4000 steps now; this was measured at 3000.
_BASE = {**NO_HEADS, 'num_steps': 3000, 'eval_every': 250, 'log_every': 250,
         'checkpoint_every': 0}
RUNS = before_ema({'bptt_full_graph': {**_BASE, 'algorithm': 'bptt', 'module_lr_scales': ''}})
