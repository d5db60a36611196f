"""VGG-style video networks: 3x3 convs + ReLU, pooling between blocks, a head on top.

Each conv layer is one module (one pipeline stage, one device under placement); the top
module is a classifier (global average pool + linear) or a frame decoder (upsample to the
frame size, 3x3 conv, sigmoid). The papers use VGG-like nets split this way.
"""

from typing import Optional, Sequence, Tuple, Union

import haiku as hk
import jax
import jax.numpy as jnp

from sideways_jax.layers import Conv2D
from sideways_jax.network import Network, SkipEdge, resize_spatial

# (channels, pool after) per conv module.
VGG_SIZES = {
    'tiny': ((8, False), (16, True)),                             # K = 3: CPU tests
    'small': ((16, False), (16, True), (32, False), (32, True)),  # K = 5: CPU training
    # K = 5 with one more pooling: the top modules see a whole actor (a rotation's sense).
    'small_pool3': ((16, False), (16, True), (32, True), (32, True)),
    'base': ((64, False), (64, True), (128, False), (128, True),
             (256, False), (256, True), (512, False)),            # K = 8: paper-like VGG-8
}


def vgg_size(size):
  """A VGG size: a name of `VGG_SIZES`, or one conv module per comma-separated channel
  count from the bottom, 'p' after a count for a 2x2 pooling (`pool`) after it: '32,32p,32p,32p'
  is small_pool3 with 32 channels in its two lowest modules. Returns (channels, pool) pairs."""
  if not isinstance(size, str):
    return tuple((int(c), bool(p)) for c, p in size)
  if size in VGG_SIZES:
    return VGG_SIZES[size]
  layers = []
  for part in size.split(','):
    part = part.strip()
    pool = part.endswith('p')
    digits = part[:-1] if pool else part
    if not digits.isdigit() or int(digits) < 1:
      raise ValueError(f'Unknown VGG size {size!r}; use one of {sorted(VGG_SIZES)} or '
                       "comma-separated channel counts, 'p' after a count to pool after "
                       "that module (e.g. '32,32p,32p,32p').")
    layers.append((int(digits), pool))
  return tuple(layers)


NORMS = ('none', 'layer', 'group')


def _normalise(x, norm: str, name: str):
  """Per-example normalisation: batch statistics would mix examples across a pipeline in
  which each module sees another frame, so only per-example norms are offered."""
  if norm == 'none':
    return x
  if norm == 'layer':
    return hk.LayerNorm(axis=(-3, -2, -1), create_scale=True, create_offset=True,
                        name=f'{name}_norm')(x)
  groups = min(8, x.shape[-1])
  while x.shape[-1] % groups:
    groups -= 1
  return hk.GroupNorm(groups, name=f'{name}_norm')(x)


POOLS = ('max', 'avg')


