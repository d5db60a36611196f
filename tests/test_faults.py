"""Nothing lost, nothing silent (issue 35): one run per workdir, data errors met mid-run,
corrupt checkpoints and config files, each one line and none costing training progress."""

import json
import os
import socket
import subprocess
import sys
import warnings

import numpy as np
import pytest

from experiments import checks
from experiments import evaluate
from experiments import train
from experiments import workdir as workdir_lib
from experiments.configs import default
from sideways_jax.data import batching

import test_data_real as fakes

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TINY = '--config=experiments/configs/default.py:tiny'


def _run(args, module='experiments.train'):
  env = dict(os.environ, PYTHONPATH=_REPO)
  return subprocess.run([sys.executable, '-m', module, *args], cwd=_REPO, env=env,
                        capture_output=True, text=True, timeout=120)


def _one_error_line(proc, status=2):
  lines = [l for l in proc.stderr.strip().splitlines() if not l.startswith('warning: ')]
  assert proc.returncode == status, proc.stderr
  assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr
  return lines[0]


def tiny(**overrides):
  config = default.get_config('tiny')
  config.update(overrides)
  return config


def _snapshot(workdir):
  """Every file of a run folder: its bytes and modification time."""
  out = {}
  for base, _, names in os.walk(workdir):
    for name in names:
      path = os.path.join(base, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, workdir)] = (f.read(), os.stat(path).st_mtime_ns)
  return out


_HOLD = ('import sys, time\n'
         'from experiments import workdir\n'
         'lock = workdir.WorkdirLock(sys.argv[1]).__enter__()\n'
         'print("held", flush=True)\n'
         'if sys.argv[2] == "die":\n'
         '  import os; os._exit(0)  # no release: a killed run\n'
         'time.sleep(120)\n')


def _holder(workdir, mode):
  env = dict(os.environ, PYTHONPATH=_REPO)
  proc = subprocess.Popen([sys.executable, '-c', _HOLD, workdir, mode], cwd=_REPO, env=env,
                          stdout=subprocess.PIPE, text=True)
  assert proc.stdout.readline().strip() == 'held'
  return proc


# ------------------------------------------------------------------ the workdir lock.
def test_second_launcher_on_a_busy_workdir_exits_and_touches_nothing(tmp_path):
  workdir = str(tmp_path / 'run')
  train.train_and_evaluate(tiny(num_steps=2), workdir)  # a finished run
  assert not os.path.exists(os.path.join(workdir, workdir_lib.LOCK_FILE))  # released
  holder = _holder(workdir, 'hold')
  try:
    before = _snapshot(workdir)
    proc = _run([_TINY, f'--workdir={workdir}', '--config.num_steps=4'])
    line = _one_error_line(proc)
    assert f'is in use by another run (pid {holder.pid} on host {socket.gethostname()}, ' \
           'started ' in line, line
    assert 'give another --workdir' in line
    assert _snapshot(workdir) == before  # result.json, metrics.jsonl, config.json intact
  finally:
    holder.kill()
    holder.wait()


def test_stale_lock_of_a_killed_run_is_taken_over_in_one_line(tmp_path, capsys):
  workdir = str(tmp_path / 'run')
  dead = _holder(workdir, 'die')
  dead.wait()
  assert os.path.isfile(os.path.join(workdir, workdir_lib.LOCK_FILE))  # left behind
  capsys.readouterr()
  train.train_and_evaluate(tiny(num_steps=2), workdir)
  err = capsys.readouterr().err
  lines = [l for l in err.splitlines() if 'taking over the lock' in l]
  assert len(lines) == 1, err
  assert f'pid {dead.pid} on host {socket.gethostname()}' in lines[0]
  assert 'which is no longer running' in lines[0]
  assert workdir_lib.read_result(workdir)['step'] == 2
  assert not os.path.exists(os.path.join(workdir, workdir_lib.LOCK_FILE))


def test_lock_is_exclusive_within_a_process_too(tmp_path):
  workdir = str(tmp_path / 'run')
  with workdir_lib.WorkdirLock(workdir) as lock:
    assert lock.created
    with pytest.raises(checks.FlagError, match=f'in use by another run \\(pid {os.getpid()}'):
      with workdir_lib.WorkdirLock(workdir):
        pass
  assert os.listdir(workdir) == []


# -------------------------------------------------------- data errors met mid-run.
def _ucf_config(root, num_steps, **overrides):
  config = default.get_config('ucf101')
  config.update({'num_steps': num_steps, 'batch_size': 1, 'eval_every': 100,
                 'checkpoint_every': 100, 'log_every': 1, 'eval_clips': 2,
                 'frames_per_clip': 4, 'module_lr_scales': '', **overrides})
  config.model.size = 'tiny'
  config.model.local_heads = ''
  config.dataset.update(root=root, resolution=16, num_workers=0, temporal_stride=1)
  return config


