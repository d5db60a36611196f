"""The run folder: checks before anything is written, config.json with what ran where, a
rerun's config compared with the recorded one, and result.json written atomically."""

import json
import os
import shutil
import subprocess
import sys
import time

import jax
import ml_collections

import sideways_jax as sj

from experiments import checks

# Keys a rerun may change and still resume: they change how long and how often, not what.
RESUMABLE_CHANGES = ('num_steps', 'log_every', 'eval_every', 'checkpoint_every',
                     'keep_checkpoints', 'eval_clips', 'eval_raw', 'dataset.cache',
                     'frozen_cache_gb')
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check_writable(workdir):
  """Refuses a workdir that is a file, or that cannot be created or written."""
  path = os.path.abspath(workdir)
  if os.path.exists(path) and not os.path.isdir(path):
    raise checks.FlagError(f'--workdir={workdir} is a file, not a folder; give a folder path')
  probe = path
  while not os.path.exists(probe):
    probe = os.path.dirname(probe)
  if not os.path.isdir(probe):
    raise checks.FlagError(f'--workdir={workdir} cannot be created: {probe} is a file; give '
                           'another folder path')
  if not os.access(probe, os.W_OK | os.X_OK):
    raise checks.FlagError(f'--workdir={workdir} cannot be written ({probe} is not writable);'
                           ' give a folder you can write')


def create(workdir):
  """Creates the folder (returns whether it was new); OSError becomes one FlagError line."""
  existed = os.path.isdir(workdir)
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, f'.write_probe.{os.getpid()}')
    with open(probe, 'w') as f:
      f.write('ok')
    os.remove(probe)
  except OSError as err:
    raise checks.FlagError(f'--workdir={workdir} cannot be written ({err.strerror}); give a '
                           'folder you can write') from err
  return not existed


def remove_failed_start(workdir, created, written):
  """Leaves no trace of a start that failed before its first step: the folder if this run
  created it, else the files it wrote."""
  if created:
    shutil.rmtree(workdir, ignore_errors=True)
    return
  for path in written:
    if os.path.isfile(path):
      os.remove(path)


def _commit():
  try:
    out = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=_REPO, capture_output=True,
                         text=True, timeout=10, check=True).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                           cwd=_REPO, capture_output=True, text=True, timeout=10).stdout
    return out + ('+dirty' if dirty.strip() else '')
  except (OSError, subprocess.SubprocessError):
    return 'unknown'


def run_info(config_file=None):
  """What ran where: package version, git commit, devices, start time, command line and
  the config file (`PATH[:ARG]`, absolute)."""
  if config_file:
    path, sep, arg = config_file.partition(':')
    config_file = os.path.abspath(path) + sep + arg
  return {'version': sj.__version__, 'commit': _commit(),
          'devices': [str(d) for d in jax.devices()],
          'start_time': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
          'command': ' '.join(sys.argv), 'config_file': config_file}


def write_json(path, obj):
  """`obj` as JSON at `path`, written whole or not at all (a temp file, then a rename);
  its folder is made if missing."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = f'{path}.tmp.{os.getpid()}'
  with open(tmp, 'w') as f:
    json.dump(obj, f, indent=1)
    f.write('\n')
  os.replace(tmp, path)


def config_path(workdir):
  return os.path.join(workdir, 'config.json')


def write_config(workdir, config, info):
  """config.json: the resolved config, plus `run_info` (version, commit, devices, ...)."""
  write_json(config_path(workdir), {**json.loads(config.to_json()), 'run_info': info})


def read_record(workdir):
  path = config_path(workdir)
  if not os.path.isfile(path):
    raise checks.FlagError(f'--workdir={workdir} has no config.json: it is not a run folder '
                           'written by experiments.train')
  with open(path) as f:
    return json.load(f)


def read_config(workdir):
  """The resolved config of a run folder, as an ml_collections ConfigDict."""
  record = read_record(workdir)
  record.pop('run_info', None)
  return ml_collections.ConfigDict(record)


def config_changes(old: dict, new: dict, prefix=''):
  """Dotted keys whose values differ between two config dicts, with both values."""
  out = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key, '<missing>'), new.get(key, '<missing>')
    if isinstance(a, dict) and isinstance(b, dict):
      out.extend(config_changes(a, b, f'{prefix}{key}.'))
    elif a == '<missing>' and b is None:
      continue  # a key added since the run started, left unset: it changes nothing
    elif a != b:
      out.append((prefix + key, a, b))
  return out


def check_same_run(workdir, config):
  """A rerun resumes only the run it was started as: other changes than RESUMABLE_CHANGES
  are refused, naming them."""
  old = read_record(workdir)
  info = old.pop('run_info', {})
  changes = [c for c in config_changes(old, json.loads(config.to_json()))
             if c[0] not in RESUMABLE_CHANGES]
  if changes:
    listed = ', '.join(f'{k}: {a!r} -> {b!r}' for k, a, b in changes[:3])
    more = f' and {len(changes) - 3} more' if len(changes) > 3 else ''
    raise checks.FlagError(f'--workdir={workdir} holds a run with another config ({listed}'
                           f'{more}); rerun with its flags to resume it, or use a new '
                           '--workdir')
  return info


def write_result(workdir, result):
  write_json(os.path.join(workdir, 'result.json'), result)


def read_result(workdir):
  path = os.path.join(workdir, 'result.json')
  if not os.path.isfile(path):
    return None
  with open(path) as f:
    return json.load(f)
