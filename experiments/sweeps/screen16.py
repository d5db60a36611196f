"""Screen 16: is Skip-Sideways capped by its random frozen front end? The default and bptt
on the same graph, with the frozen modules 1-2 holding what bptt on the full graph learned
(`init_from`: results_full_graph.py's seed 1, 0.986) instead of their random init, seeds 0-2,
3000 steps. Outcome (clip accuracy at step 3000): Skip-Sideways 0.923 +- 0.024 over seeds 0-2 (0.904 /
0.949 / 0.914; at step 500 0.809 / 0.832 / 0.818, where the default with its random front
end has 0.320); bptt 0.984 +- 0.005 (0.979 / 0.986 / 0.988; first at 0.90 at step 1000 in
every seed, Skip-Sideways at 3000 / 1000 / 1500). The learned front end makes
Skip-Sideways start as fast as bptt and lifts it 5.6 points over the default's 0.866, but
it stays below bptt: the cap is also in how it trains modules 3-5. Every seed uses the same
source run's front end; the seed changes modules 3-5's init and the data order.

  FULL_GRAPH_RUN=workdirs/results_full_graph/bptt_full_graph/seed_1 python -m \\
      experiments.sweep --sweep=experiments/sweeps/screen16.py --root=workdirs/screen16 \\
      --parallel=2
"""
from experiments.sweeps import NO_HEADS
import os

_SOURCE = os.environ.get('FULL_GRAPH_RUN', 'workdirs/results_full_graph/bptt_full_graph/seed_1')
SEEDS = (0, 1, 2)
_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0, 'init_from': _SOURCE}
RUNS = {
    'skip_sideways': dict(_BASE),
    'bptt': {**_BASE, 'algorithm': 'bptt'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
