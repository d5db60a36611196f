"""Old name of `sideways_jax.data.batching`, kept so existing imports keep working."""

from sideways_jax.data.batching import Batches, batches, epoch_order  # pylint: disable=unused-import

__all__ = ['Batches', 'batches', 'epoch_order']
