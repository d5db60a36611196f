"""Ready-made VGG-style networks: sizes, heads, skip patterns, bad arguments."""

from absl.testing import absltest
from absl.testing import parameterized
import jax

import sideways_jax as sj


class VggTest(parameterized.TestCase):

  @parameterized.product(size=['tiny', 'small', 'base'], skips=['none', 'input', 'dense'])
  def test_classifier_shapes(self, size, skips):
    net = sj.models.vgg(size, num_classes=7, skips=skips)
    self.assertLen(net.modules, len(sj.models.VGG_SIZES[size]) + 1)
    shapes = net.output_shapes((2, 32, 32, 3))
    self.assertEqual(shapes[-1].shape, (2, 7))
    channels = [c for c, _ in sj.models.VGG_SIZES[size]]
    self.assertEqual([s.shape[-1] for s in shapes[:-1]], channels)

  @parameterized.parameters('tiny', 'small')
  def test_decoder_outputs_a_frame(self, size):
    net = sj.models.vgg(size, task='prediction', frame_shape=(16, 16, 1),
                        skips='input:aligned')
    self.assertEqual(net.output_shapes((2, 16, 16, 1))[-1].shape, (2, 16, 16, 1))
    params = net.init(jax.random.PRNGKey(0), jax.numpy.zeros((2, 16, 16, 1)))
    out = sj.same_frame_forward(net, params, jax.numpy.ones((2, 16, 16, 1)))[-1]
    self.assertTrue(bool(((out > 0) & (out < 1)).all()))  # sigmoid output

  def test_decoder_reads_an_input_skip_at_full_resolution_and_starts_by_copying_it(self):
    net = sj.models.vgg('small', task='prediction', frame_shape=(32, 32, 1),
                        skips='input:aligned')
    x = (jax.random.uniform(jax.random.PRNGKey(1), (2, 32, 32, 1)) > 0.8).astype('float32')
    params = net.init(jax.random.PRNGKey(0), x)
    decoder = params[-1]
    self.assertIn('copy_gain1', str(jax.tree_util.tree_structure(decoder)))
    self.assertEqual(decoder['decoder_skip1_conv']['w'].shape[:2], (3, 3))
    out = sj.same_frame_forward(net, params, x)[-1]
    mse = lambda a: float(jax.numpy.mean((a - x) ** 2))
    self.assertLess(mse(out), mse(jax.numpy.zeros_like(x)) / 4)

  @parameterized.parameters(('none', [0, 0, 1, 1, 1]), ('to_top', [1, 1, 1, 1, 1]))
  def test_detach_stops_the_main_path_only(self, skips, expect_grad):
    net = sj.models.vgg('small', num_classes=4, skips=skips, detach=2)
    self.assertEqual(net.detach_main, (2, 3))
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 32, 32, 3))
    params = net.init(jax.random.PRNGKey(0), x)
    grads = jax.grad(lambda p: sj.same_frame_forward(net, p, x)[-1].sum())(params)
    norms = [float(sum(jax.numpy.abs(l).sum() for l in jax.tree.leaves(g))) for g in grads]
    self.assertEqual([int(n > 0) for n in norms], expect_grad)

  @parameterized.parameters((1, [16, 16, 32, 32]), ('2', [16, 32]), (2, [16, 32]),
                            ('1,1,2', [16, 16, 32]), ((2, 1, 1), [16, 32, 32]))
  def test_convs_per_module_groups_the_convs(self, spec, channels):
    net = sj.models.vgg('small', num_classes=4, convs_per_module=spec)
    self.assertLen(net.modules, len(channels) + 1)  # the conv modules and the classifier
    shapes = net.output_shapes((2, 32, 32, 3))
    self.assertEqual([s.shape[-1] for s in shapes[:-1]], channels)
    self.assertEqual(shapes[-2].shape[1:3], (8, 8))  # the same two poolings in every split
    x = jax.numpy.zeros((2, 32, 32, 3))
    convs = [len([k for k in p if k.endswith('_conv')]) for p in net.init(
        jax.random.PRNGKey(0), x)[:-1]]
    self.assertEqual(sum(convs), 4)

  def test_head_conv_is_a_3x3_conv_in_the_classifier_before_its_pooling(self):
    net = sj.models.vgg('small_pool3', num_classes=8, skips='input', head_conv=12)
    x = jax.numpy.zeros((2, 32, 32, 3))
    classifier = net.init(jax.random.PRNGKey(0), x)[-1]
    self.assertEqual(classifier['head_conv']['w'].shape, (3, 3, 32, 12))
    self.assertEqual(net.output_shapes((2, 32, 32, 3))[-1].shape, (2, 8))
    with self.assertRaisesRegex(ValueError, 'head_conv=12 is a classifier layer'):
      sj.models.vgg('tiny', task='prediction', frame_shape=(16, 16, 1), head_conv=12)

  def test_a_layer_string_spells_a_size(self):
    self.assertEqual(sj.models.vgg_size('16,16p,32p,32p'), sj.models.VGG_SIZES['small_pool3'])
    net = sj.models.vgg('32,32p,32p,32p', num_classes=8, skips='input')
    shapes = net.output_shapes((2, 32, 32, 3))
    self.assertEqual([s.shape[1:] for s in shapes[:-1]],
                     [(32, 32, 32), (16, 16, 32), (8, 8, 32), (4, 4, 32)])
    for bad in ('32,x', '32,,32p', '0p', 'p', '32pp'):
      with self.assertRaisesRegex(ValueError, "comma-separated channel counts, 'p' after"):
        sj.models.vgg(bad)

  def test_bad_arguments(self):
    for spec in (0, '1,x', '', (1, 0), 1.5, True):
      with self.assertRaisesRegex(ValueError, 'convs_per_module must be a positive integer'):
        sj.models.vgg('small', convs_per_module=spec)
    with self.assertRaisesRegex(ValueError, "groups 3 conv layers, but this size has 4"):
      sj.models.vgg('small', convs_per_module='1,2')
    with self.assertRaisesRegex(ValueError, 'VGG size'):
      sj.models.vgg('huge')
    with self.assertRaisesRegex(ValueError, 'frame_shape'):
      sj.models.vgg('tiny', task='prediction')
    with self.assertRaisesRegex(ValueError, 'task'):
      sj.models.vgg('tiny', task='segmentation')
    with self.assertRaisesRegex(ValueError, 'detach must be'):
      sj.models.vgg('tiny', detach=3)
    with self.assertRaisesRegex(ValueError, 'detach_main'):
      sj.Network(sj.models.vgg('tiny').modules, detach_main=(1,))


if __name__ == '__main__':
  absltest.main()
