"""Every bad input is one clear line: the launcher's flags and config keys (exit status 2,
no traceback, no run folder left behind), and the engine's checks as the API and the
launcher surface them."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from unittest import mock
import warnings

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
import jax
from ml_collections import config_flags
import numpy as np
import optax

import sideways_jax as sj

from experiments import builders
from experiments import checks
from experiments import cli
from experiments import train
from experiments.configs import default

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TINY = '--config=experiments/configs/default.py:tiny'


def _run(args, module='experiments.train', cwd=_REPO):
  env = dict(os.environ, PYTHONPATH=_REPO)  # as `pip install -e .` would
  return subprocess.run([sys.executable, '-m', module, *args], cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=120)


def _parse_config(tiny, args):
  """The config the launcher would get from `--config=... --config.KEY=VALUE ...`: parsed
  by ml_collections' config flag on flags of its own (not absl's global ones)."""
  argv = ['train'] + [f'--config={cli.resolve_config_path(a[len("--config="):])}'
                      if a.startswith('--config=') else a for a in [*tiny, *args]]
  values = flags.FlagValues()
  # The overrides it accepts are read from `sys_argv` when the flag is defined.
  config_flags.DEFINE_config_file('config', cli.DEFAULT_CONFIG, flag_values=values,
                                  sys_argv=argv)
  values(argv)
  return values.config


class CommandLineTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.root = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
    self.workdir = os.path.join(self.root, 'run')

  def assert_one_line(self, proc, *expected, status=2):
    lines = proc.stderr.strip().splitlines()
    self.assertEqual(proc.returncode, status, proc.stderr)
    self.assertLen(lines, 1, proc.stderr)
    self.assertTrue(lines[0].startswith('error: '), lines[0])
    for text in expected:
      self.assertIn(text, lines[0])

  # Through the real command line (a process each, ~4 s of imports): every flag-parsing
  # mistake, and one error of each later kind (a config check, the network check after the
  # build, a dataset), so the whole path to one `error:` line and exit 2 is run.
  @parameterized.named_parameters(
      ('no_steps', ['--config.num_steps=0'], 'num_steps=0', 'at least one'),
      ('stages_over_modules', ['--config.stage_devices=6'], 'stage_devices=6',
       'at most 3 stage devices'),
      ('typo', ['--config.learning_rte=1'], 'learning_rte', '--config.learning_rate'),
      ('old_kwargs_key', ['--config.dataset.kwargs.level=dynamics'],
       'dataset.kwargs.level', '--config.dataset.level'),
      ('not_an_int', ['--config.num_steps=abc'], 'num_steps=abc', 'int'),
      ('missing_config', ['--config=experiments/configs/nope.py'], 'nope.py',
       'no such config file'),
      ('unknown_variant', ['--config=experiments/configs/default.py:ucf'], "'ucf'",
       'ucf101'),
      ('missing_root', ['--config=experiments/configs/default.py:ucf101',
                        '--config.dataset.root=/nonexistent/ucf101'], 'dataset',
       '/nonexistent/ucf101'),
      ('positional', ['extra'], 'unexpected arguments', '--config.KEY=VALUE'),
  )
  def test_bad_command_line_is_one_line_and_leaves_nothing(self, args, *expected):
    tiny = [] if any(a.startswith('--config=') for a in args) else [_TINY]
    proc = _run([*tiny, *args, f'--workdir={self.workdir}'])
    self.assert_one_line(proc, *expected)
    self.assertFalse(os.path.exists(self.workdir))

  # Every other bad value, in this process: ml_collections' own flag parser applies the
  # overrides, as on the command line, and the launcher's entry point must raise one of the
  # errors `cli.run` prints as one line (the command-line cases above show that it does).
  @parameterized.named_parameters(
      ('nan_lr', ['--config.learning_rate=nan'], 'learning_rate=nan', 'finite'),
      ('negative_lr', ['--config.learning_rate=-1'], 'learning_rate=-1.0', '> 0'),
      ('negative_hidden', ['--config.model.hidden=-1'], 'model.hidden=-1', '>= 0'),
      ('log_every_0', ['--config.log_every=0'], 'log_every=0', '>= 1'),
      ('eval_every_0', ['--config.eval_every=0'], 'eval_every=0', '>= 1'),
      ('eval_clips_0', ['--config.eval_clips=0'], 'eval_clips=0', '>= 1'),
      ('ema_decay_1', ['--config.ema_decay=1.0'], 'ema_decay=1.0', '[0, 1)'),
      ('frozen_cache_negative', ['--config.frozen_cache_gb=-1'], 'frozen_cache_gb=-1.0',
       '>= 0'),
      ('too_many_devices', ['--config.stage_devices=64'], 'stage_devices=64',
       'devices, but there are'),
      ('batch_over_data', ['--config.data_devices=3'], 'batch_size=2',
       'multiple of 3'),
      ('placed_backprop', ['--config.algorithm=backprop', '--config.stage_devices=2'],
       "algorithm='backprop'", 'gpipe'),
      ('algorithm', ['--config.algorithm=sidewise'], "algorithm='sidewise'", 'sideways'),
      ('clip_stream', ['--config.update_every=clip', '--config.stream=True'],
       "update_every='clip'", 'integer'),
      ('gpipe_stream', ['--config.algorithm=gpipe', '--config.stream=True'],
       'stream=True', 'gpipe'),
      ('lr_scales_too_many', ['--config.module_lr_scales=0,1,1,1'],
       "module_lr_scales='0,1,1,1'", '1 to 3'),
      ('lr_scales_negative', ['--config.module_lr_scales=-1'], "module_lr_scales='-1'",
       '>= 0'),
      ('lr_scales_not_numbers', ['--config.module_lr_scales=a,b'], "module_lr_scales='a,b'",
       "'0,0'"),
      ('wrong_dataset_option', ['--config.dataset.name=appearance'], 'dataset.level',
       'default.py:appearance'),
      ('unpoolable', ['--config=experiments/configs/default.py:moving_digits',
                      '--config.model.size=small',  # the variant itself does not pool
                      '--config.dataset.resolution=18'], 'dataset.resolution=18',
       'does not divide'),
      ('skips', ['--config.skips=bogus'], '--config.skips', 'bogus'),
      ('model_size', ['--config.model.size=huge'], '--config.model', 'huge'),
      ('head_conv_prediction', ['--config=experiments/configs/default.py:moving_digits',
                                '--config.model.head_conv=8'], 'head_conv=8',
       '--config.model.head_conv=0'),
      ('local_heads_bptt', ['--config.algorithm=bptt', '--config.model.local_heads=1'],
       'bptt', '--config.model.local_heads='),
      ('local_head_on_top', ['--config.model.local_heads=3'], 'module 3', '1..2'),
      ('local_heads_text', ['--config.model.local_heads=x'], "local_heads='x'", "'3,4'"),
      ('local_weight_0', ['--config.model.local_heads=1', '--config.model.local_weight=0'],
       'local_weight=0.0', '> 0'),
      ('local_head_frozen', ['--config.model.local_heads=1', '--config.module_lr_scales=0'],
       'frozen', '--config.module_lr_scales'),
      ('no_root', ['--config=experiments/configs/default.py:ucf101'], 'dataset.root',
       '--config.dataset.root=/data/ucf101'),
  )
  def test_bad_config_is_one_line_and_leaves_nothing(self, args, *expected):
    config = _parse_config([] if any(a.startswith('--config=') for a in args) else [_TINY],
                           args)
    with warnings.catch_warnings(record=True) as warned, self.assertRaises(
        (checks.ConfigError, checks.FlagError, checks.InputError)) as err:
      warnings.simplefilter('always')
      train.train_and_evaluate(config, self.workdir)
    message = str(err.exception)
    self.assertLen(message.splitlines(), 1, message)
    # The command line prints each warning of ours as a `warning:` line: none may come
    # before the error, or it would not be the one line.
    ours = [w for w in warned if w.filename.startswith(_REPO + os.sep)]
    self.assertEqual([str(w.message) for w in ours], [])
    for text in expected:
      self.assertIn(text, message)
    self.assertFalse(os.path.exists(self.workdir))

  def test_bad_keys_without_a_config_flag(self):
    # The default config is loaded while experiments.train is imported: still one line.
    for args, expected in ((['--config.num_step=3'], '--config.num_steps?'),
                           (['--config.dataset.kwargs.level=x'], '--config.dataset.level'),
                           (['--config.dataset.root=/x'], 'default.py:ucf101')):
      self.assert_one_line(_run([*args, f'--workdir={self.workdir}']), expected)
    self.assertFalse(os.path.exists(self.workdir))

  def test_workdir_that_is_a_file_or_cannot_be_written(self):
    path = os.path.join(self.root, 'a_file')
    with open(path, 'w') as f:
      f.write('x')
    self.assert_one_line(_run([_TINY, f'--workdir={path}']), 'is a file')
    self.assert_one_line(_run([_TINY, f'--workdir={path}/run']), 'cannot be created')
    unwritable = os.path.join(self.root, 'locked')
    os.makedirs(unwritable, mode=0o500)
    if os.access(unwritable, os.W_OK):  # root writes anywhere: use a folder no one can
      unwritable = '/proc'
    self.assert_one_line(_run([_TINY, f'--workdir={unwritable}/run']), 'cannot be written')

  def test_help_lists_every_key_and_print_config_dumps_a_variant(self):
    proc = _run(['--help'])
    self.assertEqual(proc.returncode, 0, proc.stderr)
    for key in ('learning_rate = 0.005  # peak learning rate', 'dataset.level',
                'update_every', 'model.hidden', '--print_config'):
      self.assertIn(key, proc.stdout)
    proc = _run(['--config=experiments/configs/default.py:ucf101', '--print_config',
                 '--config.dataset.root=/data/u'])
    self.assertEqual(proc.returncode, 0, proc.stderr)
    self.assertIn("dataset.root = '/data/u'  # folder of a real dataset", proc.stdout)
    self.assertIn('dataset.flip = True  # random horizontal flips', proc.stdout)

  def test_works_from_any_directory(self):
    proc = _run(['--config=experiments/configs/default.py:tiny', '--config.num_steps=0'],
                cwd=self.root)
    self.assert_one_line(proc, 'num_steps=0')  # found the config from another directory

  def test_evaluate_errors(self):
    self.assert_one_line(_run([f'--workdir={self.root}'], 'experiments.evaluate'),
                         'no config.json')
    self.assert_one_line(_run([f'--workdir={self.workdir}'], 'experiments.evaluate'),
                         'no such folder')
    self.assert_one_line(_run([], 'experiments.evaluate'), '--workdir is required')

  def test_control_errors(self):
    out = os.path.join(self.root, 'control.json')
    for args, expected in ((['--features=speed'], "unknown or empty feature set ['speed']"),
                           (['--train_clips=0'], '--train_clips=0: give a positive number'),
                           (['--num_distractors=9'], 'num_distractors must be an integer in'),
                           (['extra'], 'unexpected arguments')):
      self.assert_one_line(_run([*args, f'--out={out}'], 'experiments.control'), expected)
    self.assertFalse(os.path.exists(out))

  def test_control_writes_its_result(self):
    out = os.path.join(self.root, 'sub', 'control.json')
    proc = _run(['--train_clips=32', '--test_clips=16', '--steps=5', '--hidden=8',
                 f'--out={out}'], 'experiments.control')
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    with open(out) as f:
      self.assertEqual(json.load(f)['test_clips'], 16)

  def test_clip_cnn_errors(self):
    for args, expected in ((['--steps=0'], '--steps=0: give a positive number'),
                           (['--augment=flip'], "augment='flip': give distinct names")):
      self.assert_one_line(_run(args, 'experiments.clip_cnn'), expected)

  def test_every_tool_imports_beside_every_other(self):
    """The tests import several tools into one process (which ones depends on how pytest
    shares the files out), so no two may define the same absl flag at import time."""
    tools = sorted(f[:-3] for f in os.listdir(os.path.join(_REPO, 'experiments'))
                   if f.endswith('.py') and f != '__init__.py')
    self.assertIn('control', tools)
    code = ''.join(f'import experiments.{t}\n' for t in tools + tools[::-1])
    proc = subprocess.run([sys.executable, '-c', code], cwd=self.root, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=_REPO))
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])


def _tiny_trainer(num_classes=4, head=None):
  net = sj.models.vgg('tiny', num_classes=head or num_classes)
  return sj.build(net, optax.adam(1e-3), sj.Classification(num_classes))


def _batch(labels=0, dtype=np.float32):
  return {'frames': np.zeros((2, 3, 8, 8, 3), dtype),
          'labels': np.full((2, 3), labels, np.int32), 'video_ids': np.zeros((2, 3), np.int32)}


class ApiErrorsTest(absltest.TestCase):
  """The engine's own checks, one clear message each (the launcher passes them on)."""

  def test_uint8_frames(self):
    with self.assertRaisesRegex(ValueError, 'dtype uint8.*floating-point'):
      _tiny_trainer().init(jax.random.PRNGKey(0), _batch(dtype=np.uint8))

  def test_a_list_is_not_a_network(self):
    with self.assertRaisesRegex(TypeError, 'sj.Network'):
      sj.build([lambda x: x], optax.adam(1e-3), sj.Classification(4))

  def test_labels_outside_the_classes(self):
    trainer = _tiny_trainer()
    state = trainer.init(jax.random.PRNGKey(0), _batch())
    for labels in (4, -1):
      with self.assertRaisesRegex(ValueError, r'labels must lie in \[0, 3\]'):
        trainer.step(state, _batch(labels))

  def test_head_width_differs_from_the_classes(self):
    with self.assertRaisesRegex(ValueError, 'num_classes=4'):
      _tiny_trainer(num_classes=4, head=5).init(jax.random.PRNGKey(0), _batch())


