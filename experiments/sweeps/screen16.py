"""Screen 16: is Skip-Sideways capped by its random frozen front end? The default and bptt
on the same graph, with the frozen modules 1-2 holding what bptt on the full graph learned
(`init_from`: results_full_graph.py's seed 1, 0.986) instead of their random init, seed 0,
3000 steps. Outcome (clip accuracy at steps 500 / 1000 / 3000): Skip-Sideways 0.809 /
0.852 / 0.904 (the default, random front end: 0.320 / 0.711 / 0.887); bptt 0.812 / 0.928 /
0.979. The learned front end makes Skip-Sideways start as fast as bptt, but it levels off
near 0.90 again: the cap is also in how it trains modules 3-5.

  FULL_GRAPH_RUN=workdirs/results_full_graph/bptt_full_graph/seed_1 python -m \\
      experiments.sweep --sweep=experiments/sweeps/screen16.py --root=workdirs/screen16 \\
      --parallel=2
"""
import os

_SOURCE = os.environ.get('FULL_GRAPH_RUN', 'workdirs/results_full_graph/bptt_full_graph/seed_1')
_BASE = {'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0, 'init_from': _SOURCE}
RUNS = {
    'skip_sideways': dict(_BASE),
    'bptt': {**_BASE, 'algorithm': 'bptt'},
}
