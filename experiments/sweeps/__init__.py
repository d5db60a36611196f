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
