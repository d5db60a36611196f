"""The dataset every embedded synthetic set is: per-clip random numbers, chunked rendering,
kept clips, per-(index, epoch) augmentation; and the argument checks the sets share.

A set (synthetic.py, digits.py) gives `SyntheticClips` a `render_fn(labels, columns) ->
frames` over a batch of clips; this module does the rest of the dataset protocol
(`sideways_jax.data.Dataset`, docs/DATA.md). Each clip is rendered from a fixed-length
vector of uniforms drawn from its own generator, seeded by (seed, split, set, index), so a
clip does not depend on the batch it is drawn in (up to the last bit of float32, see
`SyntheticClips.render_kept`) and train and test never share a clip.

A clip does not change with the epoch unless `augment` asks for label-preserving
transforms (`AUGMENTS`: torus shifts, quarter turns, colour channel order), drawn per
(index, epoch).
"""

import zlib

import numpy as np

from sideways_jax.data import synthetic_render as render

SPLITS = ('train', 'test')
DEFAULT_NUM_CLIPS = {'train': 8192, 'test': 1024}
_NUM_PARAMS = 256             # per-clip uniforms; enough for 3 distractors and 64 frames
RENDER_CHUNK = 16             # clips rendered at once; kept clips in index-aligned chunks

# Label-preserving training transforms, drawn per (index, epoch). Every set lives on a torus,
# so a shift is another start position; a quarter turn keeps every class but motion's
# translations, whose labels turn with it; colours are random in every class.
AUGMENTS = ('roll', 'rot90', 'colors')


def check_choice(name, value, allowed):
  if value not in allowed:
    raise ValueError(f'{name} must be one of {", ".join(map(repr, allowed))}; got {value!r}.')


def check_augment(augment):
  """`augment` as a tuple of AUGMENTS names: None / '' / 'none' -> (); 'roll,rot90' or a
  sequence of names."""
  if augment is None:
    return ()
  names = augment.split(',') if isinstance(augment, str) else list(augment)
  names = tuple(n.strip() for n in names if n.strip() and n.strip() != 'none')
  bad = [n for n in names if n not in AUGMENTS]
  if bad or len(set(names)) != len(names):
    raise ValueError(f'augment={augment!r}: give distinct names of {", ".join(AUGMENTS)}, '
                     "comma-separated (e.g. 'roll,rot90,colors'), or None for no "
                     'augmentation.')
  return names


def check_int(name, value, lo, hi=None):
  ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
  ok = ok and value >= lo and (hi is None or value <= hi)
  if not ok:
    allowed = f'an integer >= {lo}' if hi is None else f'an integer in [{lo}, {hi}]'
    raise ValueError(f'{name} must be {allowed}; got {value!r}.')



