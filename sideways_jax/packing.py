"""Packing a device's pytree into flat vectors, one per dtype, padded to a common length.

Under placement every device runs `lax.switch` on its stage index, and every branch must
take and return arrays of the same shapes. Each stage's state (its modules' parameters,
optimizer state, buffers) is a different pytree, so it travels as flat vectors: one per
floating dtype, and one int32 vector for integer and boolean leaves (optimizer counts,
validity flags, frame indices stay integers; they are never cast to floats). A `Layout`
remembers where each leaf lives so the branch that owns the tree can unpack it with static
slices.
"""

from typing import Dict, Mapping

import jax
import jax.numpy as jnp
import numpy as np

INT = 'int32'


def dtype_key(dtype) -> str:
  """The vector a leaf of `dtype` packs into: its own float dtype, or 'int32'."""
  dtype = jnp.dtype(dtype)
  return dtype.name if jnp.issubdtype(dtype, jnp.floating) else INT


class Layout:
  """Where the leaves of one pytree live in its packed vectors.

  Args:
    tree: the pytree, or its `jax.eval_shape` (only shapes and dtypes are read).
  """

  def __init__(self, tree):
    leaves, self.treedef = jax.tree.flatten(tree)
    self.entries = []  # (key, offset, size, shape, dtype)
    self.sizes: Dict[str, int] = {}
    for leaf in leaves:
      key, size = dtype_key(leaf.dtype), int(np.prod(leaf.shape))
      self.entries.append((key, self.sizes.get(key, 0), size, tuple(leaf.shape),
                           jnp.dtype(leaf.dtype)))
      self.sizes[key] = self.sizes.get(key, 0) + size

  def pack(self, tree, sizes: Mapping[str, int], xp=jnp) -> Dict[str, jax.Array]:
    """The packed vectors of `tree`, each zero-padded to `sizes[key]` (every key present).

    `xp=np` packs on the host (placing a state); `jnp` inside a jitted branch."""
    leaves = self.treedef.flatten_up_to(tree)
    parts = {key: [] for key in sizes}
    for (key, _, _, _, _), leaf in zip(self.entries, leaves):
      parts[key].append(xp.ravel(xp.asarray(leaf)).astype(key))
    out = {}
    for key, size in sizes.items():
      used = self.sizes.get(key, 0)
      if used > size:
        raise ValueError(f'a packed {key} vector of {size} cannot hold {used} values.')
      pad = xp.zeros((size - used,), key)
      out[key] = xp.concatenate(parts[key] + [pad]) if parts[key] else pad
    return out

  def unpack(self, vectors: Mapping[str, jax.Array]):
    """The pytree back from its packed vectors (static slices; padding ignored)."""
    leaves = [vectors[key][offset:offset + size].reshape(shape).astype(dtype)
              for key, offset, size, shape, dtype in self.entries]
    return self.treedef.unflatten(leaves)


def common_sizes(layouts) -> Dict[str, int]:
  """Per dtype key, the longest vector any of `layouts` needs (at least 1)."""
  sizes = {}
  for layout in layouts:
    for key, size in layout.sizes.items():
      sizes[key] = max(sizes.get(key, 1), size)
  return dict(sorted(sizes.items()))
