"""Experiment configs, one `get_config(arg)` variant per experiment (big_vision style).

  python -m experiments.train --workdir=DIR                       # the default below
  python -m experiments.train --config=experiments/configs/default.py:VARIANT --workdir=DIR
  python -m experiments.train --print_config [--config=...:VARIANT]   # every key, explained

Variants (each function's docstring says what it runs, its command and what it measured):
  (none)         Skip-Sideways on the embedded temporal action set, level `motion`
  bptt           the same graph, data and budget trained by bptt (the exact baseline)
  motion_files   the default reading the motion set exported as UCF101-layout video files
  appearance     the appearance control set (class visible in every frame)
  dynamics       the harder `dynamics` level, from a `motion` run of the default
  moving_digits  future-frame prediction on embedded bouncing digits
  tiny           a seconds-long run of the default on tiny clips (tests, smoke checks)
  ucf101, hmdb51, kinetics600, moving_mnist
                 real datasets from local files: --config.dataset.root=/data/NAME

Override any key on the command line, e.g. the baselines on the same network and budget:
  --config.algorithm=bptt   --config.skips=none   --config.algorithm=backprop
  --config.dataset.level=dynamics   (the harder level: >= 3 frames per class)

The default: Skip-Sideways, VGG-small_pool3 with input skips and a 3x3 head conv (K = 5),
modules 1-2 held at their random init (their Sideways gradient refers to frames 6-8 ticks
old), a local head on modules 3-4 (a fresh gradient; docs/ALGORITHM.md "Local heads"), one
Adam step per clip at 5e-3, evaluated on a moving average of the parameters
(`ema_decay=0.99`), 4000 steps. Measured (docs/RESULTS.md, claim M1, 3 seeds; sweep
experiments/sweeps/screen25.py): held-out clip accuracy 0.965 +- 0.017 on `motion` (chance
0.125), bptt on the same graph 0.948 +- 0.019; 495-525 training seconds a run on one core.
The main command alone (seed 0, 2 cores): 0.957 at step 4000, 7.2 minutes wall.
What each of these choices bought when it was added: docs/RESULTS_HISTORY.md. With a
network of your own, '0,0' holds its two lowest modules too: --config.module_lr_scales=
trains every module, --config.model.local_heads= gives no heads.
"""

import ml_collections
from ml_collections import config_dict


