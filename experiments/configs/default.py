"""Experiment configs, one `get_config(arg)` variant per experiment (big_vision style).

  python -m experiments.train --workdir=DIR                       # the default below
  python -m experiments.train --config=experiments/configs/default.py:VARIANT --workdir=DIR
  python -m experiments.train --print_config [--config=...:VARIANT]   # every key, explained

Variants (each function's docstring says what it runs and what it costs):
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

Default, measured (docs/RESULTS.md, 3 seeds, screen 25, on this 2-core AMD EPYC machine):
held-out clip accuracy 0.965 +- 0.017 (0.947 / 0.969 / 0.980) on `motion` after 4000
steps, scored on a moving average of the parameters (`ema_decay=0.99`), chance 0.125; bptt
on the same graph, rate and average 0.948 +- 0.019 (0.926 / 0.957 / 0.961). At 3000 steps
(the budget before screen 25) 0.950 +- 0.013 against bptt's 0.917 +- 0.020. Every seed
first reaches 0.90 by step 2000 (220-295 training seconds). The sweep ran two runs side by
side, one core each: 495-525 training seconds for 4000 steps (re-run: python -m
experiments.sweep --sweep=experiments/sweeps/screen25.py --root=workdirs/screen25
--parallel=2). The README's main command alone on this machine (seed 0, 2 cores,
evaluations every 500): 0.957 at step 4000 after 404 training seconds, 7.2 minutes
wall in all; first >= 0.90 at step 2000 (224 s), first >= 0.95 at step 3500 (357 s). That
is with the frozen modules' outputs kept per clip (`frozen_cache_gb`: a clip drawn again
skips modules 1-2's forwards), the drain trimmed to 2 ticks and the clips kept in memory (`dataset.cache`), none of which changes a number: the
3000-step README command gave the same six evaluations with and without the frozen cache,
307 against 353 training seconds, one after the other (python -m benchmarks.run --only
loop_cost measures the loop side by side). The machine of earlier sessions ran this
3000-step loop about twice as slowly (657 s), and its runs were not these runs bitwise
(another CPU: screen 24's 3 seeds at 3000 steps there gave 0.958 +- 0.013); nor is the
2-core run the 1-core sweep run (0.3477 against 0.4863 at step 500, seed 0).
Before the average and the higher rate (3e-3, raw parameters, 3000 steps): 0.910 +- 0.030,
and 0.962 +- 0.003 at 6000 steps (sweeps results_local_heads.py, results_heads_budget.py).
What errors are left, per class: `python -m experiments.evaluate --workdir=DIR --per_class`
(at 3e-3, seed 0: a rotation's sense, counter-clockwise 0.72, the rest 0.91-1.00).

The regime and why (docs/RESULTS.md has every alternative tried): VGG-small_pool3 pools
after modules 2, 3 and 4, so the top modules see a whole actor (+7 points over VGG-small
for both algorithms, one seed), and the top module has a 3x3 conv with 32 channels before
its global pooling (`model.head_conv=32`): on the 4x4 map it spans a whole actor, so the
classifier can read how local motions are arranged around it (a rotation's sense), and
the top module's Sideways gradient is exact (without it, 3 seeds: 0.778 +- 0.039 against
bptt's 0.837 +- 0.016). Sideways' gradient for module k refers to its output 2(K - k)
ticks earlier; for modules 1-2 that is 6-8 frames, far enough for a moving actor that the
gradient lands on background and harms more than it helps, so they stay at their random
initialisation (`module_lr_scales='0,0'`, forward only). Modules 3 and 4 each carry a local
head (`model.local_heads='auto'`: a classifier like the top's on the module's own output,
weight 3 against the top's loss), whose gradient is fresh: it refers to this tick's input,
not to one 4 or 2 ticks old (docs/ALGORITHM.md "Local heads"; weights 0.3 / 1 / 3 gave
0.893 / 0.910 / 0.939 on seed 0). 'auto' gives heads to Skip-Sideways only: bptt,
per-frame backprop and gpipe train the same body with the top's loss alone
(--config.algorithm=bptt needs nothing else). The learning modules take one Adam step per
clip at 5e-3 (`update_every='clip'`; 3e-3 gave 0.910 +- 0.030 raw, 5e-3 0.941 +- 0.004
raw), and evaluation reads an exponential moving average of the parameters (decay 0.99,
bias-corrected; training is the same with or without it): +1.7 points at step 3000 and
+2-8 points mid-run, reaching 0.90 250-500 steps sooner (--config.ema_decay=0 for none).
It trains 4000 steps (screen 25): at 3000 the 3-seed mean sits on the 0.95 line here
(0.950 +- 0.013, two seeds below it), and 1000 more put it at 0.965 +- 0.017.
Every tick at 3e-3 killed module 4's ReLUs; every
tick at 3e-4 learns about as well per step (VGG-small: 0.652 vs 0.658, one seed) but runs
the optimizer 20x as often. Note: with a network of your own, '0,0' freezes its two lowest
modules too; set --config.module_lr_scales= to train every module, and
--config.model.local_heads= for no heads.
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
  config.placement_groups = 'params'  # params | cost: how modules are grouped per device
  return config


def bptt():
  """The default's exact baseline: bptt on the same graph (modules 1-2 frozen, input skips),
  data and budget, one Adam step per clip at 5e-3, evaluated on the parameters' moving
  average (benchmarks/learning.py uses it). It trains the top's loss only: the default's
  local heads ('auto') are Skip-Sideways'."""
  config = _base()
  config.algorithm = 'bptt'
  return config


