"""Conv2D's custom VJP (weight gradient as a forward conv) equals jax.vjp of lax.conv."""

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
from jax import lax

from sideways_jax import layers


class ConvTest(parameterized.TestCase):

  @parameterized.product(
      kernel=[1, 2, 3, 5], padding=['SAME', 'VALID', ((2, 0), (1, 1))], stride=[1, 2],
      shape=[(2, 7, 6, 3)])
  def test_matches_lax_vjp(self, kernel, padding, stride, shape):
    kx, kw, kg = jax.random.split(jax.random.PRNGKey(kernel), 3)
    x = jax.random.normal(kx, shape)
    w = jax.random.normal(kw, (kernel, kernel + (kernel > 1), shape[-1], 5))
    pads = layers._explicit_padding(padding, w.shape[:2])
    ref = lambda x, w: lax.conv_general_dilated(
        x, w, (stride, stride), pads, dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    ours = lambda x, w: layers.conv2d(x, w, stride, padding)
    y_ref, vjp_ref = jax.vjp(ref, x, w)
    y, vjp = jax.vjp(ours, x, w)
    chex.assert_trees_all_close(y, y_ref, atol=1e-5)
    g = jax.random.normal(kg, y.shape)
    chex.assert_trees_all_close(vjp(g), vjp_ref(g), atol=1e-4, rtol=1e-5)

  def test_inside_scan_matches(self):
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 2, 8, 8, 3))
    w = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 3, 4))
    def grads(conv):
      def body(carry, xt):
        y, vjp = jax.vjp(lambda w: conv(xt, w), w)
        return carry + vjp(jnp.ones_like(y))[0], None
      return lax.scan(body, jnp.zeros_like(w), x)[0]
    ref = lambda x, w: lax.conv_general_dilated(x, w, (1, 1), 'SAME',
                                                dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    chex.assert_trees_all_close(jax.jit(lambda: grads(layers.conv2d))(),
                                jax.jit(lambda: grads(ref))(), atol=1e-4)

  def test_bad_padding(self):
    with self.assertRaisesRegex(ValueError, 'Unknown padding'):
      layers.conv2d(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1, 1)), 1, 'FULL')


if __name__ == '__main__':
  absltest.main()
