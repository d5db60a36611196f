"""Screen 25, `motion`: the default (Skip-Sideways, 5e-3, parameter average) and bptt on the
same graph, 3 seeds, run to 4000 steps with evaluations every 500, so one sweep gives the
3000-step figures (the default's budget; a constant rate, so the first 3000 steps are a
3000-step run's) and what 1000 more steps buy. Run on a different machine (AMD EPYC, 2
cores) from screen 24, with the frozen modules' outputs kept per clip (the same numbers,
fewer forwards). Outcome (clip accuracy at 3000 / 4000 steps): the default 0.950 +- 0.013 /
0.965 +- 0.017 (0.947 / 0.969 / 0.980 at 4000), bptt 0.917 +- 0.020 / 0.948 +- 0.019; the
default since (num_steps=4000). Table and curves in docs/RESULTS.md.

  python -m experiments.sweep --sweep=experiments/sweeps/screen25.py \\
      --root=workdirs/screen25 --parallel=2
"""
SEEDS = (0, 1, 2)
_BASE = {'num_steps': 4000, 'eval_every': 500, 'log_every': 500, 'checkpoint_every': 0}
RUNS = {
    'default': dict(_BASE),
    'bptt': {**_BASE, 'config': 'experiments/configs/default.py:bptt'},
}
