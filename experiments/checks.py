"""Config checks: every bad value is refused before anything runs, in one line naming the
key and the fix (`ConfigError`); bad data met while running is an `InputError`."""

import math
import os
import re

import sideways_jax as sj
from sideways_jax import data
from sideways_jax import models

OPTIMIZER_NAMES = ('adam', 'adamw', 'momentum', 'sgd')
TASKS = ('classification', 'prediction')
SCHEDULES = ('constant', 'cosine')
REAL_DATASETS = ('ucf101', 'hmdb51', 'kinetics600', 'moving_mnist')
LOADER_KEYS = ('name', 'num_workers', 'cache', 'augment')  # dataset keys the launcher keeps


class ConfigError(ValueError):
  """A config value the run cannot use: `config.KEY=VALUE: problem; fix`."""

  def __init__(self, key, value, problem, fix):
    self.key = key
    super().__init__(f'--config.{key}={value!r}: {problem}; {fix}.')


class FlagError(ValueError):
  """A command-line flag (other than a config key) the run cannot use."""


class InputError(ValueError):
  """Data (or arguments) the engine cannot take, met after the config was accepted."""


class NonFiniteError(RuntimeError):
  """A NaN or Inf in a loss or gradient stopped the run (no update was applied)."""


def get(config, key, default=None):
  """`config[key]` for a dotted key, `default` when a part is missing."""
  value = config
  for part in key.split('.'):
    if not hasattr(value, 'keys') or part not in value:
      return default
    value = value[part]
  return value


def _require(config, key):
  value = get(config, key, _MISSING)
  if value is _MISSING:
    raise ConfigError(key, None, 'the config has no such key',
                      'every experiment config needs it (see experiments/configs/default.py)')
  return value


_MISSING = object()


def _is_int(value):
  return isinstance(value, int) and not isinstance(value, bool)


def _int(config, key, lo, meaning, fix=None):
  value = _require(config, key)
  if not _is_int(value) or value < lo:
    raise ConfigError(key, value, f'{meaning} must be an integer >= {lo}',
                      fix or f'set --config.{key}=N with N >= {lo}')
  return value


def _positive_float(config, key, meaning, allow_zero=False, example='3e-4'):
  value = _require(config, key)
  ok = isinstance(value, (int, float)) and not isinstance(value, bool)
  if not ok or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
    bound = '>= 0' if allow_zero else '> 0'
    raise ConfigError(key, value, f'{meaning} must be a finite number {bound}',
                      f'set e.g. --config.{key}=' + ('0' if allow_zero else example))
  return value


# No optimizer here moves a parameter by much more than the rate per step (adam: ~lr), and
# weights are O(1): above this every first update overflows or diverges.
MAX_LEARNING_RATE = 1e3


def _check_width(config):
  """A channel multiplier that rounds a vgg layer to no channel is refused: vgg would
  raise it to one channel without a word (a 1-channel network)."""
  width = _positive_float(config, 'model.width', 'the channel multiplier', example='0.5')
  if get(config, 'model.name') != 'vgg':
    return
  try:
    layers = models.vgg_size(get(config, 'model.size', 'tiny'))
  except (ValueError, TypeError, AttributeError):
    return  # a bad size is the model's own error
  narrowest = min(c for c, _ in layers)
  if int(round(narrowest * width)) < 1:
    raise ConfigError('model.width', width, f'its narrowest layer ({narrowest} channels '
                      f'in model.size={get(config, "model.size")!r}) would get '
                      f'{narrowest * width:.3g} channels, less than one',
                      f'use a width >= {1 / narrowest:.3g} (one channel there), e.g. '
                      '--config.model.width=0.5')


def check_lr_scales(config, num_modules):
  """`module_lr_scales` that hold every module (the top too) would train nothing, to the
  end, without a word: refused."""
  text = get(config, 'module_lr_scales', '')
  try:
    scales = [float(v) for v in str(text).split(',')] if text else []
  except ValueError:
    return  # malformed: builders.module_lr_scales says so
  if len(scales) == num_modules and all(v == 0 for v in scales):
    raise ConfigError('module_lr_scales', text, f'every one of the {num_modules} modules '
                      'is at rate 0 (the top too): nothing would learn',
                      f'leave the top module at 1, e.g. --config.module_lr_scales='
                      f"{','.join(['0'] * (num_modules - 1))}")