class SyntheticClips:
  """A split of a synthetic set, per the dataset protocol: `ds[i]`, `len(ds)`, `get_batch`.

  Attributes:
    name: the set's registry name.
    split: 'train' or 'test'.
    num_classes: number of labels; `class_names[label]` names one.
    item_labels: the label of every clip (int32 [N], drawn without rendering).
    frame_shape: (H, W, C).
    frames_per_clip: T.
    config: the generation settings, for logging.
    augment: the label-preserving transforms applied per (index, epoch), a tuple of AUGMENTS
      names (empty: the clip is the same every epoch).
  """

  def __init__(self, *, name, split, class_names, frame_shape, frames_per_clip, num_clips,
               seed, render_fn, config, augment=(), turn_labels=None):
    self.name = name
    self.split = split
    self.class_names = tuple(class_names)
    self.num_classes = len(self.class_names)
    self.frame_shape = tuple(frame_shape)
    self.frames_per_clip = frames_per_clip
    self.config = dict(config)
    self._num_clips = num_clips
    self._render = render_fn
    self._seed_words = [int(seed) & 0xFFFFFFFF, SPLITS.index(split) + 1,
                        zlib.crc32(name.encode())]
    self._kept = None  # keep_rendered(): (frames [N, T, H, W, C], labels [N], rendered [N])
    self._item_labels = None  # item_labels, once asked for
    self.augment = check_augment(augment)
    if 'rot90' in self.augment and self.frame_shape[0] != self.frame_shape[1]:
      raise ValueError(f'augment={augment!r}: rot90 needs square frames, these are '
                       f'{self.frame_shape[0]}x{self.frame_shape[1]}; drop rot90.')
    # labels [B], quarter turns [B] -> labels of the turned clips (None: turns keep them)
    self._turn_labels = turn_labels
    if self.augment:
      self.config['augment'] = ','.join(self.augment)

  def __len__(self):
    return self._num_clips

  def __repr__(self):
    return (f'{type(self).__name__}({self.name!r}, split={self.split!r}, clips={len(self)}, '
            f'classes={self.num_classes}, frames={self.frames_per_clip}, '
            f'frame_shape={self.frame_shape})')

  def _draw(self, indices):
    """Per-clip labels [B] and uniforms [B, P], each from the clip's own generator."""
    labels = np.empty(len(indices), np.int32)
    uniforms = np.empty((len(indices), _NUM_PARAMS), np.float64)
    for n, i in enumerate(indices):
      rng = np.random.Generator(np.random.PCG64(
          np.random.SeedSequence(self._seed_words + [int(i)])))
      labels[n] = rng.integers(self.num_classes)
      uniforms[n] = rng.random(_NUM_PARAMS)
    return labels, uniforms

  def _indices(self, indices):
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= len(self))
    if bad.any():
      raise IndexError(f'clip index {idx[bad][0]} out of range for {len(self)} clips.')
    return idx

  def keep_rendered(self):
    """Keeps each clip in memory once rendered: later epochs read it back instead of
    rendering it again (a clip is the same every epoch, so the batches are unchanged).
    Memory fills as clips are first drawn, up to `kept_bytes` (float32 frames: 1.6 GB for
    the default 8192-clip train split at 16 x 32 x 32 x 3). Kept clips are rendered by
    whole index-aligned chunks (see `render_kept`), so which clips are kept, and their
    bits, never depend on the order they are drawn in. Returns the dataset."""
    if self._kept is None:
      n = len(self)
      self._kept = (np.empty((n, self.frames_per_clip) + self.frame_shape, np.float32),
                    np.empty(n, np.int32), np.zeros(n, bool))
    return self

  def render_kept(self, indices=None):
    """Renders and keeps, now, the clips `indices` not kept yet, by whole index-aligned
    chunks: clip i always with clips c * RENDER_CHUNK ... (c + 1) * RENDER_CHUNK - 1,
    c = i // RENDER_CHUNK (RENDER_CHUNK = 16; fewer in the last chunk). Turns on
    `keep_rendered` if it is off.

    A float32 pixel can depend, in its last bit, on the clips rendered beside it (numpy
    vectorises over the chunk; at 16x16, up to ~8e-7), so kept clips are only ever rendered
    by whole aligned chunks, here or by `get_batch` when it first draws one: a kept clip is
    bitwise the same whatever batch first drew it and whether it was rendered ahead of
    time. A run resumed at any step, with a fresh dataset, thus trains on the very clips
    the uninterrupted run kept, with no replay of earlier batches; calling this up front
    changes no batch, only when the rendering happens (all clips: one epoch of it). Over a
    first epoch, drawing renders no more in total, but a batch may render up to
    RENDER_CHUNK times its clips until their chunks are kept.

    Args:
      indices: clip indices (any int array-like), or None (the default) for every clip.

    Returns:
      The dataset.

    Raises:
      IndexError: an index is out of range.
    """
    self.keep_rendered()
    self._render_chunks(np.arange(len(self)) if indices is None else self._indices(indices))
    return self

  def _render_chunks(self, idx):
    """Renders and keeps the whole aligned chunks of the clips `idx` that are not kept."""
    kept_frames, kept_labels, rendered = self._kept
    for c in np.unique(idx[~rendered[idx]] // RENDER_CHUNK):
      lo, hi = int(c) * RENDER_CHUNK, min((int(c) + 1) * RENDER_CHUNK, len(self))
      kept_frames[lo:hi], kept_labels[lo:hi] = self._render_clips(np.arange(lo, hi))
      rendered[lo:hi] = True  # after the write: a reading thread sees whole clips only

  @property
  def item_labels(self):
    """The label of every clip, int32 [len(self)], drawn without rendering (what
    `get_batch` gives without `augment`; the test split is never augmented): what
    evaluation stratifies its held-out sample by."""
    if self._item_labels is None:
      self._item_labels = self._draw(np.arange(len(self)))[0]
      self._item_labels.setflags(write=False)
    return self._item_labels

  @property
  def kept_bytes(self):
    """Bytes `keep_rendered` holds once every clip was drawn (0 when not keeping)."""
    return 0 if self._kept is None else self._kept[0].nbytes + self._kept[1].nbytes

  def _render_clips(self, idx):
    labels, uniforms = self._draw(idx)
    if len(idx) == 0:
      return np.zeros((0, self.frames_per_clip) + self.frame_shape, np.float32), labels
    # Small sub-batches keep the intermediates in cache (~1.5x faster than one big batch).
    frames = np.concatenate([
        self._render(labels[s:s + RENDER_CHUNK],
                     render.Columns(uniforms[s:s + RENDER_CHUNK]))
        for s in range(0, len(idx), RENDER_CHUNK)])
    np.clip(frames, 0.0, 1.0, out=frames)
    return frames, labels

  def get_batch(self, indices, epoch=0):
    """Renders clips `indices` as frames [B, T, H, W, C], labels and video_ids [B, T] (int32).

    Without `augment` the epoch is ignored: a clip is the same every epoch. With it, each
    clip's transforms are drawn from (seed, split, index, epoch), so a batch is the same
    whatever else is in it and whenever it is drawn again.
    """
    idx = self._indices(indices)
    t = self.frames_per_clip
    if self._kept is None:
      frames, labels = self._render_clips(idx)
    else:
      self._render_chunks(idx)
      frames, labels = self._kept[0][idx], self._kept[1][idx]
    if self.augment:
      frames, labels = self._augment(idx, epoch, frames, labels)
    return dict(frames=frames,
                labels=np.repeat(labels[:, None], t, axis=1).astype(np.int32),
                video_ids=np.repeat(idx[:, None], t, axis=1).astype(np.int32))

  def _augment(self, idx, epoch, frames, labels):
    """Each clip shifted on the torus, turned by quarter turns and its colour channels
    reordered, as `augment` asks, with draws from the clip's (index, epoch) generator."""
    out = np.empty_like(frames)
    turns = np.zeros(len(idx), np.int64)
    h, w, c = self.frame_shape
    for n, i in enumerate(idx):
      rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
          self._seed_words + [int(i), int(epoch) + 1, 0xA06])))
      shift, turn, order = rng.integers(0, [h, w]), rng.integers(4), rng.permutation(c)
      clip = frames[n]
      if 'roll' in self.augment:
        clip = np.roll(clip, tuple(shift), axis=(1, 2))
      if 'rot90' in self.augment:
        turns[n] = turn
        clip = np.rot90(clip, turn, axes=(1, 2))  # counter-clockwise on screen
      if 'colors' in self.augment:
        clip = clip[..., order]
      out[n] = clip
    if self._turn_labels is not None:
      labels = self._turn_labels(labels, turns)
    return out, labels

  def __getitem__(self, i):
    if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
      raise TypeError(f'clip index must be an integer, got {type(i).__name__}.')
    if i < 0:
      i += len(self)
    batch = self.get_batch([i])
    return dict(frames=batch['frames'][0], label=int(batch['labels'][0, 0]),
                video_id=int(batch['video_ids'][0, 0]))



def check_no_flip(name, flip):
  """Synthetic sets are never flipped: flip may be None or False, never True."""
  if flip not in (None, False):
    raise ValueError(
        f'flip={flip!r}: {name} is rendered, not augmented by flips, so it has no flip; a '
        "mirrored clip would also turn 'left' into 'right' without changing its label. "
        'Leave flip unset (or False) for synthetic sets (augment= gives label-preserving '
        'transforms); flip applies to real video datasets.')


def common_args(split, resolution, frames_per_clip, num_clips, channels, min_frames=2):
  check_choice('split', split, SPLITS)
  check_int('resolution', resolution, 8)
  check_int('frames_per_clip', frames_per_clip, min_frames, 64)
  check_choice('channels', channels, (1, 3))
  if num_clips is None:
    num_clips = DEFAULT_NUM_CLIPS[split]
  check_int('num_clips', num_clips, 1, 2**31 - 1)
  return num_clips


def select_classes(num_classes, all_names, min_classes=2):
  if num_classes is None:
    return all_names
  check_int('num_classes', num_classes, min_classes, len(all_names))
  return all_names[:num_classes]

