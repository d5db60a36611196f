"""One process of the multi-host test (tests/test_multihost.py starts two of these).

  python tests/multihost_worker.py PROCESS_ID NUM_PROCESSES PORT OUT.npz ALGORITHM STAGES DATA

Each process has 2 fake CPU devices; `jax.distributed.initialize` joins them into one
global mesh, gloo carries the collectives (ppermute inside shard_map) between processes,
and process 0 writes the unplaced parameters and the losses after a few steps.
"""

import os
import sys

os.environ['XLA_FLAGS'] = '--xla_force_host_platform_device_count=2'
os.environ['JAX_PLATFORMS'] = 'cpu'

import jax  # pylint: disable=g-import-not-at-top

jax.config.update('jax_cpu_collectives_implementation', 'gloo')


def main():
  process_id, num_processes, port, out, algorithm, stages, data = sys.argv[1:8]
  jax.distributed.initialize(coordinator_address=f'localhost:{port}',
                             num_processes=int(num_processes), process_id=int(process_id),
                             initialization_timeout=120)
  import numpy as np  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  import test_placement as cases  # pylint: disable=g-import-not-at-top
  import sideways_jax as sj  # pylint: disable=g-import-not-at-top

  assert jax.device_count() == 2 * int(num_processes), jax.devices()
  net = cases.conv_net(4, skips='input')
  batch = cases.clip_batch(batch_size=4)
  placement = sj.place(net, sj.make_mesh(int(stages), int(data)), groups='params',
                       frame_shape=batch['frames'][:, 0].shape)
  trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), algorithm=algorithm,
                     placement=placement)
  state = trainer.init(jax.random.PRNGKey(0), batch)
  losses = []
  for _ in range(3):
    state, metrics = trainer.step(state, batch)
    losses.append(float(metrics['loss']))
  params = trainer.unplace(state).params
  if jax.process_index() == 0:
    flat = {f'p{i}': np.asarray(x) for i, x in enumerate(jax.tree.leaves(params))}
    np.savez(out, losses=np.array(losses), stages=np.array(placement.stages), **flat)
  jax.distributed.shutdown()


if __name__ == '__main__':
  main()
