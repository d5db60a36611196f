"""Stopping and resuming a run of experiments.train: SIGINT / SIGTERM (save, then stop),
reopening a run folder (its newest checkpoint, config.json), and the iterator replay that
makes a resumed run's kept clips bitwise those of an uninterrupted one.
"""

import os
import signal
import threading
import time

from . import checks
from . import workdir as workdir_lib


class Interrupted(Exception):
  """SIGINT / SIGTERM: the run saved a checkpoint and stopped."""

  def __init__(self, signum, step):
    self.signum = signum
    name = signal.Signals(signum).name
    super().__init__(f'{name}: stopped at step {step} with a checkpoint; rerun the same '
                     'command to resume.' if step else
                     f'{name}: stopped before the first step; nothing was kept.')


class Signals:
  """While active, SIGINT / SIGTERM set `received`; the loop saves and stops. A second one
  quits at once without saving."""

  def __init__(self):
    self.received = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def _handle(self, signum, frame):
    del frame
    name = signal.Signals(signum).name
    if self.received is not None:
      os.write(2, f'{name} again: quitting without saving.\n'.encode())
      os._exit(128 + signum)  # pylint: disable=protected-access
    self.received = signum
    os.write(2, f'{name}: saving a checkpoint after this step, then exiting (send it again '
                'to quit without saving).\n'.encode())

  def __exit__(self, *exc):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


def open_run(config, workdir, store, abstract, config_file):
  """Checks the folder (made and locked already) against a previous run, restores its
  newest checkpoint (or None), writes config.json. Returns (restored, files written by a
  fresh start)."""
  resuming = bool(store.steps())
  if resuming:
    info = workdir_lib.check_same_run(workdir, config)
  elif workdir_lib.read_result(workdir) is not None:
    raise checks.FlagError(f'--workdir={workdir} holds a finished run without checkpoints '
                           '(result.json); use a new --workdir')
  restored = _restore(store, abstract, workdir) if resuming else None
  if restored is None:
    info = workdir_lib.run_info(config_file)
  elif restored.step > config.num_steps:
    raise checks.ConfigError('num_steps', config.num_steps, 'the run already has a '
                             f'checkpoint at step {restored.step}',
                             f'give --config.num_steps={restored.step} or more')
  elif restored.step == config.num_steps:
    print(f'the run is finished (step {restored.step}); its result:', flush=True)
  else:
    info.setdefault('resumes', []).append({'step': restored.step,
                                           'time': time.strftime('%Y-%m-%dT%H:%M:%S%z')})
    print(f'resuming from the checkpoint at step {restored.step} in {store.directory}',
          flush=True)
  workdir_lib.write_config(workdir, config, info)
  written = [] if resuming else [workdir_lib.config_path(workdir),
                                 os.path.join(workdir, 'metrics.jsonl')]
  return restored, written


def _restore(store, abstract, workdir):
  """The newest readable checkpoint (a corrupt one is a CorruptCheckpointWarning)."""
  try:
    return store.restore_latest(abstract)
  except ValueError as err:
    raise checks.FlagError(f'--workdir={workdir}: {err}') from err
