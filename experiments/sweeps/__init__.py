"""Sweep files (`python -m experiments.sweep --sweep=experiments/sweeps/NAME.py`), and what
several of them share."""


# The default's `model.local_heads='auto'` gives Skip-Sideways local heads on modules 3-4;
# the sweeps measured before that pin none, so that they re-run what they measured.
NO_HEADS = {'model.local_heads': ''}


def same_graph_runs(base, rows=('skip_sideways', 'bptt', 'backprop', 'sideways_no_skips')):
  """The rows of a same-graph comparison, each `base` plus its algorithm's keys:
  Skip-Sideways (the config's own algorithm and skips), bptt and per-frame backprop on the
  same graph, and plain Sideways (no skips); `rows` picks some of them."""
  runs = {
      'skip_sideways': dict(base),
      'bptt': {**base, 'algorithm': 'bptt'},
      'backprop': {**base, 'algorithm': 'backprop'},
      'sideways_no_skips': {**base, 'skips': 'none'},
  }
  return {name: runs[name] for name in rows}


# After screen 24 the default trains at learning rate 5e-3 and evaluates a moving average
# of the parameters (`ema_decay=0.99`); the sweeps measured before pin the earlier rate
# and no average, so that they re-run what they measured.
BEFORE_EMA = {'learning_rate': 3e-3, 'ema_decay': 0.0}


def before_ema(runs):
  """`runs` with each of BEFORE_EMA's keys an entry does not set itself; entries on a
  variant other than `bptt` or `motion_files` (the variants that take the default's rate
  and average) are left as they are."""
  def pinned(overrides):
    variant = overrides.get('config', '').partition(':')[2]
    if variant not in ('', 'bptt', 'motion_files'):
      return dict(overrides)
    return {**BEFORE_EMA, **overrides}
  return {name: pinned(overrides) for name, overrides in runs.items()}
