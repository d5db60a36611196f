"""Warm starts: the parameters of chosen modules taken from another run (`init_from`,
`init_modules`), the rest of the network at its initialisation."""

import jax

from . import builders
from . import checks


def init_modules(config, num_modules):
  """The modules `init_from` fills: `init_modules` ('1,2,3,4'), or the frozen ones."""
  text = str(config.get('init_modules', '') or '').strip()
  if not text:
    return builders.frozen_modules(config, num_modules)
  try:
    modules = tuple(int(v) for v in text.split(','))
  except ValueError:
    modules = ()
  if (not modules or len(set(modules)) != len(modules)
      or not all(1 <= k <= num_modules for k in modules)):
    raise checks.ConfigError('init_modules', config.init_modules, 'not distinct module '
                             f'numbers 1..{num_modules}', "give e.g. '1,2,3,4', or '' for "
                             'the frozen modules')
  return tuple(sorted(modules))


def warm_start(config, trainer, state, frame_shape, source_params):
  """`state` (just initialised) with the parameters of the modules `init_modules` names
  (default: the frozen ones) taken from `source_params` (the run in `config.init_from`):
  frozen ones keep what that run learned, learning ones go on from there. A learning module
  may read skip edges the source did not have (`skip_from_*` parameters it lacks), and a
  local head the source lacks or has in another shape: those start from their
  initialisation, and a line says so. Raises ConfigError if there is
  nothing to fill, or a filled module's parameters differ from the source's otherwise."""
  source = config.init_from
  num_modules = trainer.network.num_modules
  filled = init_modules(config, num_modules)
  if not filled:
    raise checks.ConfigError('init_from', source, 'it fills the frozen modules, and this '
                             'config freezes none', 'freeze the lowest modules with '
                             '--config.module_lr_scales=0,0, name the modules to fill with '
                             '--config.init_modules=1,2 (or drop init_from)')
  local = builders.to_checkpoint(trainer, state)
  shapes = lambda tree: jax.tree.map(lambda x: (x.shape, x.dtype), tree)
  # A local head is a training device (read by no evaluation): a network without it takes
  # the module's own parameters, and a head the source lacks or has in another shape (its
  # head_conv, its classes) starts from its initialisation.
  def carried(k, name, value):
    if not name.startswith('local_head/'):
      return True
    ours = local.params[k - 1] if k <= len(local.params) else {}
    return name in ours and shapes(ours[name]) == shapes(value)
  source_params = tuple({name: v for name, v in p.items() if carried(k, name, v)}
                        for k, p in enumerate(source_params, start=1))
  if len(source_params) < max(filled):
    raise checks.ConfigError('init_from', source, f'it has {len(source_params)} modules, '
                             f'and init_modules fills up to module {max(filled)}',
                             'give a run of the same model and dataset keys')
  frozen = builders.frozen_modules(config, num_modules)
  params, fresh = list(local.params), []
  for k in filled:
    theirs, ours = source_params[k - 1], local.params[k - 1]
    new = sorted(n for n in ours if n not in theirs)
    if (set(theirs) - set(ours) or shapes(theirs) != shapes({n: ours[n] for n in theirs})
        or any(not n.startswith(('skip_from_', 'local_head/')) for n in new)):
      raise checks.ConfigError('init_from', source, f'its module {k} does not have this '
                               "network's parameter shapes", 'give a run of the same model '
                               'and dataset keys')
    new_skips = [n for n in new if n.startswith('skip_from_')]
    if new_skips and k in frozen:
      raise checks.ConfigError('init_from', source, f'module {k} is frozen and reads skip '
                               f'edges the source did not have ({", ".join(new_skips)}): they '
                               'would stay at their random initialisation', 'let the module '
                               'learn (module_lr_scales), or drop those skips')
    params[k - 1] = {**ours, **theirs}
    fresh += [f'{k}:{n}' for n in new]
  if fresh:
    print(f'init_from: new skip and local-head parameters start from their initialisation: '
          f'{", ".join(fresh)}', flush=True)
  return builders.from_checkpoint(trainer, local._replace(params=tuple(params)), config,
                                  frame_shape)
