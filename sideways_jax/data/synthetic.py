"""Embedded synthetic video sets: generated on the fly, no download, deterministic per index.

Three sets, all following the dataset protocol (`sideways_jax.data.Dataset`, docs/DATA.md):

* `temporal_actions` (the default dataset): the class is a motion pattern, and no single
  frame carries any class information. Every per-frame attribute (position on a torus,
  orientation, size, colours, background, distractors, noise) has the same distribution in
  every frame of every class; only how frames relate in time differs.
* `appearance`: the class is the object's shape and texture, visible in every frame; motion
  is a nuisance. A control set where per-frame models should do well.
* `moving_digits` (in digits.py): Moving-MNIST-style bouncing digits for prediction.

Each clip is rendered from a fixed-length vector of uniforms drawn from its own generator,
seeded by (seed, split, set, index), so a clip does not depend on the batch it is drawn in,
and train and test never share a clip. Generation is vectorised numpy over whole batches
(synthetic_render.py). Every set is a `SyntheticClips` (synthetic_clips.py: per-clip draws,
chunked rendering, kept clips, augmentation); this module holds the sets' scenes and motions.

A clip does not change with the epoch unless `augment` asks for label-preserving
transforms (`AUGMENTS`: torus shifts, quarter turns, colour channel order), drawn per
(index, epoch); `flip=True` is refused (a mirror would turn 'left' into 'right', or a
clockwise turn into a counter-clockwise one, without changing the label).
"""

import numpy as np

from sideways_jax.data import synthetic_render as render
# The dataset class and the checks every set shares (synthetic_clips.py), importable from
# here as before (digits.py and the tests use `synthetic.SyntheticClips`, `common_args`, ...).
from sideways_jax.data.synthetic_clips import (  # pylint: disable=unused-import
    AUGMENTS, DEFAULT_NUM_CLIPS, RENDER_CHUNK, SPLITS, SyntheticClips, check_augment,
    check_choice, check_int, check_no_flip, common_args, select_classes)

LEVELS = ('motion', 'dynamics')

MOTION_CLASSES = ('right', 'up', 'left', 'down', 'rotate_ccw', 'rotate_cw', 'grow', 'shrink')
DYNAMICS_CLASSES = ('constant', 'accelerate', 'decelerate', 'reverse', 'turn_ccw', 'turn_cw',
                    'circle_ccw', 'circle_cw')
APPEARANCE_SHAPES = ('disc', 'oval', 'triangle', 'square', 'star')
APPEARANCE_CLASSES = tuple(f'{s}_{t}' for s in APPEARANCE_SHAPES for t in ('solid', 'striped'))

# Default difficulty (fixed here, never tuned by a launcher).
DEFAULT_NOISE = 0.05          # std of per-pixel Gaussian noise (frames are in [0, 1])
DEFAULT_DISTRACTORS = 1       # small shapes drifting at random constant velocities
BACKGROUND_TEXTURE = 0.1      # amplitude of the smooth static background texture


def difficulty(noise, num_distractors):
  noise = DEFAULT_NOISE if noise is None else noise
  num_distractors = DEFAULT_DISTRACTORS if num_distractors is None else num_distractors
  if not isinstance(noise, (int, float)) or not 0 <= noise <= 0.5:
    raise ValueError(f'noise must be a number in [0, 0.5]; got {noise!r}.')
  check_int('num_distractors', num_distractors, 0, 3)
  return float(noise), num_distractors


def _scene(cols, b, t, h, w, c, scale, num_distractors):
  """Background, distractors and the actor's colours: the class-independent part of a clip."""
  frames, base = render.smooth_background(cols, h, w, c, BACKGROUND_TEXTURE)
  frames = np.repeat(frames[:, None], t, axis=1)
  steps = np.arange(t, dtype=np.float64)
  for _ in range(num_distractors):
    pos0 = cols.take(2) * [w, h]
    heading = 2 * np.pi * cols.take()
    speed = cols.uniform(0.0, 1.5) * scale
    vel = speed[:, None] * np.stack([np.cos(heading), -np.sin(heading)], -1)
    pos = pos0[:, None] + vel[:, None] * steps[None, :, None]
    angle = np.repeat((2 * np.pi * cols.take())[:, None], t, 1)
    radius = np.repeat(cols.uniform(1.5, 3.0)[:, None] * scale, t, 1)
    render.draw_shapes(frames, pos, angle, radius, render.random_shape_coeffs(cols),
                       render.contrasting_colours(cols, base))
  colour = render.contrasting_colours(cols, base)
  stripe_colour = render.contrasting_colours(cols, colour)
  return frames, colour, stripe_colour


