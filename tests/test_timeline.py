"""The timeline is read off the graph: it must agree with the engine's own metadata and with
the worked K = 3 table; GPipe's bubble is (D-1)/(T+D-1); the picture gets drawn."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import haiku as hk
import jax
import numpy as np
import optax

import sideways_jax as sj
from sideways_jax import timeline


def conv_net(num_modules, skips):
  convs = tuple(lambda x: jax.nn.relu(sj.Conv2D(3, 3)(x)) for _ in range(num_modules - 1))
  return sj.Network(convs + (lambda x: hk.Linear(3)(x.mean(axis=(1, 2))),)).with_skips(skips)


class TimelineTest(parameterized.TestCase):

  @parameterized.product(num_modules=[3, 5], skips=['none', 'input', 'two_below:aligned',
                                                    'dense'])
  def test_schedule_matches_the_engine(self, num_modules, skips):
    net = conv_net(num_modules, skips)
    t = 7
    rng = np.random.RandomState(0)
    batch = {'frames': rng.rand(1, t, 5, 5, 3).astype(np.float32),
             'labels': np.zeros((1, t), np.int32), 'video_ids': np.zeros((1, t), np.int32)}
    trainer = sj.build(net, optax.sgd(0.), sj.Classification(3), diagnostics=True)
    _, metrics = trainer.step(trainer.init(jax.random.PRNGKey(0), batch), batch)
    sched = timeline.sideways_schedule(net, t)
    for k, tick in enumerate(metrics['trace']['ticks']):
      act = tick.activation
      valid = np.asarray(act.valid)
      np.testing.assert_array_equal(sched['newest'][k] != timeline.NONE, valid)
      np.testing.assert_array_equal(sched['newest'][k][valid], np.asarray(act.newest)[valid])
      np.testing.assert_array_equal(sched['oldest'][k][valid], np.asarray(act.oldest)[valid])
      np.testing.assert_array_equal(sched['grad_frame'][k] != timeline.NONE,
                                    np.asarray(tick.grads_valid), err_msg=f'module {k + 1}')

  def test_worked_table_k3(self):
    sched = timeline.sideways_schedule(conv_net(3, 'none'), 8)
    t = 6
    self.assertEqual(list(sched['newest'][:, t]), [t, t - 1, t - 2])
    # delta_2 from the loss at tick t-1 on frame t-3; delta_1 from tick t-2, frame t-4.
    self.assertEqual(list(sched['grad_frame'][:, t]), [t - 4, t - 3, t - 2])
    self.assertEqual(list(sched['age'][:, t]), [4, 2, 0])  # 2(K-k)

  @parameterized.parameters((2, 16), (4, 16), (8, 16), (3, 5))
  def test_gpipe_bubble(self, devices, frames):
    grid = timeline.gpipe_schedule(devices, frames)
    for s in range(devices):
      self.assertEqual(sorted(grid[s][grid[s] > 0]), list(range(1, frames + 1)))
      self.assertEqual(sorted(-grid[s][grid[s] < 0]), list(range(1, frames + 1)))
    self.assertAlmostEqual(1 - timeline.busy_fraction(devices, frames, 'gpipe'),
                           (devices - 1) / (frames + devices - 1))
    # A frame's backward on a stage comes after the stage above has done it.
    for s in range(devices - 1):
      for f in range(1, frames + 1):
        below = int(np.argwhere(grid[s] == -f)[0, 0])
        above = int(np.argwhere(grid[s + 1] == -f)[0, 0])
        self.assertEqual(below, above + 1)

  def test_draws_a_png(self):
    path = os.path.join(tempfile.mkdtemp(), 'timeline.png')
    timeline.plot_timeline(sj.models.vgg('small', num_classes=8, skips='input'), 8,
                           stages=(0, 0, 1, 1, 1), path=path)
    with open(path, 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')


if __name__ == '__main__':
  absltest.main()
