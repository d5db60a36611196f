"""Default experiment: Skip-Sideways on the embedded temporal action set (no download).

  python -m experiments.train --config=experiments/configs/default.py --workdir=/tmp/sw

Override any key on the command line, e.g. the baselines on the same network and budget:
  --config.algorithm=bptt   --config.skips=none   --config.algorithm=backprop
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 600
  config.batch_size = 16
  config.frames_per_clip = 16
  config.eval_every = 200
  config.checkpoint_every = 0      # checkpoints: not written yet (launcher issue)
  config.log_every = 50
  config.algorithm = 'sideways'    # sideways | bptt | backprop
  config.skips = 'input'           # a named skip pattern; 'none' is plain Sideways
  config.update_every = 1
  config.stream = False
  config.dataset = ml_collections.ConfigDict({
      'name': 'temporal_actions', 'kwargs': {'level': 'dynamics', 'resolution': 32}})
  config.eval_clips = 512
  config.center_frames = True      # per-frame mean subtraction (classification only)
  config.model = ml_collections.ConfigDict({'name': 'vgg', 'size': 'small', 'hidden': 0})
  config.optimizer = 'adam'
  config.learning_rate = 3e-3
  config.stage_devices = 1         # placement: not implemented yet (placement issue)
  config.data_devices = 1
  return config
