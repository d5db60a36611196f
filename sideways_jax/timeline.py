"""The module x tick timeline: which frame each activation holds, how old each gradient is,
which device runs it; GPipe's fill / drain bubble beside Sideways' full pipeline.

Everything is read off the graph's delays (no training needed), and matches what the engine
computes (tests/test_timeline.py checks it against the engine's own metadata):

    sched = sideways_schedule(network, num_frames=8)
    sched['newest'][k - 1, t]     # newest frame a_k holds at tick t (-1: not valid yet)
    sched['grad_frame'][k - 1, t]  # main-path frame of the loss whose gradient module k
                                   # applies at tick t (-1: none)
    plot_timeline(network, num_frames=8, stages=(0, 0, 1, 1, 1), path='timeline.png')
"""

from typing import Dict, Optional, Sequence

import numpy as np

from sideways_jax.network import Network

NONE = -1


def sideways_schedule(network: Network, num_frames: int, drain: bool = True
                      ) -> Dict[str, np.ndarray]:
  """Per module and tick of one clip (reset, drain): the frames each activation mixes,
  when its gradient is valid, and which loss the gradient comes from.

  Returns:
    dict of int arrays [K, ticks]: `oldest` / `newest` frame mixed by a_k[t] (NONE while
    invalid), `grad_frame` (the main-path frame of the output whose loss reached module k
    at tick t along the main path; NONE while delta_k[t] is not valid) and `age` (newest
    frame of a_k[t] minus `grad_frame`: how many frames the gradient lags the activation it
    is applied to; 2(K-k) without skips).
  """
  graph = network.graph()
  num_modules = network.num_modules
  ticks = num_frames + (num_modules - 1 if drain else 0)
  # The longest path to a module sets both its first valid tick and how far back the
  # oldest frame it mixes lies: one number, a_k[t] mixes frames t - first[k] ... .
  first = {k: graph.valid_from(k) for k in range(num_modules + 1)}
  lag_new = {k: graph.newest_lag(k) for k in range(num_modules + 1)}
  # delta_K valid with a_K; delta_j valid one tick after every consumer's message is.
  delta_first = {num_modules: first[num_modules]}
  for j in range(num_modules - 1, 0, -1):
    delta_first[j] = max(max(delta_first[c], first[c]) + 1 for c, _ in graph.consumers(j))
  out = {key: np.full((num_modules, ticks), NONE) for key in
         ('oldest', 'newest', 'grad_frame', 'age')}
  for k in range(1, num_modules + 1):
    for t in range(ticks):
      held = min(t, num_frames - 1)  # drain ticks hold the last frame
      frame = lambda lag: min(t - lag, num_frames - 1) if t - lag >= 0 else NONE
      if t >= first[k]:
        out['oldest'][k - 1, t] = frame(first[k])
        out['newest'][k - 1, t] = frame(lag_new[k])
      loss_tick = t - (num_modules - k)  # the main path: one hop down per tick
      if t >= delta_first[k] and loss_tick < num_frames:
        out['grad_frame'][k - 1, t] = loss_tick - lag_new[num_modules]
        if out['newest'][k - 1, t] != NONE:
          out['age'][k - 1, t] = out['newest'][k - 1, t] - out['grad_frame'][k - 1, t]
      del held
  return out


def gpipe_schedule(num_stages: int, num_frames: int) -> np.ndarray:
  """GPipe on `num_stages` stages: per stage and tick, +f+1 for the forward of frame f,
  -(f+1) for its backward, 0 for idle (the bubble). Forward fill/drain, then backward."""
  span = num_frames + num_stages - 1
  grid = np.zeros((num_stages, 2 * span), int)
  for s in range(num_stages):
    for f in range(num_frames):
      grid[s, s + f] = f + 1
      grid[s, span + (num_stages - 1 - s) + (num_frames - 1 - f)] = -(f + 1)
  return grid


def busy_fraction(num_stages: int, num_frames: int, algorithm: str) -> float:
  """Fraction of device-ticks doing work over one clip: GPipe's bubble is
  (D-1)/(T+D-1); Sideways after its pipeline has filled works on every tick."""
  if algorithm == 'gpipe':
    grid = gpipe_schedule(num_stages, num_frames)
    return float((grid != 0).mean())
  return 1.0


def plot_timeline(network: Network, num_frames: int = 8,
                  stages: Optional[Sequence[int]] = None, path: Optional[str] = None):
  """Draws Sideways' module x tick timeline above GPipe's stage x tick schedule.

  Each Sideways cell says which frame the activation holds (`a5`) and which frame the
  gradient applied there came from (`g1`, so this gradient is 4 frames old); colour is the
  device (stage). Returns the matplotlib figure; saves a PNG at `path` if given.
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  num_modules = network.num_modules
  stages = tuple(stages) if stages is not None else tuple(range(num_modules))
  num_stages = max(stages) + 1
  sched = sideways_schedule(network, num_frames)
  grid = gpipe_schedule(num_stages, num_frames)
  ticks = max(sched['newest'].shape[1], grid.shape[1])
  colours = plt.cm.Pastel1(np.arange(num_stages) % 9)
  fig, (top, bottom) = plt.subplots(
      2, 1, figsize=(max(8, 0.55 * ticks), 1.0 + 0.55 * (num_modules + num_stages)),
      gridspec_kw={'height_ratios': [num_modules, num_stages]})
  for ax in (top, bottom):
    ax.set_xlim(-0.5, ticks - 0.5)
    ax.set_xticks(range(ticks))
    ax.set_xlabel('tick')
  for k in range(num_modules):
    for t in range(sched['newest'].shape[1]):
      a, g = sched['newest'][k, t], sched['grad_frame'][k, t]
      if a == NONE:
        continue
      top.add_patch(plt.Rectangle((t - 0.5, k - 0.5), 1, 1, color=colours[stages[k]]))
      label = f'a{a}' + (f'\ng{g}' if g != NONE else '')
      top.text(t, k, label, ha='center', va='center', fontsize=6)
  top.set_ylim(num_modules - 0.5, -0.5)
  top.set_yticks(range(num_modules), [f'{n} (dev {s})' for n, s in zip(network.names,
                                                                          stages)])
  top.set_title('Sideways: a = frame the activation holds, g = frame its gradient came '
                'from (age = a - g); every device busy every tick once filled', fontsize=8)
  for s in range(num_stages):
    for t in range(grid.shape[1]):
      v = grid[s, t]
      if v == 0:
        continue
      bottom.add_patch(plt.Rectangle((t - 0.5, s - 0.5), 1, 1, color=colours[s]))
      bottom.text(t, s, f'F{v - 1}' if v > 0 else f'B{-v - 1}', ha='center', va='center',
                  fontsize=6)
  bottom.set_ylim(num_stages - 0.5, -0.5)
  bottom.set_yticks(range(num_stages), [f'stage {s}' for s in range(num_stages)])
  bubble = 1 - busy_fraction(num_stages, num_frames, 'gpipe')
  bottom.set_title(f'GPipe on the same {num_stages} devices: F = forward, B = backward of '
                   f'a frame; blank = bubble ({bubble:.0%} of device-ticks)', fontsize=8)
  fig.tight_layout()
  if path:
    fig.savefig(path, dpi=110)
  return fig
