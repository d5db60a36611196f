"""Vision-free controls for the synthetic sets: hand-made features and a small classifier
that say how much class information a frame, a frame pair or a whole clip holds, with no
video model involved (docs/DATA.md, "Measured numbers"; `python -m experiments.control`).

The features are fixed numpy functions of the frames; `fit_predict` trains softmax
regression or a one-hidden-layer MLP on them, full batch, with Adam.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax


def fit_predict(xtr, ytr, xte, num_classes, *, hidden=0, steps=300, l2=1e-3):
  """Trains softmax regression (or a 1-hidden-layer MLP) full-batch with Adam; predicts xte."""
  mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
  xtr = jnp.asarray((xtr - mu) / sd, jnp.float32)
  xte = jnp.asarray((xte - mu) / sd, jnp.float32)
  d = xtr.shape[1]
  k1, k2 = jax.random.split(jax.random.PRNGKey(0))
  if hidden:
    params = dict(w1=jax.random.normal(k1, (d, hidden)) / np.sqrt(d), b1=jnp.zeros(hidden),
                  w=jax.random.normal(k2, (hidden, num_classes)) / np.sqrt(hidden),
                  b=jnp.zeros(num_classes))
  else:
    params = dict(w=jnp.zeros((d, num_classes)), b=jnp.zeros(num_classes))

  def logits(p, x):
    if hidden:
      x = jax.nn.relu(x @ p['w1'] + p['b1'])
    return x @ p['w'] + p['b']

  def loss(p):
    ce = optax.softmax_cross_entropy_with_integer_labels(logits(p, xtr), jnp.asarray(ytr))
    return ce.mean() + l2 * sum(jnp.sum(v**2) for n, v in p.items() if n.startswith('w'))

  opt = optax.adam(3e-3 if hidden else 1e-2)

  @jax.jit
  def train(p):
    def body(carry, _):
      p, s = carry
      u, s = opt.update(jax.grad(loss)(p), s)
      return (optax.apply_updates(p, u), s), None
    (p, _), _ = jax.lax.scan(body, (p, opt.init(p)), None, length=steps)
    return p

  params = train(params)
  return (np.asarray(jnp.argmax(logits(params, xtr), -1)),
          np.asarray(jnp.argmax(logits(params, xte), -1)))


def frame_features(f):
  """Raw pixels, the translation-invariant log amplitude spectrum and simple statistics."""
  spec = np.log(np.abs(np.fft.rfft2(f, axes=(1, 2))) + 1e-3)
  stats = np.concatenate([f.mean((1, 2)), f.std((1, 2))], -1)
  return np.concatenate([f.reshape(len(f), -1), spec.reshape(len(f), -1), stats], -1)


def pair_features(a, b):
  """Normalised cross-spectrum at low frequencies (shift) and spectral energy ratios (scale)."""
  fa, fb = np.fft.fft2(a, axes=(1, 2)), np.fft.fft2(b, axes=(1, 2))
  cross = (np.conj(fa) * fb).sum(-1)
  pa, pb = (np.abs(fa)**2).sum(-1), (np.abs(fb)**2).sum(-1)
  feats = []
  for ky, kx in [(0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0)]:
    c = cross[:, ky, kx] / (np.sqrt(pa[:, ky, kx] * pb[:, ky, kx]) + 1e-9)
    feats += [c.real, c.imag]
  fy, fx = np.meshgrid(np.fft.fftfreq(a.shape[1]), np.fft.fftfreq(a.shape[2]), indexing='ij')
  rad = np.hypot(fy, fx)
  for lo, hi in [(0.02, 0.1), (0.1, 0.2), (0.2, 0.35), (0.35, 0.8)]:
    m = (rad > lo) & (rad <= hi)
    feats.append(np.log(pb[:, m].sum(1) / pa[:, m].sum(1)))
  return np.stack(feats, -1)


def velocity_steps(frames):
  """Per-step velocity [N, T-1, 2] (x, y in pixels per frame) of a clip's foreground: the
  phase shift of the lowest Fourier coefficient along x and along y between consecutive
  frames, after subtracting each pixel's median over the clip (the static background).
  A global estimate: a distractor and the noise move it too."""
  n, t, h, w, _ = frames.shape
  background = np.median(np.moveaxis(frames, 1, -1), axis=-1)[:, None]
  fg = frames - background
  vs = []
  for axis, size in ((3, w), (2, h)):  # the lowest Fourier coefficient along x, then y
    wave = np.exp(-2j * np.pi * np.arange(size) / size).astype(np.complex64)
    shape = [1] * 5
    shape[axis] = size
    coeff = (fg * wave.reshape(shape)).sum((2, 3))                   # [N, T, C]
    cross = (np.conj(coeff[:, :-1]) * coeff[:, 1:]).sum(-1)
    vs.append(-np.angle(cross) * size / (2 * np.pi))
  return np.stack(vs, -1)


def _turns(v):
  """Speed per step [N, T-1] and the cosine and sine of the turn between steps [N, T-2]."""
  s = np.linalg.norm(v, axis=-1) + 1e-6
  norm = s[:, :-1] * s[:, 1:]
  dot = (v[:, :-1] * v[:, 1:]).sum(-1) / norm
  crs = (v[:, :-1, 0] * v[:, 1:, 1] - v[:, :-1, 1] * v[:, 1:, 0]) / norm
  return s, dot, crs


def clip_features(frames):
  """Rotation-invariant summary of the velocity sequence (13 numbers per clip): statistics
  of the turn's cosine and sine, the speed's trend, median change, mean and spread."""
  t = frames.shape[1]
  s, dot, crs = _turns(velocity_steps(frames))
  tc = np.arange(t - 1) - (t - 2) / 2
  slope = (s * tc).sum(1) / (tc**2).sum() / s.mean(1)
  ds = np.median(np.diff(s, axis=1), 1) / s.mean(1)
  return np.stack([dot.mean(1), dot.min(1), dot.max(1), np.median(dot, 1), crs.mean(1),
                   crs.min(1), crs.max(1), np.median(crs, 1), np.abs(crs).mean(1), slope, ds,
                   s.mean(1), s.std(1) / s.mean(1)], -1)


def velocity_sequence(frames):
  """The rotation-invariant velocity sequence itself, in order: the speed per step over its
  clip mean (T-1), the turn's cosine and sine per pair of steps (T-2 each)."""
  s, dot, crs = _turns(velocity_steps(frames))
  return np.concatenate([s / s.mean(1, keepdims=True), dot, crs], 1)


def chance_band(num_classes, n):
  """Chance accuracy and 3 standard deviations of it at `n` test clips."""
  p = 1.0 / num_classes
  return p, 3 * np.sqrt(p * (1 - p) / n)
