"""Screen for the real variants' regime at K = 8 (VGG-8 at a quarter width, the `motion`
set exported as 64x64 files in UCF101's layout and prepared, as in results_real_path.py),
seed 0, 600 steps, one core a run. Outcome (held-out clip accuracy at 600, all 512 clips):

  modules 1-2 held (the default's scales), 1e-3:  bptt 0.654, Skip-Sideways 0.154
  modules 1-2 held, 5e-3 (the default's rate):     bptt 0.121 at 500, Skip-Sideways 0.139 at
                                                  250 (stopped; not in RUNS)
  modules 1-5 held (2(K - k) > 4 ticks), 1e-3:     Skip-Sideways 0.594
  modules 1-5 held, 5e-3:                          Skip-Sideways 0.211

so the real variants hold modules 1-5 and take 1e-3.

  python -m experiments.sweep --sweep=experiments/sweeps/screen_real_k8.py \\
      --root=workdirs/screen_real_k8 --parallel=2
"""

CONFIG = 'experiments/configs/default.py:ucf101'
_DATA = {'dataset.prepared': 'workdirs/motion64_prepared', 'dataset.resolution': 64,
         'dataset.short_side': 64, 'dataset.flip': False, 'dataset.temporal_stride': 1,
         'dataset.num_workers': 1, 'model.width': 0.25, 'num_steps': 600,
         'eval_every': 150, 'log_every': 50, 'checkpoint_every': 150, 'eval_clips': 256}
RUNS = {
    'bptt_hold2_lr1e-3': {**_DATA, 'algorithm': 'bptt', 'module_lr_scales': '0,0',
                          'learning_rate': 1e-3},
    'ss_hold2_lr1e-3': {**_DATA, 'module_lr_scales': '0,0', 'learning_rate': 1e-3},
    'ss_hold5_lr1e-3': {**_DATA, 'module_lr_scales': '0,0,0,0,0', 'learning_rate': 1e-3},
    'ss_hold5_lr5e-3': {**_DATA, 'module_lr_scales': '0,0,0,0,0', 'learning_rate': 5e-3},
}
