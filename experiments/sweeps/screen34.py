"""Screen 34, `dynamics`: temporal mixing moved into the learning modules. Under Sideways
every tap's gradient message reaches its source at one tick and is applied there at that
tick's input, so a lower module learns from the sum over the taps of what the top asks of
it, not from which frame asked what: a top that compares module 3 at two delays
(W_0 f[t] - W_10 f[t-10]) sends module 3 (W_0 - W_10)-weighted messages, the same for
every frame. Motion classes need what is common to the frames; dynamics classes (turns,
reversal, speed changes) what differs between them. Here modules 3 and 4, which learn,
read the frozen modules 1 and 2 at three delays each (`1>3`, `2>4` taps, bilinear), so the
comparison across frames happens inside a module, under its own exact Jacobian at its
current (multi-frame) input; the top reads module 3 at four delays (screen 32: six), so
that it is first valid at tick 12 of the 16 (screen 32: 13; with screen 32's six taps it
would be 18: no output at all, which the launcher now refuses). Screen 32's
other settings (modules 1-4 from the default's `motion` run, 1-2 frozen), Skip-Sideways and
bptt, seed 0, one core each, 4000 steps (screen 32 at 4000: 0.531 / 0.580).

  python -m experiments.sweep --sweep=experiments/sweeps/screen34.py \\
      --root=workdirs/screen34 --parallel=2
"""
from experiments.sweeps.screen32 import _TUNE

_LOW_TAPS = {**_TUNE, 'num_steps': 4000,
             'skips': ('input+1>3:fresh-0/2/4:bilinear+2>4:fresh-0/2/4:bilinear'
                       '+3>5:fresh-0/2/4/6:bilinear')}
RUNS = {
    'ss_low_taps': dict(_LOW_TAPS),
    'bptt_low_taps': {**_LOW_TAPS, 'algorithm': 'bptt'},
}