def _conv_module(layers, name: str, norm: str = 'none', pooling: str = 'max'):
  """One module: the conv layers [(channels, pool after)] in order."""
  def module(x):
    for i, (channels, pool) in enumerate(layers):
      layer = name if len(layers) == 1 else f'{name}_{i + 1}'
      x = Conv2D(channels, 3, name=f'{layer}_conv')(x)
      x = jax.nn.relu(_normalise(x, norm, layer))
      if pool:
        pool_fn = hk.max_pool if pooling == 'max' else hk.avg_pool
        x = pool_fn(x, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID')
    return x
  return module


def _classifier(num_classes: int, hidden: Optional[int], head_conv: int = 0):
  def module(x):
    if head_conv and x.ndim == 4:  # spatial structure before the pooling (exact gradients)
      x = jax.nn.relu(Conv2D(head_conv, 3, name='head_conv')(x))
    x = x.mean(axis=(1, 2))
    if hidden:
      x = jax.nn.relu(hk.Linear(hidden, name='fc')(x))
    return hk.Linear(num_classes, name='logits')(x)
  return module


def _decoder(frame_shape: Tuple[int, int, int]):
  """Upsample to the frame, 3x3 conv + ReLU, 3x3 conv, sigmoid. Skips are read at the
  frame's resolution (each through its own 3x3 conv), not pooled down to the main input;
  a skip shaped like the frame (an input skip) also feeds the output logits through a
  per-channel gain, initialised so that the decoder starts by copying that frame: with
  an aligned input skip, the copy-last-frame baseline is where training starts."""
  height, width, channels = frame_shape

  def module(x, *skips):
    x = resize_spatial(x, height, width, 'decoder')
    h = Conv2D(16, 3, name='decoder_conv')(x)
    copies = []
    for i, s in enumerate(skips):
      s = resize_spatial(s, height, width, f'decoder skip {i + 1}')
      h = h + Conv2D(16, 3, name=f'decoder_skip{i + 1}_conv')(s)
      if s.shape[-1] == channels:
        copies.append(s)
    logits = Conv2D(channels, 3, name='decoder_out')(jax.nn.relu(h))
    for i, s in enumerate(copies):
      gain = hk.get_parameter(f'copy_gain{i + 1}', (channels,), s.dtype,
                              init=hk.initializers.Constant(10.))
      logits = logits + gain * (s - 0.5)  # sigmoid(10 (s - 0.5)) ~ s for s in {0, 1}
    return jax.nn.sigmoid(logits)

  module.combines_skips = True
  return module


def _group_convs(size, convs_per_module):
  """The conv layers split into modules: `convs_per_module` is one count for every module
  (an int, or a string such as '2') or one count per module from the bottom ('1,1,2' or a
  sequence), which must add up to the number of conv layers."""
  spec = convs_per_module
  if isinstance(spec, str):
    try:
      spec = [int(p) for p in spec.split(',')]
    except ValueError:
      spec = None
  elif isinstance(spec, int) and not isinstance(spec, bool):
    spec = [spec]
  elif isinstance(spec, (list, tuple)) and all(isinstance(c, int) for c in spec):
    spec = list(spec)
  else:
    spec = None
  if not spec or any(c < 1 for c in spec):
    raise ValueError(f'convs_per_module must be a positive integer or comma-separated '
                     f"positive integers (one per module from the bottom, e.g. '1,1,2'); "
                     f'got {convs_per_module!r}.')
  if len(spec) == 1:
    n = spec[0]
    return [size[i:i + n] for i in range(0, len(size), n)]
  if sum(spec) != len(size):
    raise ValueError(f'convs_per_module={convs_per_module!r} groups {sum(spec)} conv layers, '
                     f'but this size has {len(size)}; give counts that add up to {len(size)}.')
  starts = [sum(spec[:i]) for i in range(len(spec))]
  return [size[a:a + n] for a, n in zip(starts, spec)]


def vgg(size: Union[str, Sequence[Tuple[int, bool]]] = 'tiny', *, num_classes: int = 10,
        task: str = 'classification', frame_shape: Optional[Tuple[int, int, int]] = None,
        skips: Union[str, Sequence[SkipEdge]] = 'none', hidden: Optional[int] = None,
        norm: str = 'none', width: float = 1.0, pool: str = 'max',
        convs_per_module: Union[int, str, Sequence[int]] = 1, head_conv: int = 0,
        detach: int = 0, local_heads: Union[str, Sequence[int]] = (),
        local_weight: float = 1.0) -> Network:
  """A VGG-style `Network`: one module per conv layer plus a head module.

  Args:
    size: 'tiny' (K=3), 'small' (K=5), 'small_pool3' (K=5), 'base' (K=8), a layer string
      ('32,32p,32p,32p': channels per conv module, 'p' to pool after it; see `vgg_size`),
      or explicit (channels, pool) pairs.
    num_classes: classifier outputs (task='classification').
    task: 'classification' or 'prediction' (the head decodes a frame).
    frame_shape: (H, W, C) of the frames; needed by the decoder.
    skips: a skip pattern name (see `network.skip_pattern`) or explicit `SkipEdge`s.
    hidden: width of an extra hidden layer in the classifier head.
    norm: per-example normalisation after each conv: 'none', 'layer' (over H, W, C) or
      'group' (GroupNorm, up to 8 groups).
    width: channel multiplier of every conv module.
    pool: 'max' or 'avg' pooling between blocks (average pooling spreads a gradient
      over the whole window instead of routing it to one position).
    convs_per_module: conv layers per module: fewer, deeper modules (a shorter pipeline:
      K = ceil(convs / convs_per_module) + 1); or one count per module from the bottom,
      '1,1,2' (or a sequence), adding up to the conv layers: e.g. the top two convs in one
      module, whose Sideways gradient is then two ticks old for both.
    head_conv: channels of a 3x3 conv + ReLU in the classifier before its pooling (0: none);
      the top module's gradient is exact under Sideways, so spatial work there is cheap.
    detach: the lowest `detach` modules get no gradient along the main path: modules
      2..detach+1 read their main input through a stop_gradient (`Network.detach_main`, a
      property of the graph, so every algorithm trains it alike). With `to_top` skips they
      still learn, from the top's globally pooled (spatially uniform) gradient.
    local_heads: modules with a local classifier head ('3,4', or a sequence; '' for none),
      the top's classifier (its `head_conv` too) on that module's output. Under Sideways
      each head's loss gradient joins its module's delta the same tick, not 2(K-k) ticks
      late; the heads are a training device, read by no evaluation.
    local_weight: the weight of each local head's loss against the top's.

  Example:
    net = vgg('small', num_classes=8, skips='input')
  """
  size = vgg_size(size)
  if norm not in NORMS:
    raise ValueError(f'Unknown norm {norm!r}; use one of {NORMS}.')
  if not width > 0:
    raise ValueError(f'width must be positive, got {width!r}.')
  if pool not in POOLS:
    raise ValueError(f'Unknown pool {pool!r}; use one of {POOLS}.')
  size = [(max(1, int(round(c * width))), p) for c, p in size]
  groups = _group_convs(size, convs_per_module)
  modules = [_conv_module(g, f'block{i + 1}', norm, pool) for i, g in enumerate(groups)]
  if not isinstance(detach, int) or not 0 <= detach < len(groups) + 1:
    raise ValueError(f'detach must be an integer in [0, {len(groups)}], got {detach!r}.')
  detach_main = tuple(range(2, detach + 2))
  names = [f'conv{i + 1}' for i in range(len(groups))]
  if task == 'classification':
    modules.append(_classifier(num_classes, hidden, head_conv))
    names.append('classifier')
  elif task == 'prediction':
    if head_conv:
      raise ValueError(f'head_conv={head_conv} is a classifier layer; the prediction '
                       'decoder has none (set head_conv=0, --config.model.head_conv=0).')
    if frame_shape is None:
      raise ValueError('vgg(task="prediction") needs frame_shape=(H, W, C) for its decoder.')
    modules.append(_decoder(tuple(frame_shape)))
    names.append('decoder')
  else:
    raise ValueError(f'Unknown task {task!r}; use "classification" or "prediction".')
  heads = _module_list(local_heads, 'local_heads')
  if heads and task != 'classification':
    raise ValueError(f'local_heads={local_heads!r}: local heads are classifiers; task '
                     f'{task!r} has none (set local_heads=\'\').')
  head = _classifier(num_classes, None, head_conv)
  return Network(tuple(modules), names=tuple(names), detach_main=detach_main,
                 local_heads=tuple((k, head) for k in heads),
                 local_weight=float(local_weight)).with_skips(skips)


def _module_list(value, name) -> Tuple[int, ...]:
  """'3,4' / (3, 4) / '' / 'none' -> (3, 4) / ()."""
  if isinstance(value, str):
    text = value.strip()
    if text in ('', 'none'):
      return ()
    try:
      return tuple(int(v) for v in text.split(','))
    except ValueError:
      raise ValueError(f'{name}={value!r}: give module numbers separated by commas, '
                       "e.g. '3,4', or '' for none.") from None
  return tuple(int(v) for v in value)