def _choice(config, key, choices):
  value = _require(config, key)
  if value not in choices:
    raise ConfigError(key, value, 'unknown value',
                      f'use one of {", ".join(map(str, choices))}')
  return value


def _bool(config, key):
  value = _require(config, key)
  if not isinstance(value, bool):
    raise ConfigError(key, value, 'must be True or False', f'set --config.{key}=False')
  return value


def check_devices(config):
  """stage_devices x data_devices devices must exist, the batch must split over
  data_devices, and per-frame backprop has no pipeline to place (gpipe is its placed form).
  """
  import jax  # pylint: disable=g-import-not-at-top
  stage = _int(config, 'stage_devices', 1, 'devices along the network')
  data_devices = _int(config, 'data_devices', 1, 'devices along the batch')
  if stage * data_devices == 1:
    return
  have = jax.device_count()
  if stage * data_devices > have:
    raise ConfigError('stage_devices' if stage > 1 else 'data_devices',
                      stage if stage > 1 else data_devices,
                      f'stage_devices x data_devices = {stage * data_devices} devices, but '
                      f'there are {have}',
                      'use fewer, or on CPU start with XLA_FLAGS=--xla_force_host_platform_'
                      f'device_count={stage * data_devices}')
  if config.batch_size % data_devices:
    raise ConfigError('batch_size', config.batch_size, f'the batch does not split over '
                      f'data_devices={data_devices}',
                      f'use a multiple of {data_devices}')
  if config.algorithm == 'backprop':
    raise ConfigError('algorithm', 'backprop', 'per-frame backprop has no pipeline to '
                      'place on several devices',
                      "use --config.algorithm=gpipe (backprop's gradients, "
                      "update_every='clip', across stages) or one device")


def check_config(config):
  """Raises `ConfigError` for the first key whose value the run cannot use."""
  _int(config, 'seed', 0, 'the seed')
  _int(config, 'num_steps', 1, 'the number of steps (the run needs at least one)')
  _int(config, 'batch_size', 1, 'clips per step')
  _int(config, 'frames_per_clip', 1, 'frames per clip')
  for key in ('log_every', 'eval_every'):
    _int(config, key, 1, 'steps between reports',
         f'set --config.{key}=N with N >= 1 (N = num_steps reports only at the end)')
  _int(config, 'checkpoint_every', 0, 'steps between checkpoints (0: only at the end)')
  _int(config, 'keep_checkpoints', 1, 'checkpoints kept')
  _int(config, 'eval_clips', 1, 'held-out clips per evaluation')
  algorithm = _choice(config, 'algorithm', sj.ALGORITHMS)
  skips = _require(config, 'skips')
  if not isinstance(skips, str) or not skips:
    raise ConfigError('skips', skips, 'must name a skip pattern', 'e.g. none or input')
  stream = _bool(config, 'stream')
  every = _require(config, 'update_every')
  if every != 'clip' and (not _is_int(every) or every < 1):
    raise ConfigError('update_every', every, "must be a positive integer or 'clip'",
                      'e.g. --config.update_every=1')
  if stream and every == 'clip':
    raise ConfigError('update_every', every, 'a stream has no clips to end',
                      'use an integer with --config.stream=True')
  if stream and algorithm == 'gpipe':
    raise ConfigError('stream', stream, 'gpipe fills and drains its pipeline every clip',
                      'use algorithm sideways or bptt for streams')
  task = _choice(config, 'task', TASKS)
  if _bool(config, 'center_frames') and task != 'classification':
    raise ConfigError('center_frames', True, 'centring is for classification; frame '
                      'prediction compares outputs with the raw frames',
                      'set --config.center_frames=False')
  _choice(config, 'optimizer', OPTIMIZER_NAMES)
  lr = _positive_float(config, 'learning_rate', 'the learning rate')
  if lr > MAX_LEARNING_RATE:
    raise ConfigError('learning_rate', lr, f'no optimizer here trains at a rate above '
                      f'{MAX_LEARNING_RATE:g} (each step moves a parameter by about the rate; '
                      'the first update overflows or diverges)',
                      'use e.g. --config.learning_rate=3e-4')
  _choice(config, 'schedule', SCHEDULES)
  _int(config, 'warmup_steps', 0, 'warm-up steps')
  _positive_float(config, 'grad_clip', 'the clip norm (0: off)', allow_zero=True)
  if get(config, 'frozen_cache_gb') is not None:
    _positive_float(config, 'frozen_cache_gb', "the frozen modules' kept outputs in GB (0: "
                    'off)', allow_zero=True)
  decay = get(config, 'ema_decay')
  if decay is not None and (isinstance(decay, bool) or not isinstance(decay, (int, float))
                            or not 0 <= decay < 1):
    raise ConfigError('ema_decay', decay, 'is not a decay in [0, 1)',
                      'give e.g. --config.ema_decay=0.99, or 0 for no average')
  if get(config, 'eval_raw') is not None:
    _bool(config, 'eval_raw')
  if get(config, 'init_modules') and not get(config, 'init_from'):
    raise ConfigError('init_modules', config.init_modules, 'names modules to fill from '
                      'init_from, which is not set', 'give the source run with '
                      '--config.init_from=RUN_FOLDER (or drop init_modules)')
  _choice(config, 'model.name', sorted(models.MODELS))
  if get(config, 'model.hidden') is not None:
    _int(config, 'model.hidden', 0, 'the head width (0: no hidden layer)')
  if get(config, 'model.width') is not None:
    _check_width(config)
  if get(config, 'model.head_conv') is not None:
    _int(config, 'model.head_conv', 0, "the channels of the classifier's 3x3 conv (0: "
         'none)', 'set --config.model.head_conv=N with N >= 0 (e.g. 32, or 0 for none)')
  check_dataset(config)
  check_devices(config)