class LauncherDataErrorsTest(absltest.TestCase):
  """Bad data reaching the launcher: one InputError line, nothing left behind."""

  def run_with(self, fn):
    workdir = os.path.join(tempfile.mkdtemp(), 'run')
    make = train.make_batches
    with mock.patch.object(train, 'make_batches', lambda *a, **k: map(fn, make(*a, **k))):
      with self.assertRaises(checks.InputError) as caught:
        train.train_and_evaluate(default.get_config('tiny'), workdir)
    self.assertFalse(os.path.exists(workdir))
    return str(caught.exception)

  def test_uint8_frames(self):
    message = self.run_with(lambda b: {**b, 'frames': (b['frames'] * 255).astype(np.uint8)})
    self.assertIn('dtype uint8', message)

  def test_labels_outside_the_classes(self):
    for bad in (8, -1):
      message = self.run_with(lambda b, bad=bad: {**b, 'labels': np.full_like(b['labels'],
                                                                             bad)})
      self.assertIn('num_classes=8', message)

  def test_network_that_pools_to_nothing(self):
    config = default.get_config('tiny')
    config.model = {'name': 'deep_vgg'}
    deep = lambda **kwargs: sj.models.vgg(((4, True),) * 5, **kwargs)  # 16 px halved 5x
    with mock.patch.dict(sj.models.MODELS, {'deep_vgg': deep}):
      with self.assertRaisesRegex(checks.ConfigError, r'dataset.resolution=16.*too small for'):
        train.train_and_evaluate(config, os.path.join(tempfile.mkdtemp(), 'run'))


  def test_skips_whose_delays_leave_no_valid_output_in_a_clip(self):
    # Tiny: K = 3, 6-frame clips. Taps of module 1 into the top 1..5 frames old make the
    # top first valid at tick 0 + (1 + 5) = 6, past the clip's last loss tick (5).
    config = default.get_config('tiny')
    config.skips = '1>3:fresh-0/5'
    workdir = os.path.join(tempfile.mkdtemp(), 'run')
    with self.assertRaisesRegex(checks.ConfigError, r'skips=.*first valid at tick 6 .*'
                                r'frames_per_clip=7'):
      train.train_and_evaluate(config, workdir)
    self.assertFalse(os.path.exists(os.path.join(workdir, 'checkpoints')))
    for ok in ({'skips': '1>3:fresh-0/4'},           # first valid at tick 5: one loss tick
               {'frames_per_clip': 7},                # or longer clips
               {'algorithm': 'backprop'}):            # the same-frame graph has no delays
      config = default.get_config('tiny')
      config.skips = '1>3:fresh-0/5'
      config.update(ok)
      train_set, _ = builders.make_datasets(config)
      _, network = builders.make_task_and_network(config, train_set)
      checks.check_network(config, network, train_set.frame_shape)  # no error


if __name__ == '__main__':
  absltest.main()
