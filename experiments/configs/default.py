"""Default experiment: Skip-Sideways on the embedded temporal action set (no download).

  python -m experiments.train --config=experiments/configs/default.py --workdir=/tmp/sw

Override any key on the command line, e.g. the baselines on the same network and budget:
  --config.algorithm=bptt   --config.skips=none   --config.algorithm=backprop
  --config.dataset.kwargs.level=dynamics   (the harder level: >= 3 frames per class)

Expected (measured on 2 CPU cores, ~3-4 min, see README "Does it learn?"): held-out clip
accuracy ~0.39 on the `motion` level (chance 0.125).

Learning rate: with Adam at 3e-3 and an update every tick, Sideways killed every ReLU of
module 4 within 100 steps (constant output); 1e-3 also stayed at chance; 3e-4 learns.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 1500
  config.batch_size = 16
  config.frames_per_clip = 16
  config.eval_every = 500
  config.checkpoint_every = 0      # checkpoints: not written yet (launcher issue)
  config.log_every = 250
  config.algorithm = 'sideways'    # sideways | bptt | backprop
  config.skips = 'input'           # a named skip pattern; 'none' is plain Sideways
  config.update_every = ml_collections.FieldReference(1, field_type=object)  # int or 'clip'
  config.stream = False
  config.dataset = ml_collections.ConfigDict({
      'name': 'temporal_actions', 'kwargs': {'level': 'motion', 'resolution': 32}})
  config.eval_clips = 512
  config.center_frames = True      # per-frame mean subtraction (classification only)
  config.model = ml_collections.ConfigDict({'name': 'vgg', 'size': 'small', 'hidden': 0,
                                            'norm': 'none', 'width': 1.0})
  config.optimizer = 'adam'
  config.learning_rate = 3e-4
  config.schedule = 'constant'     # constant | cosine (over num_steps)
  config.warmup_steps = 0          # engine steps of linear warm-up
  config.grad_clip = 0.0           # per-module global-norm clip; 0 = off
  config.stage_devices = 1         # placement: not implemented yet (placement issue)
  config.data_devices = 1
  return config
