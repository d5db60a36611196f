"""Ready-made video networks, chosen by name so configs can name them."""

from sideways_jax.models.vgg import VGG_SIZES, vgg

__all__ = ['VGG_SIZES', 'vgg']
