"""The real-data path learns in the real variants' regime: `default.py:ucf101` (VGG-8 in the
default's regime carried to K = 8: modules 1-5 held, local heads on modules 6-7, one Adam
step per clip at 1e-3, parameter average) reading a prepared copy of the `motion` set exported as video
files in UCF101's layout at 64x64, with the network at a quarter of VGG-8's width (16-128
channels; full width at 112x112 needs an accelerator) and the dataset keys the exported
set needs (16-frame videos: temporal_stride 1; direction is the class: no flips; the whole
64x64 frame: short_side 64). Skip-Sideways and bptt on the same graph, three seeds each,
1500 steps of batch 8, one core a run, two side by side (bptt trains the same modules
with the top's loss alone: no heads).

  python -m sideways_jax.data.export --dataset=temporal_actions --level=motion \\
      --root=workdirs/motion64_files --train_clips=8192 --test_clips=512 --resolution=64
  python -m sideways_jax.data.prepare --dataset=ucf101 --root=workdirs/motion64_files \\
      --out=workdirs/motion64_prepared --short_side=64 --workers=2
  python -m experiments.sweep --sweep=experiments/sweeps/results_real_path.py \\
      --root=workdirs/results_real_path --parallel=2
  python -m experiments.report --sweep=experiments/sweeps/results_real_path.py \\
      --root=workdirs/results_real_path --out=docs/results/real_path
"""

CONFIG = 'experiments/configs/default.py:ucf101'
SEEDS = (0, 1, 2)
_DATA = {'dataset.prepared': 'workdirs/motion64_prepared', 'dataset.resolution': 64,
         'dataset.short_side': 64, 'dataset.flip': False, 'dataset.temporal_stride': 1,
         'dataset.num_workers': 1, 'model.width': 0.25, 'num_steps': 1500,
         'eval_every': 250, 'log_every': 100, 'checkpoint_every': 250, 'eval_clips': 512}
RUNS = {
    'skip_sideways': dict(_DATA),
    'bptt': {**_DATA, 'algorithm': 'bptt'},
}