def appearance():
  """The appearance control: 10 shape x texture classes, visible in every frame, so even
  per-frame models learn it (docs/DATA.md). VGG-small, the network it was measured on
  (docs/RESULTS.md, 3 seeds, 500 steps: Skip-Sideways 0.224 +- 0.016, per-frame backprop
  0.222 +- 0.015; sweep experiments/sweeps/results_appearance.py)."""
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
  the decoder head predicts the next frame; evaluation reports MSE / PSNR / SSIM beside the
  copy-last-frame baseline. Skip-Sideways with temporal skips that never show the top its
  target: fresh input skips into every module but the top (`input_below_top`: module k
  mixes x[t] with its main input's older frame, and the top reads it a tick later), and
  x[t-1], the newest frame the top may see, into the top (`0>-1:fresh-1`), which its
  decoder starts by copying. Adam at 3e-4 per clip. 32x32, 20 frames. No pooling
  ('16,16,32,32': every module keeps the frame's 32x32 map for the decoder), modules 1-2
  frozen and modules 3-4 at a tenth of the rate (at the full rate their 4- and 2-tick-old
  gradients drive plain Sideways' decoder into a saturated black output; docs/RESULTS.md).
  Measured (docs/RESULTS.md, 3 seeds, 600 steps, 530-560 s a run on one core:
  experiments/sweeps/results_digits_nopool.py): MSE 0.0268 +- 0.0005 against copy-last
  0.046; plain Sideways (--config.skips=none) 0.0282 +- 0.0002, above it in every seed.
  Without the skip into the top (--config.skips=input_below_top) two seeds reach 0.0254
  and one stays at a black output (0.0526).
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
  """Skip-Sideways on the harder `dynamics` level (the class is how the velocity changes) in
  the best regime found for it (docs/RESULTS.md, screens 29-41). It starts from a `motion`
  run of the default, the README's main command, which must exist first:

    python -m experiments.train --workdir=workdirs/default
    python -m experiments.train --config=experiments/configs/default.py:dynamics \
        --workdir=DIR [--config.init_from=ANOTHER_MOTION_RUN]

  Modules 1-4 start from that run's parameters (`init_from`, `init_modules=1,2,3,4`);
  modules 1-3 stay held, module 4 learns at 0.3x the rate and the top at the full rate
  (`module_lr_scales=0,0,0,0.3`: module 3 learns mostly from the taps' messages, which
  refer to outputs 2-8 ticks older than the input they are applied to, and learning it
  costs Skip-Sideways accuracy here; module 4's message refers to its output two ticks
  older, and a smaller step on it gains 1.8 points over the full rate). The top reads
  module 3 at four delays, each multiplied with its main input (bilinear taps, so it is
  first valid at tick 9 of the 16) and has a 3x3 conv with 64 channels; training clips are
  augmented with label-preserving transforms (`dataset.augment`); no local heads.
  Measured (docs/RESULTS.md, 6 seeds, 4000 steps, 8-9 minutes a run on one core, two side
  by side; experiments/sweeps/results_dynamics_module4_slow.py): held-out clip accuracy
  0.615 +- 0.035 (0.557 to 0.646), chance 0.125; with module 4 at the full rate 0.597 +-
  0.036 (results_dynamics_module4.py). bptt on the same graph (--config.algorithm=bptt):
  0.615 +- 0.029 at these rates, 0.630 +- 0.033 with module 4 at the full rate
  (--config.module_lr_scales=0,0,0), its better one. No algorithm here reaches the 0.80
  asked of this level.
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
  # files (docs/REAL_DATASETS.md, "Does the real-data path learn?"; the probes behind it:
  # experiments/sweeps/screen_real_k8.py); not at full width and 112x112 (no accelerator).
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
  with --config.dataset.flip=False when direction is the class.
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