def check_dataset(config):
  name = _choice(config, 'dataset.name', data.dataset_names())
  if name in REAL_DATASETS:
    root = get(config, 'dataset.root', _MISSING)
    if root is _MISSING:
      raise ConfigError('dataset.name', name, 'this dataset is read from local files and '
                        'the config has no dataset.root',
                        f'use --config=experiments/configs/default.py:{name} '
                        f'--config.dataset.root=/data/{name}')
    prepared = get(config, 'dataset.prepared', None)
    if prepared and root:
      raise ConfigError('dataset.prepared', prepared, f'dataset.root={root!r} is set too, '
                        'and a run reads one of them', 'drop --config.dataset.root (the '
                        'prepared copy has the clips) or --config.dataset.prepared')
    if not root and not prepared:
      raise ConfigError('dataset.root', root, f'{name} is read from local files',
                        f'pass --config.dataset.root=/data/{name} (layout: '
                        'docs/REAL_DATASETS.md), or --config.dataset.prepared=DIR for a '
                        'copy python -m sideways_jax.data.prepare wrote')
  if get(config, 'dataset.resolution') is not None:
    _int(config, 'dataset.resolution', 1, 'the frame size in pixels')
  if get(config, 'dataset.temporal_stride') is not None:
    _int(config, 'dataset.temporal_stride', 1, 'the step between frames of a clip (0 or '
         'less: every frame of a clip the same, or reversed)',
         'set --config.dataset.temporal_stride=N with N >= 1 (1: consecutive frames)')
  if get(config, 'dataset.num_workers') is not None:
    _int(config, 'dataset.num_workers', 0, 'loader threads')


def dataset_kwargs(config):
  """The keyword arguments `get_dataset` gets: every dataset key but the launcher's own
  (name, num_workers, cache) and unset ones, plus frames_per_clip and seed."""
  kwargs = {k: v for k, v in config.dataset.items()
            if k not in LOADER_KEYS + ('kwargs',) and v is not None}
  kwargs.update(dict(config.dataset.get('kwargs', None) or {}))  # configs of older runs
  return dict(kwargs, frames_per_clip=config.frames_per_clip, seed=config.seed)


def unexpected_keyword(err):
  """The name in "got an unexpected keyword argument 'x'", or None."""
  found = re.search(r"unexpected keyword argument '(\w+)'", str(err))
  return found.group(1) if found else None


