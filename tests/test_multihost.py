"""Multi-host placement: 2 processes on localhost with 2 fake CPU devices each, joined by
`jax.distributed.initialize`, train to the single-process numbers (never skipped)."""

import os
import socket
import subprocess
import sys
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
import optax

import sideways_jax as sj
import test_placement as cases

_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'multihost_worker.py')


def _free_port():
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


class MultiHostTest(parameterized.TestCase):

  @parameterized.parameters(('sideways', 2, 2), ('bptt', 4, 1))
  def test_two_processes_give_the_single_process_numbers(self, algorithm, stages, data):
    out = os.path.join(tempfile.mkdtemp(), 'result.npz')
    port = _free_port()
    env = dict(os.environ)
    env.pop('XLA_FLAGS', None)
    env['PYTHONPATH'] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(_WORKER)), env.get('PYTHONPATH', '')])
    procs = [subprocess.Popen([sys.executable, _WORKER, str(i), '2', str(port), out,
                               algorithm, str(stages), str(data)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    logs = []
    for proc in procs:
      try:
        logs.append(proc.communicate(timeout=400)[0])
      except subprocess.TimeoutExpired:
        for p in procs:
          p.kill()
        self.fail('a worker hung:\n' + '\n'.join(logs))
    for proc, log in zip(procs, logs):
      self.assertEqual(proc.returncode, 0, log[-3000:])
    result = np.load(out)

    net = cases.conv_net(4, skips='input')
    batch = cases.clip_batch(batch_size=4)
    trainer = sj.build(net, optax.adam(1e-2), sj.Classification(3), algorithm=algorithm)
    state = trainer.init(jax.random.PRNGKey(0), batch)
    losses = []
    for _ in range(3):
      state, metrics = trainer.step(state, batch)
      losses.append(float(metrics['loss']))
    np.testing.assert_allclose(result['losses'], losses, **cases.TOL)
    self.assertEqual(len(set(result['stages'].tolist())), stages)
    for i, leaf in enumerate(jax.tree.leaves(state.params)):
      np.testing.assert_allclose(result[f'p{i}'], np.asarray(leaf), **cases.TOL)


if __name__ == '__main__':
  absltest.main()
