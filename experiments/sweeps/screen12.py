"""Screen 12, on the head-conv default (1500 steps, seed 0; the default at its step 1500:
Skip-Sideways 0.795; at step 250 it is still at chance, 0.127, where bptt has 0.482): is
the slow start the stale-gradient modules 3-4 taking full Adam steps from step 1? Train
them at 0.3x the rate, or warm every module's rate up over the first 300 steps."""
_BASE = {'eval_every': 250, 'log_every': 250, 'checkpoint_every': 0, 'num_steps': 1500}
RUNS = {
    'sw_mid_0.3': {**_BASE, 'module_lr_scales': '0,0,0.3,0.3'},
    'sw_warmup300': {**_BASE, 'warmup_steps': 300},
}