def _motion_trajectory(labels, cols, t, h, w, scale, speed=1.0):
  """Level 'motion': the class is the velocity that any two consecutive frames show.
  `speed` scales how far everything moves per frame (the same clips, filmed faster or
  slower)."""
  steps = speed * np.arange(t, dtype=np.float64)[None]
  pos0 = cols.take(2) * [w, h]
  angle0 = 2 * np.pi * cols.take()
  r_lo, r_hi = 3.5 * scale, 9.0 * scale
  size_phase = cols.take()
  translate = labels < 4
  heading = labels * (np.pi / 2)
  speed = cols.uniform(1.0, 2.5) * scale * translate
  vel = speed[:, None] * np.stack([np.cos(heading), -np.sin(heading)], -1)
  pos = pos0[:, None] + vel[:, None] * steps[..., None]
  spin = cols.uniform(0.15, 0.35) * np.select([labels == 4, labels == 5], [1.0, -1.0], 0.0)
  angle = angle0[:, None] + spin[:, None] * steps
  growth = cols.uniform(0.35, 0.6) * scale / (r_hi - r_lo)
  growth = growth * np.select([labels == 6, labels == 7], [1.0, -1.0], 0.0)
  # Size phase on a circle (a growing shape restarts small): uniform size in every frame.
  radius = r_lo + (r_hi - r_lo) * np.mod(size_phase[:, None] + growth[:, None] * steps, 1.0)
  return pos, angle, radius


def _dynamics_trajectory(labels, cols, t, h, w, scale):
  """Level 'dynamics': the class is how the velocity changes, which needs >= 3 frames.

  Every single step (frame pair) has a uniformly random direction and a speed uniform in
  [0.75, 2.25] px/frame (at 32x32) in every class, so one pair of frames is as
  uninformative as one frame; the class is only in how consecutive steps relate.
  """
  n = t - 1                                    # steps between frames
  j = np.arange(n, dtype=np.float64)[None]
  lo, hi = 0.75 * scale, 2.25 * scale
  pos0 = cols.take(2) * [w, h]
  heading0 = 2 * np.pi * cols.take()
  speed0 = cols.uniform(lo, hi)
  ramp_phase = cols.take()
  event = 1 + np.floor(cols.take() * (n - 3))  # turn/reversal after step `event`, in [1, n-3]
  angle0 = 2 * np.pi * cols.take()
  spin = cols.uniform(-0.1, 0.1)               # nuisance rotation of the shape
  radius = cols.uniform(4.0, 7.0) * scale
  after = (j > event[:, None]).astype(np.float64)
  lab = labels[:, None]
  turn = np.select(
      [lab == 3, lab == 4, lab == 5, lab == 6, lab == 7],
      [np.pi * after, np.pi / 2 * after, -np.pi / 2 * after, np.pi / 6 * j, -np.pi / 6 * j],
      0.0)
  heading = heading0[:, None] + turn
  # Speed ramps on a circle (sawtooth) so each step's speed stays uniform in [lo, hi].
  ramp = np.select([lab == 1, lab == 2], [j, -j], 0.0) / n
  ramped = lo + (hi - lo) * np.mod(ramp_phase[:, None] + ramp, 1.0)
  speed = np.where((lab == 1) | (lab == 2), ramped, speed0[:, None])
  disp = speed[..., None] * np.stack([np.cos(heading), -np.sin(heading)], -1)
  pos = pos0[:, None] + np.concatenate([np.zeros_like(disp[:, :1]), np.cumsum(disp, 1)], 1)
  steps = np.arange(t, dtype=np.float64)[None]
  angle = angle0[:, None] + spin[:, None] * steps
  return pos, angle, np.repeat(radius[:, None], t, 1)


