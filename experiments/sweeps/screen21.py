"""Screen 21, `dynamics` (>= 3 frames per class): is the top's temporal reach the limit?
With the default network no algorithm leaves chance in 3000 steps (Skip-Sideways 0.113,
bptt 0.100), and the top mixes at most 5 consecutive frames per tick (x[t] and its main
input's frame t - 4) while an acceleration or a turn is spread over the clip. Skips that
carry older frames (`KIND-N`) reach further back: modules 1-3 into the top, 8 ticks older
than fresh (their outputs of frames t - 9, t - 10, t - 11), so the top spans 12 frames.
The default otherwise, 3000 steps, seed 0.

  python -m experiments.sweep --sweep=experiments/sweeps/screen21.py \\
      --root=workdirs/screen21 --parallel=2
"""
_BASE = {'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0,
         'dataset.level': 'dynamics',
         'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'}
RUNS = {
    'bptt_reach12': {**_BASE, 'algorithm': 'bptt'},
    'ss_reach12': dict(_BASE),
}
