"""Ready-made video networks, chosen by name so configs can name them.

    net = get_model('vgg', size='small', num_classes=8, skips='input')

`MODELS` maps a name to a function returning a `sj.Network`; a config's `model.name` picks
one and every other `model.*` key is passed to it as a keyword argument.
"""

from sideways_jax.models.vgg import VGG_SIZES, vgg, vgg_size

MODELS = {'vgg': vgg}


def get_model(name, **kwargs):
  """Builds the network `name` from `MODELS` with `kwargs`.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if name not in MODELS:
    raise ValueError(f'Unknown model {name!r}; known models: {", ".join(sorted(MODELS))}.')
  return MODELS[name](**kwargs)


__all__ = ['MODELS', 'VGG_SIZES', 'get_model', 'vgg', 'vgg_size']
