"""Video data: embedded synthetic sets, real datasets from local files, streams.

Every dataset yields batches as dicts of numpy arrays with one layout, shared by
clips and streams (CONTRACTS.md):

  frames:    float32 [B, T, H, W, C]
  labels:    int32   [B, T]   (per-frame label; constant within a video)
  video_ids: int32   [B, T]   (per-frame video id; unique per video)

`get_dataset(name, split, **kwargs)` builds a dataset by name, so configs can name them.
"""

import importlib

# name -> (module, factory function). Imported lazily: real-video loaders pull in PyAV.
_REGISTRY = {
    'temporal_actions': ('sideways_jax.data.synthetic', 'temporal_actions'),
    'appearance': ('sideways_jax.data.synthetic', 'appearance'),
    'moving_digits': ('sideways_jax.data.synthetic', 'moving_digits'),
    'ucf101': ('sideways_jax.data.ucf101', 'ucf101'),
    'hmdb51': ('sideways_jax.data.hmdb51', 'hmdb51'),
    'kinetics600': ('sideways_jax.data.kinetics', 'kinetics600'),
    'moving_mnist': ('sideways_jax.data.moving_mnist', 'moving_mnist'),
}


def dataset_names():
  return sorted(_REGISTRY)


def get_dataset(name, split='train', **kwargs):
  """Builds the dataset `name` for `split` ('train' or 'test').

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if name not in _REGISTRY:
    raise ValueError(
        f'Unknown dataset {name!r}; known datasets: {", ".join(dataset_names())}.')
  module_name, fn_name = _REGISTRY[name]
  return getattr(importlib.import_module(module_name), fn_name)(split=split, **kwargs)
