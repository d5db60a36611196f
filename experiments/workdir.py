"""The run folder: checks before anything is written, config.json with what ran where, a
rerun's config compared with the recorded one, and result.json written atomically."""

import errno
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import jax
import ml_collections

import sideways_jax as sj

from . import checks

# Keys a rerun may change and still resume: they change how long and how often, not what.
RESUMABLE_CHANGES = ('num_steps', 'log_every', 'eval_every', 'checkpoint_every',
                     'keep_checkpoints', 'eval_clips', 'eval_raw', 'dataset.cache',
                     'frozen_cache_gb', 'dataset.max_bad_fraction')
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


LOCK_FILE = '.lock'


def _pid_alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except OSError:  # e.g. EPERM: it exists, owned by another user
    return True
  return True


def _holder(info):
  """`pid 123 on host h, started 2026-...` from a lock file's JSON (or what is known)."""
  if not isinstance(info, dict) or 'pid' not in info:
    return 'an unknown process (its lock file names none)'
  command = str(info.get('command', ''))
  command = command if len(command) <= 120 else command[:117] + '...'
  return (f'pid {info.get("pid")} on host {info.get("host", "?")}, started '
          f'{info.get("start_time", "?")}: {command}'.rstrip(': '))


class WorkdirLock:
  """An exclusive lock on a run folder for the whole run: `fcntl.flock` on DIR/.lock (the
  kernel releases it when the process dies, however it dies), and a small JSON in it
  naming the holder (pid, host, start time, command) for the message a second launcher
  gets. A clean exit removes the file; one left by a killed process is taken over with one
  line saying so.

    with WorkdirLock(workdir) as lock:   # FlagError if another run holds it
      ...                                # lock.created: the folder was made here
  """

  def __init__(self, workdir):
    self.workdir = workdir
    self.path = os.path.join(workdir, LOCK_FILE)
    self.created = False
    self._fd = None

  def __enter__(self):
    self.created = create(self.workdir)
    try:
      self._acquire()
    except BaseException:
      if self.created:
        shutil.rmtree(self.workdir, ignore_errors=True)
      raise
    return self

  def _acquire(self):
    while True:
      fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
      try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except OSError as err:
        info = _read_lock(fd)
        os.close(fd)
        if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
          raise checks.FlagError(f'--workdir={self.workdir}: cannot lock {self.path} '
                                 f'({err.strerror}); give a folder on a local disk') from err
        raise checks.FlagError(
            f'--workdir={self.workdir} is in use by another run ({_holder(info)}); wait for '
            'it to finish or stop it, or give another --workdir') from None
      try:  # the file may have been removed by its last holder between open and flock
        same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
      except FileNotFoundError:
        same = False
      if same:
        break
      os.close(fd)
    stale = _read_lock(fd)
    if stale is not None:
      host = stale.get('host') if isinstance(stale, dict) else None
      pid = stale.get('pid') if isinstance(stale, dict) else None
      here = host == socket.gethostname()
      state = ('which is no longer running' if here and isinstance(pid, int)
               and not _pid_alive(pid) else 'which no longer holds it')
      print(f'{self.workdir}: taking over the lock left by {_holder(stale)}, {state} (it '
            'was killed or crashed)', file=sys.stderr, flush=True)
    info = {'pid': os.getpid(), 'host': socket.gethostname(),
            'start_time': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
            'command': ' '.join(sys.argv)}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    os.fsync(fd)
    self._fd = fd

  def __exit__(self, *exc):
    self.release()

  def release(self):
    """Removes the lock file (while still holding it, so no one else can be between), then
    unlocks."""
    if self._fd is None:
      return
    try:
      os.remove(self.path)
    except OSError:
      pass  # already gone (a failed start removed the folder)
    os.close(self._fd)
    self._fd = None


def _read_lock(fd):
  """The JSON in an open lock file, None when empty, {} when unreadable."""
  try:
    raw = os.pread(fd, 4096, 0)
  except OSError:
    return {}
  if not raw.strip():
    return None
  try:
    return json.loads(raw)
  except ValueError:
    return {}


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
  return _read_json(path, workdir, "the run's record of its config (and of what ran "
                    'where)', 'restore it from a copy, or start the run again in a new '
                    '--workdir')


def _read_json(path, workdir, what, fix):
  """A JSON file of the run folder; damaged, it is one FlagError line naming it and `fix`."""
  try:
    with open(path) as f:
      return json.load(f)
  except ValueError as err:
    raise checks.FlagError(f'--workdir={workdir}: {path} is damaged (not valid JSON: '
                           f'{err}); it is {what}: {fix}') from err


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
  return _read_json(path, workdir, "the finished run's final evaluation",
                    'delete it (python -m experiments.evaluate --workdir=... recomputes it '
                    'from the last checkpoint) and rerun')
