"""Screen 35, `dynamics`: is Skip-Sideways' level a noise floor? Screen 34's graph with the
top's four taps of module 3 (`ss_top_taps`: 0.535 at step 2000, 0.54-0.57 after it, while
bptt on it climbs to 0.676 at 4000): the same run with the rate decayed to zero by a
cosine over its 4000 steps. If the stale gradient only adds noise, a falling rate averages
it away and the level rises; if it is biased (it points elsewhere), it stays. Seed 0, one
core. Outcome: 0.529 at step 4000 (constant rate: 0.539); slower to start (0.420 at 2000
against 0.535), no higher at the end.

  python -m experiments.sweep --sweep=experiments/sweeps/screen35.py \\
      --root=workdirs/screen35
"""
from experiments.sweeps.screen34 import RUNS as _SCREEN34

RUNS = {
    'ss_top_taps_cosine': {**_SCREEN34['ss_top_taps'], 'schedule': 'cosine'},
}