def temporal_actions(split='train', *, level='dynamics', resolution=32, frames_per_clip=16,
                     num_classes=None, num_clips=None, seed=0, channels=3, noise=None,
                     num_distractors=None, flip=None, speed=1.0, augment=None):
  """The project's default dataset: actions that only time reveals.

  One random asymmetric shape (the actor, radius 4-7 px at 32x32; solid or striped) moves on
  a torus over a smooth random background, with `num_distractors` smaller shapes (radius
  1.5-3 px) drifting at random constant velocities and Gaussian pixel noise. Classes:

  * level='motion' (8 classes, two frames suffice): translate right / up / left / down
    (1-2.5 px/frame), rotate ccw / cw (0.15-0.35 rad/frame), grow / shrink (0.35-0.6
    px/frame; the size wraps round, so a growing shape occasionally restarts small).
  * level='dynamics' (8 classes, the default; three or more frames needed, turns and
    reversals happen at a random step so usually more): constant velocity, accelerate,
    decelerate (speed ramps 0.75 -> 2.25 px/frame or back, restarting once), reverse
    (bounce) once, turn 90 degrees ccw / cw once, circle ccw / cw (30 degrees per frame).

  Defaults (fixed, the difficulty we report numbers for): level='dynamics', 8 classes,
  32x32x3, 16 frames, noise std 0.05, 1 distractor. Speeds and sizes scale with resolution.

  Args:
    split: 'train' or 'test' (disjoint clips).
    level: 'motion' or 'dynamics'.
    resolution: frame height and width in pixels.
    frames_per_clip: T (>= 5 for 'dynamics').
    num_classes: use the first `num_classes` classes (2..8); None for all 8.
    num_clips: clips in the split; default 8192 train / 1024 test.
    seed: base seed; the clip is a function of (seed, split, index).
    channels: 1 or 3.
    noise: pixel noise std; None for the default 0.05.
    num_distractors: 0..3; None for the default 1.
    flip: None or False (accepted so a config can pass one `flip` to any dataset); True
      raises ValueError, as the set has no augmentation.
    speed: level 'motion' only: a multiplier of the actor's motion per frame (translation,
      spin and growth alike) for speed studies; the default 1 is the reported difficulty.
      The same clips at another frame rate: every clip is drawn from the same numbers.
    augment: label-preserving transforms for training, drawn per (index, epoch): 'roll'
      (a random shift on the torus), 'rot90' (a random quarter turn: every class keeps its
      label but motion's translations, which turn with the clip: right becomes up), 'colors'
      (a random order of the colour channels); comma-separated, or None (the default).

  Returns:
    A `SyntheticClips`.
  """
  check_no_flip('temporal_actions', flip)
  if not isinstance(speed, (int, float)) or isinstance(speed, bool) or not 0 < speed <= 8:
    raise ValueError(f'speed must be a number in (0, 8]; got {speed!r}.')
  if speed != 1.0 and level != 'motion':
    raise ValueError(f"speed={speed} is for level='motion'; the dynamics level has no "
                     'speed setting.')
  check_choice('level', level, LEVELS)
  num_clips = common_args(split, resolution, frames_per_clip, num_clips, channels,
                           min_frames=5 if level == 'dynamics' else 2)
  names = select_classes(num_classes, MOTION_CLASSES if level == 'motion' else DYNAMICS_CLASSES)
  noise, num_distractors = difficulty(noise, num_distractors)
  t, h, w, c = frames_per_clip, resolution, resolution, channels
  scale = resolution / 32.0
  trajectory = _motion_trajectory if level == 'motion' else _dynamics_trajectory

  def render_fn(labels, cols):
    b = len(labels)
    frames, colour, stripe_colour = _scene(cols, b, t, h, w, c, scale, num_distractors)
    if level == 'motion':
      pos, angle, radius = trajectory(labels, cols, t, h, w, scale, speed)
    else:
      pos, angle, radius = trajectory(labels, cols, t, h, w, scale)
    stripes = (cols.take() < 0.5).astype(np.float32)
    render.draw_shapes(frames, pos, angle, radius, render.random_shape_coeffs(cols), colour,
                       stripes, stripe_colour, stripe_period=3.5 * scale)
    return render.add_noise(frames, cols, noise)

  return SyntheticClips(
      name='temporal_actions', split=split, class_names=names, frame_shape=(h, w, c),
      frames_per_clip=t, num_clips=num_clips, seed=seed, render_fn=render_fn,
      config=dict(level=level, resolution=resolution, noise=noise,
                  num_distractors=num_distractors, seed=seed, speed=speed),
      augment=augment, turn_labels=_turn_translations if level == 'motion' else None)


