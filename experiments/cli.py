"""Command-line plumbing shared by the launchers: flag parsing that answers every mistake in
one line (exit 2), config files found from any directory, `--help` with every config key,
and the one-line report of errors met while running."""

import difflib
import importlib.util
import os
import sys
import traceback
import warnings

from absl import app
from absl import flags
from absl import logging

from sideways_jax.data import errors as data_errors

from . import checks
from .configs import keys

# The repository root (installed: site-packages/sideways_jax, which holds experiments/ too,
# so `experiments/configs/default.py` resolves in both), and the configs next to this file.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'configs')
DEFAULT_CONFIG = os.path.join(CONFIG_DIR, 'default.py')

EXIT_USAGE = 2       # a bad flag, config value or input: fix the command
EXIT_FAILURE = 1     # the run failed (a NaN, a disk error)

_HELP = ('--help', '-h', '-?', '--helpshort')


def _fail(message, code=EXIT_USAGE):
  sys.stderr.write(f'error: {message}\n')
  sys.stderr.flush()
  sys.exit(code)


def show_warning(message, category, filename, lineno, file=None, line=None):
  """warnings.showwarning that prints `warning: message` and nothing else."""
  del category, filename, lineno, file, line
  sys.stderr.write(f'warning: {message}\n')


def resolve_config_path(value):
  """`PATH[:ARG]` with PATH found relative to the working directory, the repository (so
  `experiments/configs/default.py` works anywhere) or the configs folder."""
  path, sep, arg = value.partition(':')
  for base in ('', REPO, CONFIG_DIR):
    candidate = os.path.join(base, path) if base else path
    if os.path.isfile(candidate):
      return os.path.abspath(candidate) + sep + arg
  raise checks.FlagError(f'--config={value}: no such config file (looked in the working '
                         f'directory, {REPO} and {CONFIG_DIR}); the experiment configs are '
                         'experiments/configs/default.py[:VARIANT]')


def load_config(value):
  """Runs `get_config([ARG])` of the config file `PATH[:ARG]`."""
  path, _, arg = value.partition(':')
  try:
    spec = importlib.util.spec_from_file_location('_experiment_config', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg) if arg else module.get_config()
  except Exception as err:  # pylint: disable=broad-except  (user code: report, don't crash)
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    raise checks.FlagError(f'--config={value}: {first}') from err


def _config_arg(argv):
  """(index, value) of the last --config flag in argv (the one absl keeps), or (None, None)."""
  found = None, None
  for i, arg in enumerate(argv):
    if arg.startswith('--config='):
      found = i, arg[len('--config='):]
    elif arg == '--config' and i + 1 < len(argv):
      found = i + 1, argv[i + 1]
  return found


def check_override_keys(config, argv):
  """Every `--config.KEY=...` must name a key of the config (ml_collections would raise a
  bare AttributeError); the error suggests the nearest key."""
  names = keys.flat_keys(config)
  for arg in argv:
    if not arg.startswith('--config.'):
      continue
    key = arg[len('--config.'):].split('=', 1)[0]
    if checks.get(config, key, _MISSING) is not _MISSING:
      continue
    if key.startswith('dataset.kwargs.'):
      new = 'dataset.' + key[len('dataset.kwargs.'):]
      raise checks.FlagError(f'--config.{key}: dataset options are plain keys now; use '
                             f'--config.{new}=...')
    if key == 'dataset.root':
      raise checks.FlagError('--config.dataset.root: this config reads no local files; the '
                             'real-data configs do, e.g. '
                             '--config=experiments/configs/default.py:ucf101')
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f'did you mean --config.{close[0]}? ' if close else ''
    raise checks.FlagError(f'--config.{key}: no such config key; {hint}(--print_config '
                           'lists every key)')


_MISSING = object()


def usage(doc):
  if 'config' not in flags.FLAGS:  # a tool without --config (experiments.evaluate)
    return doc.strip() + '\n'
  default = load_config(DEFAULT_CONFIG)
  return (f'{doc.strip()}\n\nConfig keys (--config.KEY=VALUE), with the default config\'s '
          f'values:\n\n{keys.describe(default)}\n\nReal-data variants add dataset.root, '
          'fold, temporal_stride, flip, num_workers (--print_config shows a variant\'s).\n')


def parse_flags(argv, doc):
  """An absl flags_parser: --help prints `doc` and every config key; any mistake in a flag
  or a config override is one `error:` line and exit 2."""
  if any(a in _HELP for a in argv[1:]):
    print(usage(doc))
    sys.exit(0)
  argv = list(argv)
  try:
    index, value = _config_arg(argv)
    if index is not None or 'config' in flags.FLAGS:
      value = resolve_config_path(value if index is not None else DEFAULT_CONFIG)
      if index is not None:
        argv[index] = ('--config=' + value) if argv[index].startswith('--config=') else value
      check_override_keys(load_config(value), argv)
    return flags.FLAGS(argv)
  except checks.FlagError as err:
    _fail(str(err))
  except flags.Error as err:
    _fail(str(err).splitlines()[0])
  except Exception as err:  # pylint: disable=broad-except  (e.g. ml_collections internals)
    _fail(f'{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ""}')
  return None


_TRACEBACK = flags.DEFINE_bool('traceback', False,
                               'Show the full traceback of an error (for bug reports).')

# Errors that are the user's to fix, reported in one line, and their exit codes.
_ONE_LINE = ((checks.ConfigError, EXIT_USAGE), (checks.FlagError, EXIT_USAGE),
             (checks.InputError, EXIT_USAGE), (data_errors.DataError, EXIT_USAGE),
             (checks.NonFiniteError, EXIT_FAILURE),
             (OSError, EXIT_FAILURE))


def run(main, doc):
  """app.run(main) with one-line errors: config, flag and input errors exit 2; a NaN stop
  or an OS error exits 1; other exceptions (bugs) keep their traceback."""

  def wrapped(argv):
    if not flags.FLAGS['verbosity'].present:  # orbax logs every save at INFO
      logging.set_verbosity(logging.WARNING)
    warnings.showwarning = show_warning
    try:
      return main(argv)
    except Exception as err:  # pylint: disable=broad-except
      if _TRACEBACK.value:
        raise
      for kind, code in _ONE_LINE:
        if isinstance(err, kind):
          text = str(err).splitlines()[0] if str(err) else type(err).__name__
          if kind is OSError:
            text = f'{type(err).__name__}: {text}'
          _fail(text, code)
      raise
    except KeyboardInterrupt:
      _fail('interrupted', 130)

  try:
    app.run(wrapped, flags_parser=lambda argv: parse_flags(argv, doc))
  except SystemExit:
    raise
  except BaseException:  # pragma: no cover  (absl re-raises after printing)
    traceback.print_exc()
    sys.exit(EXIT_FAILURE)
