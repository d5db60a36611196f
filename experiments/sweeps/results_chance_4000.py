"""`motion`, the chance rows at the default's budget (4000 steps): per-frame backprop and
Sideways without skips on the default's graph (Adam at 5e-3 per clip, a parameter average),
which must stay within 3 sigma of chance (0.125 +- 0.044 at 512 clips). Sideways without
skips keeps the default's local heads; per-frame backprop takes none. 3 seeds.
Outcome at 4000 steps: per-frame backprop 0.122 +- 0.003, Sideways without skips 0.116 +-
0.014: chance, as they must (docs/RESULTS.md M3).

  python -m experiments.sweep --sweep=experiments/sweeps/results_chance_4000.py \\
      --root=workdirs/results_chance_4000 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_chance_4000.py \\
      --root=workdirs/results_chance_4000 --out=docs/results/chance_4000
"""

from . import same_graph_runs

SEEDS = (0, 1, 2)
_BASE = {'num_steps': 4000, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0}
RUNS = same_graph_runs(_BASE, rows=('backprop', 'sideways_no_skips'))
