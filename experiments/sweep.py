"""Runs a list of config overrides one after another, skipping runs already finished.

  python -m experiments.sweep --sweep=experiments/sweeps/screen25.py --root=workdirs/screen25
  python -m experiments.sweep --sweep=... --root=... --only=sideways_input --parallel=2

A sweep file defines `RUNS`: a dict name -> {config key: value} (dotted keys, as on the
command line), and optionally `CONFIG` (the config file, default
experiments/configs/default.py; an entry's own `'config'` key, e.g.
`'experiments/configs/default.py:appearance'`, overrides it for that entry) and `SEEDS` (run every entry once per seed, the workdir
named `NAME/seed_S`). Each run is `python -m experiments.train` in its own workdir
`ROOT/NAME[/seed_S]`; a run counts as finished when its workdir holds `result.json`
(written by the launcher at the end) of at least the entry's `num_steps`, so a sweep can be
stopped and restarted over several sittings, and raising an entry's `num_steps` takes its
finished run further (the launcher resumes it: `num_steps` is a resumable change).
`--parallel=N` runs N at a time, each pinned to its own CPU core on Linux.
While a run trains, its workdir holds `sweep.lock` (the training process id): a second
sweep on the same root skips that run instead of training it again into the same folder.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

_SWEEP = flags.DEFINE_string('sweep', None, 'Sweep file defining RUNS.', required=True)
_ROOT = flags.DEFINE_string('root', None, 'Folder holding one workdir per run.',
                            required=True)
_ONLY = flags.DEFINE_list('only', [], 'Run only these names (prefix match).')
_PARALLEL = flags.DEFINE_integer('parallel', 1, 'Runs at a time (each on its own core).')
_DRY = flags.DEFINE_bool('dry_run', False, 'Print the commands only.')


_PACKAGE = __package__ or 'experiments'  # installed: sideways_jax.experiments
_SWEEPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sweeps')


def load_sweep(path):
  # A file of the sweeps folder loads as a module of that package (experiments.sweeps.NAME,
  # installed sideways_jax.experiments.sweeps.NAME), so its relative imports resolve.
  name = 'sweep_file'
  if os.path.samefile(os.path.dirname(os.path.abspath(path)), _SWEEPS_DIR):
    name = f'{_PACKAGE}.sweeps.{os.path.splitext(os.path.basename(path))[0]}'
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def expand(module):
  """(name, workdir suffix, overrides) for every run of the sweep file."""
  seeds = getattr(module, 'SEEDS', None)
  runs = []
  for name, overrides in module.RUNS.items():
    if seeds is None:
      runs.append((name, name, dict(overrides)))
    else:
      for seed in seeds:
        runs.append((name, os.path.join(name, f'seed_{seed}'), {**overrides, 'seed': seed}))
  return runs


def command(config_file, workdir, overrides):
  overrides = dict(overrides)
  config_file = overrides.pop('config', config_file)  # an entry's own config file / variant
  args = [sys.executable, '-m', f'{_PACKAGE}.train', f'--config={config_file}',
          f'--workdir={workdir}']
  for key, value in overrides.items():
    args.append(f'--config.{key}={value}')
  return args


def finished(workdir, num_steps=None):
  """Whether the run in `workdir` ended (its result.json), at `num_steps` or later if given."""
  path = os.path.join(workdir, 'result.json')
  if not os.path.exists(path):
    return False
  if num_steps is None:
    return True
  try:
    with open(path) as f:
      return json.load(f).get('step', 0) >= int(num_steps)
  except (ValueError, OSError):  # unreadable: run it again (the launcher resumes)
    return False


LOCK = 'sweep.lock'  # in a run's workdir while some sweep runs it: the training process id


def _alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # another user's process: alive
    return True
  return True


def running_elsewhere(workdir):
  """The pid of a live process that a sweep started in `workdir`, else None (no lock, or a
  stale one left by a run that died)."""
  try:
    with open(os.path.join(workdir, LOCK)) as f:
      pid = int(f.read().strip() or 0)
  except (FileNotFoundError, ValueError):
    return None
  return pid if pid > 0 and _alive(pid) else None


def _skip_if_running(workdir, suffix):
  """True (and says so) when another sweep's run is training in `workdir`: two sweeps on
  one root would otherwise train the same run into one folder."""
  pid = running_elsewhere(workdir)
  if pid is not None:
    print(f'running elsewhere (pid {pid}), skipped: {suffix}', flush=True)
  return pid is not None


def write_lock(workdir, pid):
  path = os.path.join(workdir, LOCK)
  with open(path + '.tmp', 'w') as f:
    f.write(str(pid))
  os.replace(path + '.tmp', path)


def release_lock(workdir):
  try:
    os.remove(os.path.join(workdir, LOCK))
  except FileNotFoundError:
    pass


def main(argv):
  del argv
  module = load_sweep(_SWEEP.value)
  config_file = getattr(module, 'CONFIG', 'experiments/configs/default.py')
  runs = [r for r in expand(module)
          if not _ONLY.value or any(r[0].startswith(p) for p in _ONLY.value)]
  todo = []
  for name, suffix, overrides in runs:
    workdir = os.path.join(_ROOT.value, suffix)
    if finished(workdir, overrides.get('num_steps')):
      print(f'done already: {suffix}', flush=True)
      continue
    if _skip_if_running(workdir, suffix):
      continue
    todo.append((suffix, workdir, command(config_file, workdir, overrides)))
  print(f'{len(todo)} of {len(runs)} runs to do', flush=True)
  if _DRY.value:
    for _, _, cmd in todo:
      print(' '.join(cmd[1:]))
    return
  cores = list(range(os.cpu_count() or 1))
  running = {}  # core -> (suffix, process, start)
  failed = []
  while todo or running:
    while todo and len(running) < _PARALLEL.value:
      core = next(c for c in cores if c not in running)
      suffix, workdir, cmd = todo.pop(0)
      os.makedirs(workdir, exist_ok=True)
      if _skip_if_running(workdir, suffix):  # another sweep may have started it meanwhile
        continue
      write_lock(workdir, os.getpid())
      if _PARALLEL.value > 1 and sys.platform.startswith('linux'):
        cmd = ['taskset', '-c', str(core % len(cores))] + cmd
      log = open(os.path.join(workdir, 'stdout.log'), 'w')
      print(f'start {suffix}: {" ".join(cmd)}', flush=True)
      proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
      write_lock(workdir, proc.pid)  # the run itself: it outlives a killed sweep
      running[core] = (suffix, workdir, proc, time.time())
    time.sleep(2)
    for core, (suffix, workdir, proc, start) in list(running.items()):
      if proc.poll() is None:
        continue
      del running[core]
      release_lock(workdir)
      minutes = (time.time() - start) / 60
      if proc.returncode:
        failed.append(suffix)
        print(f'FAILED {suffix} (exit {proc.returncode}, {minutes:.1f} min)', flush=True)
      else:
        print(f'finished {suffix} in {minutes:.1f} min', flush=True)
  if failed:
    print('failed: ' + ', '.join(failed), flush=True)
    sys.exit(1)


if __name__ == '__main__':
  app.run(main)
