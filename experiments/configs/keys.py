"""What every config key means: shown by `--help` and `--print_config`.

A test checks that every key of every variant in default.py is listed here.
"""

KEYS = {
    'seed': 'seeds parameter init, the data order and the synthetic clips',
    'num_steps': 'engine steps to train (a step is one batch of clips, or one stream chunk)',
    'batch_size': 'clips per step (lanes of the stream with stream=True)',
    'frames_per_clip': 'frames T per clip (frames per chunk with stream=True)',
    'eval_every': 'steps between held-out evaluations (and one at the end)',
    'checkpoint_every': 'steps between checkpoints in WORKDIR/checkpoints (0: only at the '
                        'end); one is also saved on SIGINT / SIGTERM',
    'keep_checkpoints': 'how many newest checkpoints to keep',
    'log_every': 'steps between progress lines and train records in metrics.jsonl',
    'algorithm': 'sideways (Skip-Sideways when skips != none) | bptt | backprop | gpipe',
    'skips': "skip pattern PATTERN[:KIND[:COMBINE[:detach]]] joined by '+': none, input, "
             "input_below_top, two_below, dense, to_top, or one edge 'J>K' (module J, 0 the "
             "input; negative numbers count from the top: 1>-1); KIND fresh|aligned, "
             "optionally '-N' frames older (e.g. 0>5:fresh-1) or taps '-N/M/...' (one edge "
             "per delay, each its own projection: 3>5:fresh-0/2/4); COMBINE project "
             "(default; identity when shapes match)|sum|mean|bilinear (also adds main x "
             "proj(skip)); a fourth part 'detach': no gradient back to the source (e.g. "
             "3>5:fresh-0/2:project:detach)",
    'update_every': "ticks per optimizer step (an integer), or 'clip': one step at each "
                    "clip's last tick",
    'stream': 'online training on an endless stream of videos: the clock never resets, '
              'chunks of frames_per_clip frames',
    'task': 'classification (cross-entropy, accuracy) | prediction (next frame: MSE, PSNR, '
            'SSIM beside copy-last-frame)',
    'dataset': 'the data; every key but name and num_workers goes to '
               'sideways_jax.data.get_dataset',
    'dataset.name': 'temporal_actions | appearance | moving_digits (embedded) | ucf101 | '
                    'hmdb51 | kinetics600 | moving_mnist (local files)',
    'dataset.root': 'folder of a real dataset, in the layout of docs/REAL_DATASETS.md',
    'dataset.prepared': 'real video sets: a folder python -m sideways_jax.data.prepare '
                        'wrote; clips are read from it (no video decoding) instead of root',
    'dataset.level': 'temporal_actions: motion (2 frames suffice) | dynamics (>= 3 frames)',
    'dataset.resolution': 'frame height and width in pixels',
    'dataset.speed': 'temporal_actions motion: how far the actor moves per frame, x the '
                     'reported set (1); for speed studies',
    'dataset.num_clips': 'clips per split of a synthetic set (unset: its default)',
    'dataset.num_distractors': 'temporal_actions / appearance: moving distractor shapes '
                               '(0-3; unset: 1, the difficulty RESULTS reports)',
    'dataset.noise': 'temporal_actions / appearance: pixel noise std (unset: 0.05)',
    'dataset.augment': 'temporal_actions / appearance: label-preserving transforms of the '
                       'training clips, drawn per clip and epoch: roll (a shift on the '
                       'torus), rot90 (a quarter turn; motion translations turn their '
                       'label with it), colors (channel order); comma-separated, unset: '
                       'none. The held-out split is never augmented',
    'dataset.num_digits': 'moving_digits: digits per clip (1 or 2)',
    'dataset.fold': 'official train/test split (1, 2 or 3)',
    'dataset.temporal_stride': 'take every n-th frame of the video',
    'dataset.short_side': 'video files: resize the short side to this before cropping '
                          '(default 8/7 of resolution; = resolution keeps the whole frame)',
    'dataset.flip': 'random horizontal flips of training clips; a flip turns left into '
                    'right, so turn it off for direction-sensitive classes',
    'dataset.num_workers': 'threads decoding video, for training and evaluation (0: in the '
                           'main thread)',
    'dataset.cache': 'embedded synthetic sets: keep each clip in memory once rendered, so '
                     'later epochs do not render it again (same batches; up to 1.6 GB for '
                     "the default's 8192 train clips; False: render every time)",
    'eval_clips': 'held-out clips scored per periodic evaluation: the same class-stratified '
                  'sample every time (evenly spaced items for prediction or without '
                  'item_labels; all of the split if it has fewer); the last evaluation and '
                  'experiments.evaluate score the whole split',
    'center_frames': 'subtract each frame its per-channel mean (classification only)',
    'model': 'the network; every key but name is a keyword argument of the model function',
    'model.name': 'a model of sideways_jax.models.MODELS (vgg)',
    'model.size': 'vgg: tiny (K=3) | small (K=5) | small_pool3 (K=5, one more pooling) | '
                  "base (K=8, VGG-8) | channels per conv module, 'p' to pool after it "
                  "('32,32p,32p,32p')",
    'model.detach': 'vgg: the lowest N modules get no gradient along the main path (only '
                    'through skips such as to_top); the same graph for every algorithm',
    'model.local_heads': "vgg: modules with a local classifier head ('3,4'; '' none; 'auto', "
                         'the default: the two modules below the top that learn, under '
                         'sideways classification only): its loss gradient reaches the '
                         'module the same tick; a training aid, never evaluated (bptt, '
                         'backprop and gpipe refuse explicit heads)',
    'model.local_weight': 'vgg: weight of each local head loss against the top loss',
    'model.head_conv': 'vgg: channels of a 3x3 conv in the classifier before its pooling '
                       '(0: none; classification only)',
    'model.hidden': 'vgg: width of a hidden layer in the classifier head (0: none)',
    'model.norm': 'vgg: per-example norm after each conv: none | layer | group',
    'model.width': 'vgg: channel multiplier of every conv module',
    'model.pool': 'vgg: max | avg pooling between blocks',
    'model.convs_per_module': 'vgg: conv layers per module (fewer, deeper modules: a '
                              "shorter pipeline), or one count per module from the bottom "
                              "('1,1,2': the top two convs in one module)",
    'optimizer': 'adam | adamw | sgd | momentum (one per module)',
    'learning_rate': 'peak learning rate',
    'schedule': 'constant | cosine (decay to 1% over num_steps)',
    'warmup_steps': 'engine steps of linear warm-up from 0',
    'grad_clip': 'per-module global-norm gradient clip (0: off)',
    'ema_decay': 'evaluate (and checkpoint) an exponential moving average of the '
                 'parameters, this decay per optimizer step, bias-corrected; training '
                 'is unchanged (0: off, the parameters themselves)',
    'eval_raw': 'with ema_decay: also evaluate the parameters themselves, as raw_* '
                'metrics (twice the evaluation time)',
    'module_lr_scales': "per-module learning-rate multipliers, 1 to K comma-separated "
                        "numbers from module 1 up (modules not named: 1); the lowest "
                        "modules at 0 are frozen (forward only, no VJP, no step: '0,0'); "
                        "empty: all 1",
    'init_from': "a run folder (another run's --workdir, same model and dataset keys): "
                 'its newest checkpoint gives the frozen modules (module_lr_scales zeros) '
                 "their parameters, which they keep; '': random init",
    'init_modules': "with init_from: which modules start from the run's parameters, "
                    "comma-separated numbers from module 1 up ('1,2,3,4': learning ones "
                    "too, which then go on learning from there); '': the frozen ones",
    'frozen_cache_gb': "keep the frozen modules' outputs per clip, up to this many GB, so a "
                       'clip drawn again skips their forwards (the same numbers: '
                       'sj.FrozenCache; one device, clips, sideways or bptt, the embedded '
                       'sets: file datasets may change a clip per epoch); 0: off',
    'stage_devices': 'devices along the network: consecutive groups of modules, one per '
                     'device (on CPU: XLA_FLAGS=--xla_force_host_platform_device_count=N)',
    'data_devices': 'devices along the batch: the batch is split, gradients summed over '
                    'them (batch_size must be a multiple)',
    'placement_groups': "how modules are grouped over stage_devices, each group as light "
                        'as it can be: cost (XLA cost analysis of each module\'s tick: '
                        'forward + VJP, forward only if frozen; the default) | time (a timed '
                        'probe of the same ticks) | params (parameter counts) | a stage per '
                        "module ('0,0,1,1,1'); the launcher prints each stage's share",
}


def flat_keys(config, prefix=''):
  """Dotted names of every leaf and sub-dict of an ml_collections config, in order."""
  out = []
  for key in config.keys():
    name = prefix + key
    out.append(name)
    value = config[key]
    if hasattr(value, 'keys') and hasattr(value, 'items'):
      out.extend(flat_keys(value, name + '.'))
  return out


def describe(config) -> str:
  """`key = value  # meaning` for every key of `config`, one per line."""
  lines = []
  for name in flat_keys(config):
    value = config
    for part in name.split('.'):
      value = value[part]
    meaning = KEYS.get(name, '')
    if hasattr(value, 'keys'):
      lines.append(f'{name}:' + (f'  # {meaning}' if meaning else ''))
    else:
      lines.append(f'{name} = {value!r}' + (f'  # {meaning}' if meaning else ''))
  return '\n'.join(lines)
