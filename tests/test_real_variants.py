"""Every real-dataset config variant end to end on small files in its real on-disk layout:
prepare -> train -> evaluate -> resume, with the variant's own regime (shrunk in size only:
VGG-tiny, 16x16, 4-6 frames, a few steps)."""

import json
import os

import numpy as np
import pytest

from experiments import evaluate
from experiments import train
from experiments.configs import default
from sideways_jax.data import prepare as prepare_lib

import test_data_real as fakes


def shrunk(variant, num_steps, **dataset):
  """The variant at seconds' size; its regime (frozen modules, local heads, one step per
  clip, skips, rates) kept."""
  config = default.get_config(variant)
  config.update(num_steps=num_steps, batch_size=2, eval_every=2, checkpoint_every=2,
                log_every=1, eval_clips=2)
  if config.task == 'classification':
    config.frames_per_clip = 4
    config.model.size = 'tiny'       # K = 3
    config.module_lr_scales = '0'    # module 1 held (the variant's '0,0' at K = 3 would hold
                                     # every module below the top), a local head on module 2
  else:
    config.frames_per_clip = 6
  config.dataset.update(resolution=16, num_workers=0, temporal_stride=1, **dataset)
  return config


def records(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [json.loads(line) for line in f]


def layout(name, root):
  if name == 'ucf101':
    fakes.make_ucf(root)
  elif name == 'hmdb51':
    fakes.make_hmdb(root, os.path.join(root, 'testTrainMulti_7030_splits'))
  else:
    fakes.make_kinetics(root)


@pytest.mark.parametrize('name', ['ucf101', 'hmdb51', 'kinetics600'])
def test_video_variant_prepare_train_evaluate_resume(name, tmp_path):
  raw, prepared = str(tmp_path / 'raw'), str(tmp_path / 'prepared')
  layout(name, raw)
  prepare_lib.prepare(name, raw, prepared, short_side=16, log=lambda line: None)
  config = shrunk(name, 2, prepared=prepared, short_side=16)
  assert config.update_every == 'clip' and config.model.local_heads == 'auto'
  workdir = str(tmp_path / 'run')
  final = train.train_and_evaluate(config, workdir)
  test_clips = {'ucf101': 2, 'hmdb51': 2, 'kinetics600': 2}[name]
  assert final['num_clips'] == test_clips  # the whole test split, each class
  assert np.isfinite(final['loss'])
  again = evaluate.evaluate_workdir(workdir)
  assert again['step'] == 2 and again['num_clips'] == test_clips
  assert again['clip_accuracy'] == pytest.approx(final['clip_accuracy'])
  if name != 'ucf101':
    return
  config.num_steps = 4  # resume: the same command with a longer budget
  train.train_and_evaluate(config, workdir)
  steps = [r['step'] for r in records(workdir) if r['split'] == 'train']
  assert steps == [1, 2, 3, 4]
  # The raw files give the same run as the prepared copy (format jpeg: close, not equal).
  config_raw = shrunk(name, 2, root=raw, short_side=16)
  raw_final = train.train_and_evaluate(config_raw, str(tmp_path / 'run_raw'))
  assert abs(raw_final['loss'] - final['loss']) < 0.05


def test_moving_mnist_variant_trains_evaluates_resumes(tmp_path):
  arr = np.zeros((20, 12, 64, 64), np.uint8)
  arr += (np.arange(20)[:, None, None, None] * 10).astype(np.uint8)
  np.save(tmp_path / 'mnist_test_seq.npy', arr)
  config = shrunk('moving_mnist', 2, root=str(tmp_path))
  assert config.skips == default.get_config('moving_digits').skips
  workdir = str(tmp_path / 'run')
  final = train.train_and_evaluate(config, workdir)
  assert np.isfinite(final['mse']) and 'copy_last_mse' in final
  config.num_steps = 4
  train.train_and_evaluate(config, workdir)
  assert evaluate.evaluate_workdir(workdir)['step'] == 4
