"""The training algorithms, each one file written once against the stage interface
(stage.py), so it runs on one device and, where it has a pipeline, on a mesh.

An algorithm module gives `step(ex, opts, carry, batch) -> (carry, metrics)` and
`MESSAGES` (what its state carries between steps: True for buffers with gradient messages,
False for activations only, None for nothing); optionally `graph(network, task, stages)`
(its clock's edges and target history; default the frame clock's), `extra_ticks(opts,
clock)` (ticks after a clip's last frame, e.g. a drain) and `PLACEABLE = False`.
"""

from sideways_jax.algorithms import backprop, bptt, gpipe, infer, sideways

BY_NAME = {'sideways': sideways, 'bptt': bptt, 'backprop': backprop, 'gpipe': gpipe,
           'infer': infer}
