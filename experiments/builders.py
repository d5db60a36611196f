"""What a config builds: datasets, task and network (from the model registry), optimizer,
trainer, batches, and how a run is scored (which clips, and how they are loaded:
experiments.evaluation). Shared by experiments.train, experiments.evaluate
and other tools; every function takes the resolved config (`checks.check_config` has
accepted it)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sideways_jax as sj
from sideways_jax import data
from sideways_jax import models
from sideways_jax.data import pipeline
from sideways_jax.data import streams

from . import checks
from . import evaluation

OPTIMIZERS = {'adam': optax.adam, 'sgd': optax.sgd, 'adamw': optax.adamw,
              'momentum': lambda lr: optax.sgd(lr, momentum=0.9)}


def updates_per_step(config, num_modules):
  """Optimizer updates a module takes per engine step (schedules count engine steps)."""
  ticks = config.frames_per_clip
  if config.algorithm == 'sideways' and not config.stream:
    ticks += sj.drain_ticks(num_modules, frozen_modules(config, num_modules))
  if config.algorithm in ('bptt', 'gpipe') or config.update_every == 'clip':
    return 1
  return -(-ticks // config.update_every)


def make_optimizer(config, num_modules=1):
  """The optax optimizer of `config` (optimizer, learning_rate, schedule, warmup_steps,
  grad_clip, module_lr_scales), with schedules counted in optimizer updates; with
  `ema_decay` it also keeps a moving average of each module's parameters, which
  evaluation reads (`eval_params`)."""
  if config.optimizer not in OPTIMIZERS:
    raise checks.ConfigError('optimizer', config.optimizer, 'unknown optimizer',
                             f'use one of {", ".join(sorted(OPTIMIZERS))}')
  per_step = updates_per_step(config, num_modules)
  total = config.num_steps * per_step
  warmup = config.get('warmup_steps', 0) * per_step
  schedule = config.get('schedule', 'constant')
  lr = config.learning_rate
  if schedule == 'constant':
    lr_fn = (optax.linear_schedule(0., lr, warmup) if warmup else lr)
    if warmup:
      lr_fn = optax.join_schedules([lr_fn, optax.constant_schedule(lr)], [warmup])
  elif schedule == 'cosine':
    lr_fn = optax.warmup_cosine_decay_schedule(0., lr, max(warmup, 1), max(total, warmup + 1),
                                               end_value=lr * 0.01)
  else:
    raise checks.ConfigError('schedule', schedule, 'unknown schedule',
                             "use 'constant' or 'cosine'")
  opt = OPTIMIZERS[config.optimizer](lr_fn)
  if config.get('grad_clip', 0):
    opt = optax.chain(optax.clip_by_global_norm(config.grad_clip), opt)
  scales = module_lr_scales(config, num_modules)
  decay = config.get('ema_decay', 0.)
  average = (lambda o: sj.with_param_ema(o, decay)) if decay else (lambda o: o)
  if scales is None:
    return average(opt)
  return tuple(average(opt if scale == 1 else optax.chain(opt, optax.scale(scale)))
               for scale in scales)


def module_lr_scales(config, num_modules):
  """`module_lr_scales` as K floats, or None (all 1): up to K numbers from module 1 up,
  the modules not named at 1 ('0,0': modules 1 and 2 frozen, whatever K is)."""
  text = config.get('module_lr_scales', '')
  if not text:
    return None
  try:
    scales = tuple(float(v) for v in str(text).split(','))
  except ValueError:
    scales = ()
  if not 1 <= len(scales) <= num_modules or any(not v >= 0 for v in scales):
    raise checks.ConfigError('module_lr_scales', text, f'needs 1 to {num_modules} '
                             'comma-separated numbers >= 0, from module 1 up (the rest are 1)',
                             "e.g. '0,0' (modules 1-2 frozen) or '" +
                             ','.join(['1'] * num_modules) + "'")
  return scales + (1.0,) * (num_modules - len(scales))


def _dataset(config, split):
  kwargs = checks.dataset_kwargs(config)
  if split == 'train' and config.dataset.get('augment'):  # never the held-out clips
    kwargs['augment'] = config.dataset.augment
  try:
    dataset = data.get_dataset(config.dataset.name, split, **kwargs)
  except ValueError as err:  # the loaders' own checks, in one line naming the dataset keys
    raise checks.InputError(f'--config.dataset.* (dataset {config.dataset.name!r}, split '
                            f'{split!r}): {str(err).splitlines()[0]}') from err
  except TypeError as err:
    key = checks.unexpected_keyword(err)
    if key is None:
      raise
    raise checks.ConfigError(
        f'dataset.{key}', config.dataset.get(key), f'dataset {config.dataset.name!r} has no '
        f'option {key!r}', 'use the config variant made for this dataset, '
        f'e.g. --config=experiments/configs/default.py:{config.dataset.name}') from err
  if config.dataset.get('cache'):
    if not hasattr(dataset, 'keep_rendered'):
      raise checks.ConfigError(
          'dataset.cache', config.dataset.cache, f'dataset {config.dataset.name!r} is read '
          'from files and may change every epoch (augmentation); only the embedded '
          'synthetic sets keep their rendered clips', 'drop --config.dataset.cache')
    dataset.keep_rendered()
  return dataset


def make_datasets(config):
  """(train, test) datasets: `get_dataset(dataset.name, split, **other dataset keys)`."""
  return _dataset(config, 'train'), _dataset(config, 'test')


def make_task_and_network(config, dataset):
  """The task named by `config.task` and the network `models.get_model(model.name, ...)`:
  every `model.*` key but `name`, plus num_classes, task, frame_shape and skips."""
  if config.task == 'classification':
    task = sj.Classification(dataset.num_classes)
  elif config.task == 'prediction':
    task = sj.FramePrediction()
  else:
    raise checks.ConfigError('task', config.task, 'unknown task',
                             f'use one of {", ".join(checks.TASKS)}')
  kwargs = {k: v for k, v in config.model.items() if k != 'name'}
  try:
    build = lambda **kw: models.get_model(
        config.model.name, num_classes=dataset.num_classes, task=config.task,
        frame_shape=tuple(dataset.frame_shape), skips=config.skips, **{**kwargs, **kw})
    if kwargs.get('local_heads') == AUTO_HEADS:
      network = build(local_heads='')
      network = build(local_heads=auto_local_heads(config, network.num_modules))
    else:
      network = build()
    task.history_length(network)  # prediction: the top must not see its target
  except ValueError as err:
    raise checks.InputError(f'--config.model.* / --config.skips (model '
                            f'{config.model.name!r}, skips {config.skips!r}): '
                            f'{str(err).splitlines()[0]}') from err
  except TypeError as err:
    key = checks.unexpected_keyword(err)
    if key is None:
      raise
    raise checks.ConfigError(f'model.{key}', kwargs.get(key), f'model {config.model.name!r} '
                             f'takes no option {key!r}', 'remove it from the config') from err
  return task, network


def preprocess(config, dataset=None):
  """The batch as the engine takes it: with `center_frames`, per-frame, per-channel mean
  subtraction (classification: the synthetic scenes have random background colours, and
  centred inputs train several times faster). uint8 frames of a clip dataset with
  `to_float` (`make_batches(..., uint8=True)`) become its floats on the device, the
  centring fused in (one pass there instead of two over the host's memory)."""
  mean, std = getattr(dataset, 'mean', None), getattr(dataset, 'std', None)

  def center(frames):
    return frames - frames.mean(axis=(2, 3), keepdims=True)

  @jax.jit
  def on_device(frames):
    x = frames.astype(jnp.float32) * jnp.float32(1 / 255)
    if mean is not None:
      x = x - jnp.asarray(mean, jnp.float32)
    if std is not None:
      x = x / jnp.asarray(std, jnp.float32)
    return center(x) if config.center_frames else x

  def prep(batch):
    frames = batch['frames']
    if frames.dtype == np.uint8 and hasattr(dataset, 'to_float'):
      return {**batch, 'frames': on_device(frames)}
    if not np.issubdtype(frames.dtype, np.floating):
      raise checks.InputError(
          f'dataset {config.dataset.name!r} gives frames of dtype {frames.dtype}; the engine '
          'takes floating-point frames in [0, 1]: convert them in the dataset (uint8 / 255.).')
    return {**batch, 'frames': center(frames)} if config.center_frames else batch
  return prep


def frozen_cache(config, trainer, params, dataset):
  """`batch -> batch` adding the frozen modules' outputs, kept per clip
  (`sj.FrozenCache`, up to `frozen_cache_gb`); the identity where it is off or does not
  apply: nothing frozen that a learning module reads, streams, placement, backprop, gpipe,
  and datasets whose clips change between epochs (files: random crops and flips; the
  embedded sets with `dataset.augment`): every draw a new entry, so the cache would only
  cost. Prints one line when on."""
  gigabytes = config.get('frozen_cache_gb', 0.)
  if (not gigabytes or getattr(trainer, 'frozen_values', None) is None  # placed: none
      or not hasattr(dataset, 'keep_rendered')  # the embedded sets: the same clips,
      or getattr(dataset, 'augment', ())):     # unless augmented (new ones every epoch)
    return lambda batch: batch
  cache = sj.FrozenCache(trainer, max_bytes=int(gigabytes * 2**30))
  frozen = frozen_modules(config, trainer.network.num_modules)
  which = f'modules 1-{frozen[-1]}' if len(frozen) > 1 else 'module 1'
  print(f"frozen {which}: outputs kept per clip, up to {gigabytes:g} GB "
        '(--config.frozen_cache_gb=0: none)', flush=True)
  return lambda batch: cache.attach(params, batch)


def placement_groups(config):
  """`placement_groups`: 'cost', 'time', 'params', or a stage per module ('0,0,1,1,1')."""
  groups = config.get('placement_groups', 'cost')
  if isinstance(groups, str) and ',' in groups:
    try:
      return tuple(int(s) for s in groups.split(','))
    except ValueError as err:
      raise checks.ConfigError('placement_groups', groups, 'not a stage number per module',
                               "use cost, time, params or e.g. '0,0,1,1,1'") from err
  return groups


def make_trainer(config, network, task, frame_shape=None, placed=True):
  """The engine's trainer; with stage_devices / data_devices > 1 (and `placed`) a placed
  trainer on a (stage, data) mesh, its modules grouped by `placement_groups`."""
  placement = None
  stage, data_devices = config.get('stage_devices', 1), config.get('data_devices', 1)
  frozen = frozen_modules(config, network.num_modules)
  if placed and stage * data_devices > 1:
    try:
      placement = sj.place(network, sj.make_mesh(stage, data_devices),
                           groups=placement_groups(config),
                           frame_shape=(config.batch_size // data_devices,) +
                           tuple(frame_shape), frozen=frozen)
    except ValueError as err:
      raise checks.ConfigError('stage_devices', stage, str(err).rstrip('.'),
                               'choose another stage_devices or placement_groups') from err
    if stage > 1:
      print(describe_placement(placement, placement_groups(config)), flush=True)
  return sj.build(network, make_optimizer(config, network.num_modules), task,
                  algorithm=config.algorithm, update_every=config.update_every,
                  stream=config.stream, placement=placement,
                  frozen=frozen)


def describe_placement(placement, groups):
  """One line: each stage's modules and, where weighed, its share of the tick's cost."""
  shares = placement.shares()
  parts = []
  for stage in range(placement.num_stages):
    mods = [k for k, s in enumerate(placement.stages, start=1) if s == stage]
    part = f'stage {stage}: modules {mods[0]}-{mods[-1]}' if len(mods) > 1 else (
        f'stage {stage}: module {mods[0]}')
    parts.append(part + (f' ({shares[stage]:.0%})' if shares else ''))
  weighed = f'balancing {groups}' if isinstance(groups, str) else 'as given'
  bound = f'; at most {1 / max(shares):.2f}x one device' if shares else ''
  return f'placement ({weighed}): ' + ', '.join(parts) + bound


AUTO_HEADS = 'auto'


def auto_local_heads(config, num_modules):
  """`model.local_heads='auto'`: under Sideways classification, a local head on each of the
  two modules below the top that learns (K-2 and K-1; modules 3-4 of the default);
  none for the baselines (bptt, backprop and gpipe train the top's loss only) and for
  prediction. As module numbers: '3,4', or ''."""
  if config.algorithm != 'sideways' or config.task != 'classification':
    return ''
  frozen = frozen_modules(config, num_modules)
  return ','.join(str(k) for k in (num_modules - 2, num_modules - 1)
                  if k >= 1 and k not in frozen)


def frozen_modules(config, num_modules):
  """The modules `module_lr_scales` freezes: the lowest ones at 0 (held, forward only)."""
  frozen = []
  for k, scale in enumerate(module_lr_scales(config, num_modules) or (), start=1):
    if scale != 0 or k == num_modules:
      break
    frozen.append(k)
  return tuple(frozen)


def is_placed(trainer):
  return trainer.placement is not None


def to_checkpoint(trainer, state):
  """What a checkpoint holds: the single-device `TrainState` (a placed state is gathered),
  so a run resumes on any placement."""
  return trainer.unplace(state) if is_placed(trainer) else state


def from_checkpoint(trainer, state, config, frame_shape):
  """A restored `TrainState` placed back on the trainer's mesh (if it has one)."""
  if is_placed(trainer):
    return trainer.place(state, (config.batch_size,) + tuple(frame_shape))
  return state


def eval_params(trainer, state, config):
  """The per-module parameters a (placed or single-device) state is evaluated with: with
  `ema_decay`, their moving average (updates.averaged_params), else the parameters."""
  if is_placed(trainer) and isinstance(state, sj.PlacedState):
    state = trainer.unplace(state)
  decay = config.get('ema_decay', 0.)
  if not decay:
    return state.params
  return sj.averaged_params(state.params, state.opt_state, decay)


def make_batches(config, dataset, state=None, uint8=False):
  """Training batches (clips), or stream chunks with `stream=True`; `state` resumes.
  `uint8`: a clip dataset's frames before its float conversion (`preprocess(config,
  dataset)` makes them floats on the device)."""
  if config.stream:
    return streams.video_stream(dataset, config.batch_size, config.frames_per_clip,
                                seed=config.seed, state=state)
  return pipeline.batches(dataset, config.batch_size, seed=config.seed, state=state,
                          num_workers=config.dataset.get('num_workers', None) or 0,
                          uint8=uint8)


def rng(config):
  return jax.random.PRNGKey(config.seed)


def abstract_state(config, trainer, dataset):
  """Shapes and dtypes of `trainer.init`'s state (what a checkpoint is read into)."""
  shape = (config.batch_size, config.frames_per_clip)
  batch = {'frames': jax.ShapeDtypeStruct(shape + tuple(dataset.frame_shape), np.float32),
           'labels': jax.ShapeDtypeStruct(shape, np.int32),
           'video_ids': jax.ShapeDtypeStruct(shape, np.int32)}
  init = trainer.init_unplaced if is_placed(trainer) else trainer.init
  return jax.eval_shape(init, rng(config), batch)


def evaluate_state(trainer, state, test_set, config, num_clips=None):
  """`evaluate_clips` of a training state's `eval_params`; with `ema_decay` and
  `eval_raw`, the parameters themselves are scored too on the same clips (loaded once), as
  `raw_`-prefixed metrics (what the average gains, on the same run)."""
  params = {'': eval_params(trainer, state, config)}
  if config.get('ema_decay', 0.) and config.get('eval_raw', False):
    raw = trainer.unplace(state) if is_placed(trainer) and isinstance(
        state, sj.PlacedState) else state
    params['raw_'] = raw.params
  return _evaluate(trainer, params, test_set, config, num_clips)


def evaluate_clips(trainer, params, test_set, config, num_clips=None, per_class=False):
  """Mean metrics of `params` over `num_clips` (default `config.eval_clips`) held-out
  clips: the whole split if it has no more, else a fixed sample, class-stratified where
  the test set has `item_labels` (`evaluation.sample_indices`; the same clips at every
  call). Loaded in batches of `batch_size` on `dataset.num_workers` threads.

  Returns the metrics plus `num_clips`, the number of clips scored, and (classification)
  `num_classes_scored` of `num_classes`; with `per_class` (classification), also
  `per_class_clip_accuracy` {class name: accuracy, None for a class with no clip} and
  `clip_confusion` (clip counts, row = true class, column = predicted).
  """
  return _evaluate(trainer, {'': params}, test_set, config, num_clips, per_class)


def _evaluate(trainer, params_by_prefix, test_set, config, num_clips, per_class=False):
  indices = evaluation.sample_indices(test_set, num_clips or config.eval_clips, config.task)
  loaded = evaluation.held_out_batches(test_set, indices, config.batch_size,
                                       config.dataset.get('num_workers', None) or 0)
  prep = preprocess(config)
  classification = config.task == 'classification'
  return evaluation.score(trainer, params_by_prefix, (prep(b) for b in loaded),
                          num_classes=test_set.num_classes if classification else None,
                          per_class=per_class,
                          class_names=getattr(test_set, 'class_names', None))


summary = evaluation.summary
