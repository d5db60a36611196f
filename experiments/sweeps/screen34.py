"""Screen 34, `dynamics`: temporal mixing moved into a learning module. Under Sideways
every tap's gradient message reaches its source one tick later and is applied there at
that tick's input, so a lower module learns from the sum over the taps of what the top
asks of it, not from which frame asked what: a top that compares module 3 at two delays
(W_0 f[t] - W_6 f[t-6]) sends module 3 messages weighted by W_0 and W_6 alike, all applied
to its newest frame. Motion classes need what is common to the frames; dynamics classes
(turns, reversal, speed changes) what differs between them. Here module 4, which learns,
also reads the frozen module 2 at four delays (`2>4:fresh-0/2/4/6`, a learned 1x1
projection each): a comparison across frames inside a module, under its own exact
Jacobian at its current (multi-frame) input. The top reads module 3 at four delays
(screen 32: six), so that it is first valid at tick 9 of the 16 (screen 32: 13).
`ss_top_taps` is the same graph without the `2>4` taps. Screen 32's other settings
(modules 1-4 from the default's `motion` run, 1-2 frozen), seed 0, one core each, 4000
steps (screen 32 at 4000: Skip-Sideways 0.531, bptt 0.580).

A first try read module 1 into module 3 as well (`1>3:fresh-0/2/4:bilinear`, and six top
taps): the top was first valid at tick 18, so no clip had an output (loss 0 for 1000
steps; the launcher now refuses such skips), and with four top taps (first valid at 12)
both algorithms stayed at chance to step 1500: the same-shape bilinear sums raised the
top's activations to rms 105 at the start (17x screen 32's), and neither recovered.

Outcome (clip accuracy at step 4000): bptt_top_taps 0.676 (0.67-0.70 from step 5000 to
6732, where it was stopped), ss_top_taps 0.539 (0.535 at 2000, 0.54-0.57 after); with the
module taps bptt 0.434, Skip-Sideways at chance to step 2000 (0.131; stopped there).

  python -m experiments.sweep --sweep=experiments/sweeps/screen34.py \\
      --root=workdirs/screen34 --parallel=2
"""
from experiments.sweeps.screen32 import _TUNE

_TOP_TAPS = 'input+3>5:fresh-0/2/4/6:bilinear'
_MODULE_TAPS = {**_TUNE, 'num_steps': 4000, 'skips': f'input+2>4:fresh-0/2/4/6+{_TOP_TAPS[6:]}'}
RUNS = {
    'ss_module_taps': dict(_MODULE_TAPS),
    'bptt_module_taps': {**_MODULE_TAPS, 'algorithm': 'bptt'},
    'ss_top_taps': {**_MODULE_TAPS, 'skips': _TOP_TAPS},
    # Taken on towards 12000 steps at a constant rate (its first 4000 are a 4000-step
    # run's), stopped (SIGTERM, which checkpoints) at step 6732 for the cores: 0.69 from
    # step 5000 (experiments.report draws it as an unfinished curve).
    'bptt_top_taps': {**_MODULE_TAPS, 'skips': _TOP_TAPS, 'algorithm': 'bptt',
                      'num_steps': 12000},
}
