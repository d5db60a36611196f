"""Screen 26, `dynamics`: the top's temporal reach spread over the clip, and the default's
rate and average for bptt. bptt, seed 0, 3000 steps, no heads, one core each:

  reach16       modules 1, 2 and 3 feed the top their outputs 12, 8 and 4 ticks older than
                fresh: the top reads frames about 4 ticks apart back to t - 15 (16 frames),
                where screen 21's reach-12 graph reads modules 1-3 all 8 ticks older.
  reach12_ema   screen 21's reach-12 graph at the default's 5e-3 and parameter average
                (it was measured at 3e-3 without one: 0.389 at step 3000, seed 0).

  python -m experiments.sweep --sweep=experiments/sweeps/screen26.py \\
      --root=workdirs/screen26 --parallel=2
"""
from experiments.sweeps import NO_HEADS

_BASE = {**NO_HEADS, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 500,
         'dataset.level': 'dynamics', 'algorithm': 'bptt', 'num_steps': 3000}
RUNS = {
    'reach16': {**_BASE, 'skips': 'input+1>5:fresh-12+2>5:fresh-8+3>5:fresh-4',
                'learning_rate': 3e-3, 'ema_decay': 0.0},
    'reach12_ema': {**_BASE, 'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8'},
}