def _base():
  """The default run: Skip-Sideways, VGG-small_pool3 + head conv, temporal_actions `motion`."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 4000
  config.batch_size = 16
  config.frames_per_clip = 16
  config.eval_every = 500
  config.checkpoint_every = 250
  config.keep_checkpoints = 3
  config.log_every = 250
  config.algorithm = 'sideways'    # sideways | bptt | backprop | gpipe
  config.skips = 'input'           # a named skip pattern; 'none' is plain Sideways
  config.update_every = ml_collections.FieldReference('clip', field_type=object)  # int|'clip'
  config.stream = False
  config.task = 'classification'   # classification | prediction
  config.dataset = ml_collections.ConfigDict({
      'name': 'temporal_actions', 'level': 'motion', 'resolution': 32, 'speed': 1.0,
      'num_clips': config_dict.placeholder(int), 'cache': True,
      # Named settings beside the reported difficulty (unset: the set's own 1 and 0.05).
      'num_distractors': config_dict.placeholder(int),
      'noise': config_dict.placeholder(float),
      # Label-preserving transforms of the training clips (unset: none): roll,rot90,colors.
      'augment': config_dict.placeholder(str)})
  config.eval_clips = 512
  config.center_frames = True      # per-frame mean subtraction (classification only)
  config.model = ml_collections.ConfigDict({'name': 'vgg', 'size': 'small_pool3', 'hidden': 0,
                                            'norm': 'none', 'width': 1.0, 'pool': 'max',
                                            'convs_per_module': '1', 'head_conv': 32,
                                            'detach': 0, 'local_heads': 'auto',
                                            'local_weight': 3.0})
  config.optimizer = 'adam'
  config.learning_rate = 5e-3
  config.schedule = 'constant'     # constant | cosine (over num_steps)
  config.warmup_steps = 0          # engine steps of linear warm-up
  config.grad_clip = 0.0           # per-module global-norm clip; 0 = off
  config.ema_decay = 0.99          # evaluate a moving average of the parameters; 0 = off
  config.eval_raw = False          # with ema_decay: also score the parameters (raw_*)
  # Per-module learning-rate multipliers; 0 freezes a module (no VJP, no step). Modules 1-2
  # of VGG-small are frozen: their Sideways gradient refers to frames 6-8 ticks old (RESULTS).
  config.module_lr_scales = '0,0'
  # A run folder whose frozen modules' parameters replace their random init ('' = none).
  config.init_from = ''
  # Which modules init_from fills: '' the frozen ones, or module numbers ('1,2,3,4').
  config.init_modules = ''
  # Keep the frozen modules' outputs per clip (up to this many GB): a clip drawn again skips
  # their forwards; the same numbers (sj.FrozenCache). Embedded sets only (a file dataset
  # may change a clip per epoch). 0: compute them at every draw.
  config.frozen_cache_gb = 4.0
  config.stage_devices = 1         # devices along the network (one module group each)
  config.data_devices = 1          # devices along the batch
  config.placement_groups = 'cost'  # cost | time | params | '0,0,1,1,1': modules per device
  return config


def bptt():
  """The default's exact baseline: bptt on the same graph (modules 1-2 held, input skips),
  data and budget, one Adam step per clip at 5e-3, evaluated on the parameters' moving
  average (benchmarks/learning.py uses it). It trains the top's loss only: the default's
  local heads ('auto') are Skip-Sideways'.
    python -m experiments.train --config=experiments/configs/default.py:bptt --workdir=DIR
  Measured (docs/RESULTS.md M1, 3 seeds, 4000 steps): 0.948 +- 0.019, 393-405 training
  seconds a run on one core."""
  config = _base()
  config.algorithm = 'bptt'
  return config


def appearance():
  """The appearance control: 10 shape x texture classes, visible in every frame, so even
  per-frame models learn it (docs/DATA.md). VGG-small, no local heads, 3e-3 on the raw
  parameters, 500 steps: the regime it was measured in.
    python -m experiments.train --config=experiments/configs/default.py:appearance \\
        --workdir=DIR
  Measured (docs/RESULTS.md A1, 3 seeds; experiments/sweeps/results_appearance.py):
  Skip-Sideways 0.224 +- 0.016, per-frame backprop 0.222 +- 0.015 (chance 0.10);
  160-275 training seconds a run on one core."""
  config = _base()
  config.model.size = 'small'
  config.model.head_conv = 0
  config.model.local_heads = ''    # measured without them
  config.learning_rate = 3e-3      # and at the rate of its time, on the raw parameters
  config.ema_decay = 0.0
  config.num_steps = 500
  config.dataset = ml_collections.ConfigDict({
      'name': 'appearance', 'resolution': 32, 'num_clips': config_dict.placeholder(int),
      'cache': True})
  return config


def moving_digits():
  """Future-frame prediction on embedded bouncing digits (Moving-MNIST-like, no download):
  a decoder head predicts the next frame; evaluation reports MSE / PSNR / SSIM beside the
  copy-last-frame baseline. Skip-Sideways with fresh input skips into every module but the
  top and x[t-1] into the top (`input_below_top+0>-1:fresh-1`: temporal skips that never
  show the top its target), no pooling ('16,16,32,32'), modules 1-2 held and 3-4 at a tenth
  of the rate, Adam 3e-4 per clip on the raw parameters, 20 frames at 32x32, 600 steps.
    python -m experiments.train --config=experiments/configs/default.py:moving_digits \\
        --workdir=DIR
  Measured (docs/RESULTS.md P1, 3 seeds; experiments/sweeps/results_digits_nopool.py): MSE
  0.0268 +- 0.0005 against copy-last 0.046 and plain Sideways (--config.skips=none) 0.0282
  +- 0.0002; 530-560 training seconds a run on one core.
  """
  config = _base()
  config.model.size = '16,16,32,32'  # no pooling: a decoder reads the frame at full size
  config.module_lr_scales = '0,0,0.1,0.1'
  config.model.head_conv = 0       # a classifier's layer; the decoder has none
  config.num_steps = 600
  config.task = 'prediction'
  config.skips = 'input_below_top+0>-1:fresh-1'
  config.learning_rate = 3e-4
  config.ema_decay = 0.0           # measured on the raw parameters
  config.frames_per_clip = 20
  config.center_frames = False
  config.dataset = ml_collections.ConfigDict({
      'name': 'moving_digits', 'resolution': 32, 'num_digits': 2,
      'num_clips': config_dict.placeholder(int), 'cache': True})
  return config


def dynamics():
  """Skip-Sideways on the harder `dynamics` level (the class is how the velocity changes),
  started from a `motion` run of the default (the README's main command, first):

    python -m experiments.train --workdir=workdirs/default
    python -m experiments.train --config=experiments/configs/default.py:dynamics \
        --workdir=DIR [--config.init_from=ANOTHER_MOTION_RUN]

  Modules 1-4 start from that run (`init_from`, `init_modules=1,2,3,4`); modules 1-3 stay
  held, module 4 learns at 0.3x the rate, the top at the full rate; the top reads module 3
  at four delays, bilinear (first valid at tick 9 of 16), with a 64-channel head conv;
  augmented training clips; no local heads. Measured (docs/RESULTS.md D1, 6 seeds, 4000
  steps; experiments/sweeps/results_dynamics_module4_slow.py): held-out clip accuracy
  0.615 +- 0.035 (chance 0.125); bptt on the same graph (--config.algorithm=bptt) 0.615 +-
  0.029, 0.630 +- 0.033 with module 4 at the full rate (--config.module_lr_scales=0,0,0).
  8-9 minutes a run on one core. No algorithm here reaches the 0.80 asked of this level.
  """
  config = _base()
  config.dataset.level = 'dynamics'
  config.dataset.augment = 'roll,rot90,colors'
  config.init_from = 'workdirs/default'
  config.init_modules = '1,2,3,4'
  config.module_lr_scales = '0,0,0,0.3'
  config.skips = 'input+3>5:fresh-0/2/4/6:bilinear'
  config.model.head_conv = 64
  config.model.local_heads = ''
  config.checkpoint_every = 500
  return config


def tiny():
  """The default shrunk to seconds: VGG-tiny (K=3), 16x16 frames, 6-frame clips, 4 steps,
  a checkpoint every 2; nothing frozen and a step every tick (the engine's full path).
  For tests and smoke checks, not for results."""
  config = _base()
  config.num_steps = 4
  config.batch_size = 2
  config.frames_per_clip = 6
  config.eval_every = 2
  config.checkpoint_every = 2
  config.log_every = 1
  config.eval_clips = 4
  config.model.size = 'tiny'
  config.module_lr_scales = ''     # K = 3: nothing frozen
  config.model.local_heads = ''    # no local heads (tests add them where they test them)
  config.ema_decay = 0.0           # nor a parameter average (likewise)
  config.update_every = 1          # a step every tick (works with stream=True too)
  config.learning_rate = 3e-4
  config.dataset.resolution = 16
  config.dataset.num_clips = 16
  return config


def _real(name, **dataset):
  """A real dataset from `dataset.root` or a prepared copy (`dataset.prepared`): VGG-8, 16
  frames (stride 2) at 112x112, batch 8, in the default's regime (below)."""
  config = _base()
  config.model.size = 'base'       # VGG-8 (K = 8), the papers' depth
  # The default's regime carried to K = 8 by its rule (hold a module whose Sideways
  # gradient refers to its output more than 4 ticks back: modules 1-5), its local heads,
  # one Adam step per clip, parameter average and head conv, at 1e-3. Measured on video
  # files (docs/RESULTS.md R1, docs/REAL_DATASETS.md "Does the real-data path learn?"; the
  # one-seed probes behind it: docs/RESULTS_HISTORY.md row 69); not at full width and
  # 112x112 (no accelerator).
  config.module_lr_scales = '0,0,0,0,0'
  config.learning_rate = 1e-3
  config.batch_size = 8
  config.num_steps = 30000
  config.eval_every = 2000
  config.checkpoint_every = 1000
  config.log_every = 100
  config.eval_clips = 1024         # stratified sample; the last evaluation: the whole split
  config.dataset = ml_collections.ConfigDict({
      'name': name, 'root': config_dict.placeholder(str),
      # Instead of root: a copy `python -m sideways_jax.data.prepare` wrote (same clips).
      'prepared': config_dict.placeholder(str), 'resolution': 112,
      'short_side': config_dict.placeholder(int),  # unset: round(resolution * 8 / 7)
      # Flips on (the datasets' convention); flip=False when direction is the class.
      'temporal_stride': 2, 'flip': True, 'num_workers': 4, **dataset})
  return config


# Compute (counted, not measured): VGG-8 at 112x112, 4.2 GFLOP forward per frame; a step of
# 8 clips is at most ~2 TFLOP, ~0.1 s at 20 TFLOP/s: ~80 clips/s per GPU to load
# (docs/REAL_DATASETS.md, "Accelerators"). A 2-core CPU takes minutes a step.

def ucf101():
  """UCF101 (101 classes, 9537 train / 3783 test videos in fold 1) from local files.
  Training clips are flipped horizontally at random (--config.dataset.flip=False: off).

    --config=experiments/configs/default.py:ucf101 --config.dataset.root=/data/ucf101

  Or from a prepared copy (python -m sideways_jax.data.prepare --dataset=ucf101
  --root=/data/ucf101 --out=/data/ucf101_prepared): --config.dataset.prepared=/data/
  ucf101_prepared instead of root. Layout: docs/REAL_DATASETS.md. Skip-Sideways VGG-8 in
  the default's regime (see _real), 16 frames (stride 2) at 112x112, batch 8, 30k steps =
  ~25 epochs. Compute (estimated, see the note above): ~2 TFLOP per step, ~1 h at 20
  TFLOP/s: an accelerator is needed. No UCF101 accuracy measured with this code yet.
  """
  return _real('ucf101', fold=1)


def hmdb51():
  """HMDB51 (51 classes, 3570 train / 1530 test videos in fold 1) from local files.
  Training clips are flipped horizontally at random (--config.dataset.flip=False: off).

    --config=experiments/configs/default.py:hmdb51 --config.dataset.root=/data/hmdb51

  As ucf101 (VGG-8 in the default's regime, 16 frames at 112x112, batch 8; a prepared copy
  with --config.dataset.prepared), 15k steps = ~34 epochs of fold 1's 3570 videos.
  Compute (estimated): ~2 TFLOP per step, ~30 min at 20 TFLOP/s: an accelerator is needed.
  No HMDB51 accuracy measured with this code yet.
  """
  config = _real('hmdb51', fold=1)
  config.num_steps = 15000
  return config


def kinetics600():
  """Kinetics-600 (600 classes, ~390k train videos; our 'test' is the on-disk `val`).
  Training clips are flipped horizontally at random (--config.dataset.flip=False: off).

    --config=experiments/configs/default.py:kinetics600 --config.dataset.root=/data/k600

  VGG-8 in the default's regime, 16 frames at 112x112, batch 8: one epoch is ~49k steps;
  200k steps (~4 epochs). Prepare it first (python -m sideways_jax.data.prepare
  --dataset=kinetics600 ..., then --config.dataset.prepared=...): raw decoding of 390k
  videos cannot feed an accelerator. Compute (estimated): ~2 TFLOP per step, ~1.4 h per
  epoch and ~6 h in all at 20 TFLOP/s. No Kinetics accuracy measured with this code yet.
  """
  config = _real('kinetics600')
  config.num_steps = 200000
  config.eval_every = 10000
  config.checkpoint_every = 2000
  return config


def moving_mnist():
  """Moving MNIST future-frame prediction from the official `mnist_test_seq.npy`.

    --config=experiments/configs/default.py:moving_mnist --config.dataset.root=/data/mmnist

  64x64x1, 20 frames, batch 16, 20k steps (~35 epochs of 9000 train sequences), in the
  regime measured on the embedded bouncing digits (`moving_digits`, the same task at
  32x32: MSE 0.0268 +- 0.0005 against copy-last 0.046, 3 seeds): Skip-Sideways with fresh
  input skips below the top and x[t-1] into the top, no pooling ('16,16,32,32'), modules
  1-2 held and 3-4 at a tenth of the rate, Adam at 3e-4 per clip, raw parameters.
  Compute (estimated by counting): ~0.15 GFLOP forward per frame at 64x64, ~0.2 TFLOP per
  step: well under an hour on a GPU, days on a 2-core CPU. Metrics beside the
  copy-last-frame baseline; none measured on Moving MNIST with this code yet.
  """
  config = moving_digits()
  config.dataset = ml_collections.ConfigDict({
      'name': 'moving_mnist', 'root': config_dict.placeholder(str), 'resolution': 64,
      'temporal_stride': 1, 'flip': False, 'num_workers': 4})
  config.batch_size = 16
  config.num_steps = 20000
  config.eval_every = 2000
  config.checkpoint_every = 1000
  config.log_every = 100
  config.eval_clips = 1000
  return config


def motion_files():
  """The default run, changed only in its dataset keys, reading the `motion` set written as
  video files in UCF101's layout by `python -m sideways_jax.data.export` (fold 1):

    python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \
        --root=/tmp/motion_ucf --train_clips=8192 --test_clips=512
    python -m experiments.train --config=experiments/configs/default.py:motion_files \
        --config.dataset.root=/tmp/motion_ucf --workdir=DIR

  Horizontal flip is OFF (`dataset.flip=False`): flipping turns `left` into `right`. The
  real-dataset variants (ucf101, hmdb51, kinetics600) flip by default; switch it off there
  with --config.dataset.flip=False when direction is the class. Measured (docs/RESULTS.md
  V1, 3 seeds, at 3000 steps: --config.num_steps=3000; sweep
  experiments/sweeps/results_motion_files_default.py): 0.955 +- 0.006, 1276-1400 training
  seconds a run on one core.
  """
  config = _base()
  config.dataset = ml_collections.ConfigDict({
      'name': 'ucf101', 'root': config_dict.placeholder(str), 'fold': 1, 'resolution': 32,
      'short_side': 32, 'temporal_stride': 1, 'flip': False, 'num_workers': 2})
  return config


VARIANTS = {f.__name__: f for f in (bptt, appearance, dynamics, motion_files, moving_digits,
                                     tiny, ucf101, hmdb51, kinetics600, moving_mnist)}


def get_config(arg=None):
  """The default config, or the variant `arg` (`--config=.../default.py:VARIANT`)."""
  if not arg:
    return _base()
  if arg not in VARIANTS:
    raise ValueError(f'Unknown config variant {arg!r}; use one of '
                     f'{", ".join(sorted(VARIANTS))} (or none for the default).')
  return VARIANTS[arg]()
