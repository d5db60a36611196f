"""Screen 23, `motion`: a moving average of the parameters for evaluation (`ema_decay`,
Polyak averaging), the default otherwise (3000 steps, seed 0, eval every 250). Training is
unchanged by it (the same trajectory), so `eval_raw=True` scores the parameters
themselves beside the average in the same run (raw_* metrics): the difference is the
average's gain alone. Outcome: in docs/RESULTS.md ("What we tried").

  python -m experiments.sweep --sweep=experiments/sweeps/screen23.py \\
      --root=workdirs/screen23 --parallel=2
"""
_BASE = {'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'eval_raw': True}
RUNS = {
    'ema0.99': {**_BASE, 'ema_decay': 0.99},
    'ema0.997': {**_BASE, 'ema_decay': 0.997},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