def _records(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [json.loads(line) for line in f]


def _corrupt(path):
  with open(path, 'wb') as f:
    f.write(b'RIFF garbage, not a video' * 10)


def test_bad_training_video_mid_run_keeps_the_steps_and_resumes(tmp_path):
  root, workdir = str(tmp_path / 'ucf'), str(tmp_path / 'run')
  rels = fakes.make_ucf(root)
  train_rels = [rels[(c, g)] for c in range(2) for g in (2, 3)]  # fold 1's training list
  # The video of the third batch of epoch 0 (batch_size 1): steps 1 and 2 train.
  order = batching.epoch_order(len(train_rels), 0, seed=0)
  bad = os.path.join(root, 'UCF-101', train_rels[order[2]])
  good = open(bad, 'rb').read()
  _corrupt(bad)
  config = _ucf_config(root, 4)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    with pytest.raises(checks.InputError) as caught:
      train.train_and_evaluate(config, workdir)
  message = str(caught.value)
  assert '\n' not in message
  assert message.startswith('step 3: ') and bad in message, message
  assert 'the run kept a checkpoint of step 2' in message
  assert 'rerun the same command to resume' in message
  assert 'config.dataset.max_bad_fraction' in message
  assert os.path.isdir(os.path.join(workdir, 'checkpoints', '2'))
  assert [r['step'] for r in _records(workdir)] == [1, 2]
  with open(bad, 'wb') as f:  # the file replaced: the same command goes on from step 2
    f.write(good)
  train.train_and_evaluate(config, workdir)
  assert [r['step'] for r in _records(workdir) if r['split'] == 'train'] == [1, 2, 3, 4]


def test_bad_test_video_at_an_evaluation_keeps_the_step(tmp_path):
  root, workdir = str(tmp_path / 'ucf'), str(tmp_path / 'run')
  rels = fakes.make_ucf(root)
  bad = os.path.join(root, 'UCF-101', rels[(0, 1)])  # in fold 1's test list
  good = open(bad, 'rb').read()
  _corrupt(bad)
  config = _ucf_config(root, 4, eval_every=3)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    with pytest.raises(checks.InputError) as caught:
      train.train_and_evaluate(config, workdir)
  message = str(caught.value)
  assert message.startswith('evaluating step 3: ') and bad in message, message
  assert 'the run kept a checkpoint of step 3' in message
  assert os.path.isdir(os.path.join(workdir, 'checkpoints', '3'))  # checkpoint_every=100
  with open(bad, 'wb') as f:
    f.write(good)
  train.train_and_evaluate(config, workdir)  # resumes at 3 and runs its evaluation first
  evals = [r['step'] for r in _records(workdir) if r['split'] == 'eval']
  assert evals == [3, 4]


def test_bad_test_video_in_evaluate_is_one_line(tmp_path):
  root, workdir = str(tmp_path / 'ucf'), str(tmp_path / 'run')
  rels = fakes.make_ucf(root)
  train.train_and_evaluate(_ucf_config(root, 1), workdir)
  _corrupt(os.path.join(root, 'UCF-101', rels[(0, 1)]))
  line = _one_error_line(_run([f'--workdir={workdir}'], 'experiments.evaluate'))
  assert rels[(0, 1)] in line and 'max_bad_fraction' in line


def test_nonfinite_input_frames_name_the_data(tmp_path):
  batch = {'frames': np.zeros((2, 3, 4, 4, 3), np.float32),
           'video_ids': np.array([[5, 5, 5], [7, 7, 7]])}
  train._check_frames(batch, 1, None)  # finite: nothing
  batch['frames'][1, 2, 0, 0, 0] = np.inf

  class Dataset:
    paths = [f'/videos/{i}.avi' for i in range(8)]

  with pytest.raises(train.DataInputError, match=r'step 9: the input frames hold 1 NaN or '
                     r'Inf values \(1 of 2 clips; /videos/7.avi\); the data is broken, not '
                     r'the learning rate'):
    train._check_frames(batch, 9, Dataset())


# ----------------------------------------------- corrupt checkpoints and config files.
def _truncate_data_files(step_dir):
  for base, _, names in os.walk(os.path.join(step_dir, 'state')):
    if os.path.basename(base) == 'd':
      for name in names:
        path = os.path.join(base, name)
        os.truncate(path, os.path.getsize(path) // 2)


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('finished') / 'run')
  train.train_and_evaluate(tiny(), workdir)  # checkpoints 2 and 4
  return workdir


def _copy(src, dst):
  import shutil  # pylint: disable=g-import-not-at-top
  shutil.copytree(src, dst)
  return dst


def test_evaluate_falls_back_from_a_truncated_checkpoint_without_tracebacks(finished,
                                                                              tmp_path):
  workdir = _copy(finished, str(tmp_path / 'run'))
  _truncate_data_files(os.path.join(workdir, 'checkpoints', '4'))
  proc = _run([f'--workdir={workdir}'], 'experiments.evaluate')
  assert proc.returncode == 0, proc.stderr
  assert 'Traceback' not in proc.stderr and 'Event loop is closed' not in proc.stderr, \
      proc.stderr[:2000]
  assert json.loads(proc.stdout.splitlines()[-1])['step'] == 2
  assert 'warning: checkpoint 4 cannot be read' in proc.stderr


def test_every_checkpoint_corrupt_is_one_line(finished, tmp_path):
  workdir = _copy(finished, str(tmp_path / 'run'))
  for step in ('2', '4'):
    _truncate_data_files(os.path.join(workdir, 'checkpoints', step))
  line = _one_error_line(_run([f'--workdir={workdir}'], 'experiments.evaluate'))
  assert 'none of the 2 checkpoints' in line and 'train it again' in line
  assert 'Traceback' not in line
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    with pytest.raises(checks.FlagError, match='none of the 2 checkpoints.*moved to'):
      train.train_and_evaluate(tiny(num_steps=6), workdir)


def test_config_json_not_json_is_one_line(finished, tmp_path):
  workdir = _copy(finished, str(tmp_path / 'run'))
  with open(os.path.join(workdir, 'config.json'), 'w') as f:
    f.write('{"seed": 0, "num_st')
  line = _one_error_line(_run([f'--workdir={workdir}'], 'experiments.evaluate'))
  assert 'config.json is damaged (not valid JSON' in line and 'new --workdir' in line
  with pytest.raises(checks.FlagError, match='config.json is damaged'):
    train.train_and_evaluate(tiny(num_steps=6), workdir)
  with pytest.raises(checks.FlagError, match='config.json is damaged'):
    evaluate.evaluate_workdir(workdir)


# ------------------------------------------- misleading or silent config cases: one line.
@pytest.mark.parametrize('overrides, expected', [
    ({'model.head_conv': -5}, r"model.head_conv=-5: the channels of the classifier's 3x3 "
                              r'conv .* must be an integer >= 0'),
    ({'model.width': 0}, r'model.width=0.0: .*finite number > 0; set e.g. '
                         r'--config.model.width=0.5'),
    ({'model.width': 3e-4}, r'model.width=0.0003: its narrowest layer \(8 channels in '
                            r"model.size='tiny'\) would get 0.0024 channels, less than one"),
    ({'module_lr_scales': '0,0,0'}, r"module_lr_scales='0,0,0': every one of the 3 modules "
                                    r'is at rate 0 .*module_lr_scales=0,0\.'),
    ({'dataset.temporal_stride': 0}, r'dataset.temporal_stride=0: .* must be an integer >= '
                                     r'1'),
    ({'dataset.temporal_stride': -2}, r'dataset.temporal_stride=-2: '),
    ({'learning_rate': 1e300}, r'learning_rate=1e\+300: no optimizer here trains at a rate '
                               r'above 1000'),
])
def test_silent_or_misleading_configs_are_refused(overrides, expected, tmp_path):
  config = tiny()
  for key, value in overrides.items():
    if key == 'dataset.temporal_stride':  # a real-data key; tiny's dataset has none
      config = _ucf_config(str(tmp_path / 'ucf'), 2)
      config.dataset.temporal_stride = value
      continue
    node = config
    *path, last = key.split('.')
    for part in path:
      node = node[part]
    node[last] = value
  workdir = str(tmp_path / 'run')
  with pytest.raises(checks.ConfigError, match=expected):
    train.train_and_evaluate(config, workdir)
  assert not os.path.exists(workdir)


def test_width_that_keeps_a_channel_everywhere_is_accepted():
  config = tiny()
  config.model.width = 1 / 8
  checks.check_config(config)


def test_empty_workdir_is_refused_and_a_default_one_is_printed():
  line = _one_error_line(_run([_TINY, '--workdir=', '--config.num_steps=1']))
  assert '--workdir is empty' in line


def test_skips_help_names_every_part_of_the_grammar():
  from experiments.configs import keys  # pylint: disable=g-import-not-at-top
  text = keys.KEYS['skips'] if hasattr(keys, 'KEYS') else keys.describe(default.get_config())
  for part in ('bilinear', 'detach', 'taps', '0/2/4'):
    assert part in text, part


@pytest.mark.parametrize('overrides, expected', [
    ({'model.hidden': 1_000_000_000}, r'model\.size.*the training state.*GiB.*a smaller '
                                      r'network'),
    ({'dataset.resolution': 100_000, 'dataset.cache': False},
     r'dataset\.resolution.*one batch of frames'),
    ({'dataset.resolution': 100_000}, r'dataset\.\*.*more memory than this machine has'
                                      r'.*dataset\.cache=False'),
])
def test_runs_that_cannot_fit_are_refused_before_allocating(overrides, expected, tmp_path):
  config = tiny()
  for key, value in overrides.items():
    section, name = key.split('.')
    config[section][name] = value
  workdir = str(tmp_path / 'run')
  with pytest.raises((checks.ConfigError, checks.InputError), match=expected) as err:
    train.train_and_evaluate(config, workdir)
  assert len(str(err.value).splitlines()) == 1
  assert not os.path.exists(workdir) or not os.listdir(workdir)


def test_memory_check_counts_every_part():
  config = tiny()
  checks.check_memory(config, 3, 3, 3, available=10)  # 9 <= 0.9 * 10: fits
  with pytest.raises(checks.ConfigError, match=r'dataset\.cache.*cache=False, or fewer'):
    checks.check_memory(config, 3, 3, 4, available=10)