def check_network(config, network, frame_shape):
  """The network must take this frame size: no pooling down to nothing, a decoder that
  fits the frame."""
  check_lr_scales(config, network.num_modules)
  shape = (config.batch_size,) + tuple(frame_shape)
  fix = ('use a resolution the model\'s pooling divides down to at least 1 pixel, e.g. '
         '--config.dataset.resolution=32')
  resolution = get(config, 'dataset.resolution', frame_shape[0])
  try:
    outputs = network.output_shapes(shape)
  except (ValueError, TypeError, ArithmeticError) as err:  # e.g. pooling a 0x0 map
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    if isinstance(err, ArithmeticError):
      reason = 'the frames are too small for its pooling'
    raise ConfigError('dataset.resolution', resolution, f'the network cannot take frames of '
                      f'shape {tuple(frame_shape)} ({reason})', fix) from err
  for name, out in zip(network.names, outputs):
    if 0 in tuple(out.shape):
      raise ConfigError('dataset.resolution', resolution,
                        f'module {name} would output shape {tuple(out.shape)}: the frames '
                        f'are too small for the pooling of model.size='
                        f'{get(config, "model.size")!r}', fix)
  # On the frame clock (Sideways and bptt) an output is valid once every input path has
  # filled: a skip's delay adds to its path. With clips (reset) a loss is taken on ticks
  # 0..T-1 only, so a top first valid later than that would train on nothing.
  if get(config, 'algorithm') in ('sideways', 'bptt') and not get(config, 'stream', False):
    first = network.graph().valid_from(network.num_modules)
    frames = config.frames_per_clip
    if first > frames - 1:
      raise ConfigError('skips', get(config, 'skips'), f'the top module\'s output is first '
                        f'valid at tick {first} of a clip (its slowest input path, skip delays '
                        f'included), and a clip of {frames} frames takes its losses at ticks '
                        f'0..{frames - 1}: no output would ever be trained or evaluated',
                        f'shorten the skips\' delays, or give clips of at least {first + 1} '
                        f'frames (--config.frames_per_clip={first + 1})')


def device_memory_bytes():
  """What the first device can hold: its allocator's limit (GPU, TPU), else this host's
  physical memory (CPU devices share it)."""
  import jax  # pylint: disable=g-import-not-at-top
  try:
    stats = jax.devices()[0].memory_stats() or {}
  except Exception:  # pylint: disable=broad-except
    stats = {}
  if stats.get('bytes_limit'):
    return int(stats['bytes_limit'])
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def check_memory(config, state_bytes, batch_bytes, kept_bytes, available=None):
  """Refuses, before anything is allocated, a run whose training state (parameters,
  optimizer state, averages) plus one batch and the clips `dataset.cache` keeps cannot fit
  in memory; the error names the keys that drive the large parts. On an accelerator the
  state and the batch are checked against its memory and the kept clips (host memory)
  against the host's; on CPU devices all of it against the host's. Activations come on
  top of this: a run that passes can still run out of memory."""
  import jax  # pylint: disable=g-import-not-at-top
  if available is None and jax.devices()[0].platform != 'cpu':
    host = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    check_memory(config, 0, batch_bytes, kept_bytes, available=host)
    kept_bytes = 0
  available = available or device_memory_bytes()
  parts = {'the training state (parameters, optimizer state)': state_bytes,
           'one batch of frames': batch_bytes, 'the clips dataset.cache keeps': kept_bytes}
  need = sum(parts.values())
  if need <= 0.9 * available:
    return
  fixes = {'the training state (parameters, optimizer state)':
               ('model.size', 'a smaller network (model.width, model.hidden, model.size; '
                'the state grows with dataset.resolution where the network flattens)'),
           'one batch of frames':
               ('dataset.resolution', 'a smaller batch_size, frames_per_clip or '
                'dataset.resolution'),
           'the clips dataset.cache keeps':
               ('dataset.cache', 'dataset.cache=False, or fewer or smaller clips')}
  gib = lambda n: f'{n / 2**30:,.1f} GiB'
  large = [p for p in parts if parts[p] > 0.1 * available] or [max(parts, key=parts.get)]
  # The key named first: the batch's when it is large (its keys are what a user sets),
  # else the largest part's.
  first = 'one batch of frames' if 'one batch of frames' in large else large[0]
  raise ConfigError(fixes[first][0], get(config, fixes[first][0]),
                    f'the run needs at least {gib(need)} before activations ('
                    + ', '.join(f'{p}: {gib(parts[p])}' for p in parts)
                    + f') and the device has {gib(available)}',
                    'use ' + '; '.join(fixes[p][1] for p in large))
