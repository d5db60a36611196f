"""docs/RESULTS.md, the chance rows with the default since screen 24 (Adam at 5e-3 per clip,
evaluated on a moving average of the parameters, `ema_decay=0.99`): per-frame backprop and
Sideways without skips on the default's graph and budget (3000 steps), which must stay
within 3 sigma of chance (0.125 +- 0.044 at 512 clips) on `motion`: per-frame backprop sees
one frame per gradient, and without skips every module's input comes from one frame, so
neither can tell one motion from another. Sideways without skips keeps the default's
local heads on modules 3-4 (`model.local_heads='auto'`); per-frame backprop takes none. The
rows before (results_motion.py via results_local_heads.py) were measured at 3e-3 without an
average: 0.108 +- 0.008 and 0.119 +- 0.019.
Outcome (clip accuracy at 3000 steps): per-frame backprop 0.115 / 0.129 / 0.092, 0.112 +-
0.019; Sideways without skips 0.121 / 0.137 / 0.100, 0.119 +- 0.019: chance, as they must.

  python -m experiments.sweep --sweep=experiments/sweeps/results_chance_default.py \\
      --root=workdirs/results_chance_default --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_chance_default.py \\
      --root=workdirs/results_chance_default --out=docs/results/chance_default
"""

from experiments.sweeps import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {'eval_every': 500, 'log_every': 250, 'checkpoint_every': 0}
RUNS = same_graph_runs(_BASE, rows=('backprop', 'sideways_no_skips'))
