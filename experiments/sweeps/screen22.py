"""Screen 22, `motion`: local heads (docs/ALGORITHM.md "Local heads"), the default otherwise
(3000 steps, seed 0, eval every 250). Outcome, clip accuracy at steps 1000 / 2000 / 3000
(the default, seed 0: 0.711 / 0.787 / 0.887):
- heads on 3,4, weight 0.3: 0.766 / 0.764 / 0.893
- heads on 3,4, weight 1:   0.740 / 0.820 / 0.910
- heads on 3,4, weight 3:   0.748 / 0.799 / 0.939
- heads on 3,4, weight 10:  0.775 / 0.828 / 0.928
- the pick (weight 3, the default now) with a cosine schedule: 0.775 / 0.846 / 0.887
- the pick at learning rate 5e-3: 0.771 / 0.885 / 0.941 (696 s, the machine busier)
- the pick with `model.head_conv=64` (the top's and the heads' conv): 0.783 / 0.822 /
  0.941, but 745 s for 3000 steps (12.4 minutes: outside the budget)
- every module learning (`module_lr_scales=`), heads on 1-4, weight 1: 0.359 at 1000
  (stopped there: 2.5 steps/s on one core, so 3000 steps take 20 minutes, and it learns
  slower per step than the default)
- module 1 frozen, heads on 2-4, weight 1: 3.1 steps/s (16 minutes for 3000 steps,
  outside the 10-minute target; stopped at step 250)
- `dynamics`, screen 21's 12-frame reach (`skips=input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8`)
  with the default's heads: 0.148 / 0.160 / 0.150 / 0.115 at steps 500 / 1000 / 1500 /
  2000 (stopped there): at chance, like Skip-Sideways without heads there (0.107), where
  bptt reaches 0.389
The 3-seed run of the pick is results_local_heads.py.

  python -m experiments.sweep --sweep=experiments/sweeps/screen22.py \\
      --root=workdirs/screen22 --parallel=2
"""
_BASE = {'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0,
         'model.local_heads': '3,4'}
RUNS = {
    'heads34_w0.3': {**_BASE, 'model.local_weight': 0.3},
    'heads34_w1': {**_BASE, 'model.local_weight': 1.},
    'heads34_w3': {**_BASE, 'model.local_weight': 3.},
    'heads34_w10': {**_BASE, 'model.local_weight': 10.},
    'heads34_w3_cosine': {**_BASE, 'model.local_weight': 3., 'schedule': 'cosine'},
    'heads34_w3_lr5e-3': {**_BASE, 'model.local_weight': 3., 'learning_rate': 5e-3},
    'heads34_w3_head_conv64': {**_BASE, 'model.local_weight': 3., 'model.head_conv': 64},
    'dynamics_reach12': {**_BASE, 'model.local_weight': 3., 'dataset.level': 'dynamics',
                         'skips': 'input+1>5:fresh-8+2>5:fresh-8+3>5:fresh-8',
                         'eval_every': 500, 'log_every': 500},
    'full_heads1234': {**_BASE, 'model.local_heads': '1,2,3,4', 'model.local_weight': 1.,
                       'module_lr_scales': ''},
    'm1_frozen_heads234': {**_BASE, 'model.local_heads': '2,3,4', 'model.local_weight': 1.,
                           'module_lr_scales': '0'},
}

from experiments.sweeps import before_ema  # pylint: disable=g-import-not-at-top,wrong-import-position
RUNS = before_ema(RUNS)  # measured at 3e-3 without a parameter average
