"""`motion`: the default (Skip-Sideways, 5e-3, parameter average, local heads) and bptt on
the same graph (`default.py:bptt`), 3 seeds, 4000 steps, evaluations every 500 (a constant
rate, so the 3000-step figures come from the same runs). Two runs side by side, one core
each. Outcome at 4000 / 3000 steps: the default 0.965 +- 0.017 / 0.950 +- 0.013, bptt
0.948 +- 0.019 / 0.917 +- 0.020 (docs/RESULTS.md M1, M2).

  python -m experiments.sweep --sweep=experiments/sweeps/screen25.py \\
      --root=workdirs/screen25 --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/screen25.py \\
      --root=workdirs/screen25 --out=docs/results/default_4000 --target=0.9
"""
SEEDS = (0, 1, 2)
_BASE = {'num_steps': 4000, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0}
RUNS = {
    'default': dict(_BASE),
    'bptt': {**_BASE, 'config': 'experiments/configs/default.py:bptt'},
}
