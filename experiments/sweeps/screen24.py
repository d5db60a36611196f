"""Screen 24, `motion`: the default at learning rate 5e-3 with a moving average of the
parameters for evaluation (`ema_decay=0.99`), 3000 steps, eval every 250. Screen 23 found
the average ahead early and level at the end at 3e-3; a larger rate moves faster and
noisier, which is where an average should pay. `eval_raw=True` scores the parameters
themselves in the same run (the 5e-3 default, raw), and bptt on the same body at the same
rate and average is the comparison the 5e-3 row of results_local_heads.py lacked.
Outcome: in docs/RESULTS.md ("What we tried").

  python -m experiments.sweep --sweep=experiments/sweeps/screen24.py \\
      --root=workdirs/screen24 --parallel=2
"""
SEEDS = (0, 1, 2)
_BASE = {'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'eval_raw': True,
         'ema_decay': 0.99, 'learning_rate': 5e-3}
RUNS = {
    'lr5e-3_ema0.99': dict(_BASE),
    'bptt_lr5e-3_ema0.99': {**_BASE, 'algorithm': 'bptt'},
}
