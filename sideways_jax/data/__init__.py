"""Video data: embedded synthetic sets, real datasets from local files, batching, streams.

Every dataset follows one protocol (`Dataset`, in batching.py; docs/DATA.md):

  num_classes, class_names, frame_shape (H, W, C), frames_per_clip (T), len(ds),
  ds[i]                        -> dict(frames float32 [T, H, W, C], label, video_id)
  ds.get_batch(indices, epoch=0) -> dict(frames  float32 [B, T, H, W, C],
                                         labels    int32   [B, T] (constant per video),
                                         video_ids int32   [B, T] (unique per video))

A clip is a function of (index, epoch) only; the epoch changes augmentation, nothing else.
`batching.batches` and `streams.video_stream` call `get_batch` and nothing else, so any
object with these members can be batched or streamed.

`get_dataset(name, split, **kwargs)` builds a dataset by name, so configs can name them.
Every factory takes `flip`: the video sets flip training clips at random by default
(`flip=False` turns it off; a flip turns 'left' into 'right'), Moving MNIST only with
`flip=True`; `flip=None` means the default; the synthetic sets are never flipped and
refuse `flip=True` (their label-preserving transforms are `augment=`).

Modules, one concern each:
  batching      the protocol, collate, resumable `batches` (`pipeline` is its old name)
  streams       endless lanes of whole videos for online training
  synthetic, synthetic_render, digits    the embedded sets and their renderer
  transforms    clip sampling, crop, flip, resize, to float (numpy)
  video_io      PyAV decoding and writing: the only module that imports `av`
  video_folder  VideoClipDataset (clips from (file, label) lists) and bad-file handling
  annotations   the split-file reader UCF101 and HMDB51 share
  ucf101, hmdb51, kinetics, moving_mnist   on-disk layouts -> datasets
  prepare       a CLI: a local UCF101 / HMDB51 / Kinetics copy -> a prepared folder, once
  prepared      reads a prepared folder (tfds array_record, one record per frame): the
                raw files' clips without decoding videos (`ucf101(..., prepared=DIR)`)
  export        writes a synthetic set as video files in UCF101's layout (a CLI)
  errors        DataError, AnnotationError, BadVideoWarning, ShortVideoWarning
"""

import importlib

from sideways_jax.data.batching import Dataset
from sideways_jax.data.errors import (AnnotationError, BadVideoWarning, DataError,
                                       ShortVideoWarning)

# name -> (module, factory function). Imported lazily: real-video loaders pull in PyAV.
_REGISTRY = {
    'temporal_actions': ('sideways_jax.data.synthetic', 'temporal_actions'),
    'appearance': ('sideways_jax.data.synthetic', 'appearance'),
    'moving_digits': ('sideways_jax.data.digits', 'moving_digits'),
    'ucf101': ('sideways_jax.data.ucf101', 'ucf101'),
    'hmdb51': ('sideways_jax.data.hmdb51', 'hmdb51'),
    'kinetics600': ('sideways_jax.data.kinetics', 'kinetics600'),
    'moving_mnist': ('sideways_jax.data.moving_mnist', 'moving_mnist'),
}


def dataset_names():
  """The names `get_dataset` knows, sorted."""
  return sorted(_REGISTRY)


def get_dataset(name, split='train', **kwargs):
  """Builds the dataset `name` for `split` ('train' or 'test').

  Example:
    train = get_dataset('ucf101', 'train', root='/data/ucf101', flip=False)

  Args:
    name: one of `dataset_names()`.
    split: 'train' or 'test'.
    **kwargs: the factory's options (see each module), e.g. `frames_per_clip`, `root`,
      `flip`.

  Returns:
    A dataset following the `Dataset` protocol.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if name not in _REGISTRY:
    raise ValueError(
        f'Unknown dataset {name!r}; known datasets: {", ".join(dataset_names())}.')
  module_name, fn_name = _REGISTRY[name]
  return getattr(importlib.import_module(module_name), fn_name)(split=split, **kwargs)