def _turn_translations(labels, turns):
  """Motion labels after `turns` counter-clockwise quarter turns: a translation (right, up,
  left, down = 0-3) turns with the clip; rotations and size changes keep their label."""
  labels = np.asarray(labels)
  return np.where(labels < 4, (labels + turns) % 4, labels).astype(labels.dtype)


_SHAPE_COEFFS = {  # harmonics k = 2, 3, 4, 5 of each appearance class's outline
    'disc': (0, 0, 0, 0), 'oval': (0.3, 0, 0, 0), 'triangle': (0, 0.2, 0, 0),
    'square': (0, 0, 0.12, 0), 'star': (0, 0, 0, 0.35)}


def appearance(split='train', *, resolution=32, frames_per_clip=16, num_classes=None,
               num_clips=None, seed=0, channels=3, noise=None, num_distractors=None,
               flip=None, augment=None):
  """Control set: the class is the object's shape x texture, visible in every frame.

  10 classes = 5 outlines (disc, oval, triangle, square, star; slightly jittered per clip)
  x 2 textures (solid, striped). The object (radius 5-8 px at 32x32) moves at a random
  constant velocity (0-2 px/frame) and spin on the same kind of scene as
  `temporal_actions` (background texture, distractors, noise std 0.05). Args as there
  (`augment`: every transform keeps every label here).
  """
  check_no_flip('appearance', flip)
  num_clips = common_args(split, resolution, frames_per_clip, num_clips, channels)
  names = select_classes(num_classes, APPEARANCE_CLASSES)
  noise, num_distractors = difficulty(noise, num_distractors)
  t, h, w, c = frames_per_clip, resolution, resolution, channels
  scale = resolution / 32.0
  table = np.array([_SHAPE_COEFFS[s] for s in APPEARANCE_SHAPES], np.complex64)

  def render_fn(labels, cols):
    b = len(labels)
    frames, colour, stripe_colour = _scene(cols, b, t, h, w, c, scale, num_distractors)
    steps = np.arange(t, dtype=np.float64)[None]
    pos0 = cols.take(2) * [w, h]
    heading = 2 * np.pi * cols.take()
    speed = cols.uniform(0.0, 2.0) * scale
    vel = speed[:, None] * np.stack([np.cos(heading), -np.sin(heading)], -1)
    pos = pos0[:, None] + vel[:, None] * steps[..., None]
    angle = 2 * np.pi * cols.take()[:, None] + cols.uniform(-0.2, 0.2)[:, None] * steps
    radius = np.repeat(cols.uniform(5.0, 8.0)[:, None] * scale, t, 1)
    coeffs = table[labels // 2] + render.random_shape_coeffs(cols, strength=0.15)
    stripes = (labels % 2).astype(np.float32)
    render.draw_shapes(frames, pos, angle, radius, coeffs, colour, stripes, stripe_colour,
                       stripe_period=3.5 * scale)
    return render.add_noise(frames, cols, noise)

  return SyntheticClips(
      name='appearance', split=split, class_names=names, frame_shape=(h, w, c),
      frames_per_clip=t, num_clips=num_clips, seed=seed, render_fn=render_fn,
      config=dict(resolution=resolution, noise=noise, num_distractors=num_distractors,
                  seed=seed), augment=augment)
