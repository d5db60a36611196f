"""The Sideways-vs-bptt gap against motion speed (temporal_actions motion, speed s: the
actor moves s times as far per frame). The static-clip theorem says the gap closes as
s -> 0. VGG-small + input skips (the original default), 800 steps, one seed."""
_BASE = {'num_steps': 800, 'eval_every': 200, 'log_every': 100, 'checkpoint_every': 0}
RUNS = {}
for _speed in (0.25, 0.5, 1.0, 2.0):
  RUNS[f'sw_speed{_speed}'] = {**_BASE, 'dataset.speed': _speed}
  RUNS[f'bptt_speed{_speed}'] = {**_BASE, 'dataset.speed': _speed, 'algorithm': 'bptt',
                                 'learning_rate': 3e-3}
