"""The engine against an independent plain-Python reference (tests/sideways_reference.py).

Random moving clips through small conv / linear networks, with and without fresh and aligned
skips: every activation, gradient message, parameter gradient, validity flag and the params
after the step must match the reference, and the K = 3 worked table of SIDEWAYS.md must hold.
"""

import functools

import chex
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sideways_jax as sj
import sideways_reference as ref

B, T, H, W, C = 2, 7, 6, 6, 3
CLASSES = 5
LR = 0.1
TOL = dict(rtol=1e-5, atol=1e-5)

# name: (K, skips as (source, target, kind)); skips combine by sum (all shapes equal).
CASES = {
    'none': (3, ()),
    'fresh_1_3': (3, ((1, 3, 'fresh'),)),
    'fresh_input_0_2': (3, ((0, 2, 'fresh'),)),
    'fresh_input_0_3': (3, ((0, 3, 'fresh'),)),
    'aligned_1_3': (3, ((1, 3, 'aligned'),)),
    'aligned_input_0_3': (3, ((0, 3, 'aligned'),)),
    # Skips `older` frames than their kind's: x[t-1] into module 2 and module 3's aligned
    # frame 2 ticks older (its frame FIFO grows to 4), a module skip 1 -> 3 of delay 3.
    'older_input_0_2': (3, ((0, 2, 'fresh', 'sum', 1),)),
    'older_mixed': (3, ((0, 3, 'aligned', 'sum', 2), (1, 3, 'fresh', 'sum', 2))),
    'k4_none': (4, ()),
    'k4_mixed': (4, ((0, 3, 'fresh'), (1, 3, 'fresh'), (0, 4, 'aligned'), (2, 4, 'aligned'))),
    # Learned projections across differing shapes: module 1 pools 6x6x3 -> 3x3x4, so the
    # input skip into module 3 is pooled and 1x1-convolved (3 -> 5 channels), module 1's
    # skips into 3 and 4 change channels (4 -> 5), each message from its own slot.
    'k4_project': (4, ((0, 3, 'fresh', 'project'), (1, 3, 'aligned', 'project'),
                       (1, 4, 'fresh', 'project'))),
    # The bilinear rule: proj(s) + main * proj'(s), across differing shapes (0 -> 3, pooled
    # and 3 -> 5 channels) and equal ones (2 -> 4: the gate's 1x1 conv is kept even so).
    'k4_bilinear': (4, ((0, 3, 'fresh', 'bilinear'), (2, 4, 'fresh', 'bilinear'))),
    # Taps: one source into one module at several delays, each its own edge and message
    # (module 1's delta sums the three from module 4 and the one from module 2); the input
    # feeds module 3 at delays 0 and 2. Projected taps (pooled, channels changed), one of
    # them bilinear, each with parameters of its own.
    'k4_taps': (4, ((0, 3, 'fresh', 'sum', 0), (0, 3, 'fresh', 'sum', 2),
                    (1, 4, 'fresh', 'sum', 0), (1, 4, 'fresh', 'sum', 1),
                    (1, 4, 'aligned', 'sum', 0))),
    'k4_project_taps': (4, ((0, 3, 'fresh', 'project', 0), (0, 3, 'fresh', 'project', 1),
                            (1, 4, 'fresh', 'project', 0), (1, 4, 'fresh', 'bilinear', 2))),
    # Detached edges: module 4 reads module 1 at two delays, one of them through a
    # stop_gradient (its message is zero, still valid), and module 2 through another.
    'k4_detach': (4, ((1, 4, 'fresh', 'sum', 0), (1, 4, 'fresh', 'sum', 2, True),
                      (2, 4, 'aligned', 'sum', 0, True))),
}
POOLED = {'k4_project': (4, 5, 5), 'k4_bilinear': (4, 5, 5), 'k4_project_taps': (4, 5, 5)}  # per conv module: channels (module 1 also pools)


def engine_network(case):
  num_modules, skips = CASES[case]
  head = lambda x: hk.Linear(CLASSES)(x.mean(axis=(1, 2)))
  if case in POOLED:
    def conv(channels, pool):
      def module(x):
        x = jax.nn.relu(sj.Conv2D(channels, 3)(x))
        return hk.max_pool(x, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID') if pool else x
      return module
    convs = tuple(conv(c, i == 0) for i, c in enumerate(POOLED[case]))
  else:
    convs = (lambda x: jax.nn.relu(sj.Conv2D(C, 3)(x)),) * (num_modules - 1)
  return sj.Network(modules=convs + (head,),
                    skips=tuple(sj.SkipEdge(j, k, kind, *(rest or ['sum']))
                                for j, k, kind, *rest in skips))


def reference_bodies(case):
  num_modules, _ = CASES[case]
  if case in POOLED:
    return (ref.conv_relu_pool,) + (ref.conv_relu,) * (num_modules - 2) + (ref.mean_linear,)
  return (ref.conv_relu,) * (num_modules - 1) + (ref.mean_linear,)


def moving_clip(seed=0):
  """Random frames (every frame different); example 1 cuts to another video at frame 4."""
  rng = np.random.RandomState(seed)
  frames = rng.normal(size=(B, T, H, W, C)).astype(np.float32)
  labels = np.repeat(rng.randint(0, CLASSES, (B, 1)), T, 1)
  video_ids = np.repeat(np.arange(B)[:, None], T, 1)
  video_ids[1, 4:] = B + 1
  labels[1, 4:] = (labels[1, 0] + 1) % CLASSES
  return frames, labels.astype(np.int32), video_ids.astype(np.int32)


@functools.lru_cache(maxsize=None)
def run_both(case, update_every):
  """(engine trace, engine state after the step, reference result) on one clip. With
  update_every=3, SGD with momentum, so optimizer states are compared too."""
  num_modules, skips = CASES[case]
  net = engine_network(case)
  frames, labels, video_ids = moving_clip()
  batch = dict(frames=jnp.asarray(frames), labels=jnp.asarray(labels),
               video_ids=jnp.asarray(video_ids))
  params = net.init(jax.random.PRNGKey(0), batch['frames'][:, 0])
  momentum = 0.9 if update_every == 3 else 0.
  opt = optax.sgd(LR, momentum=momentum or None)
  trainer = sj.build(net, opt, sj.Classification(CLASSES), algorithm='sideways',
                     update_every=update_every, reset=True, drain=True, diagnostics=True)
  state = trainer.init(jax.random.PRNGKey(1), batch)
  state = state._replace(params=params, opt_state=tuple(opt.init(p) for p in params))
  state, metrics = trainer.step(state, batch)
  result = ref.run(reference_bodies(case), skips, params, frames, labels, video_ids, LR,
                   update_every, momentum)
  return jax.device_get(metrics['trace']), jax.device_get(state), result


def at(tree, t):
  return jax.tree.map(lambda x: x[t], tree)


# --- Engine == reference ---------------------------------------------------------------

@pytest.mark.parametrize('update_every', [1, 3])
@pytest.mark.parametrize('case', list(CASES))
def test_engine_equals_reference(case, update_every):
  trace, state, r = run_both(case, update_every)
  params = state.params
  num_modules = len(r['edges'])
  assert trace['loss'].mask.shape[0] == r['ticks']
  for k in range(1, num_modules + 1):
    tick = trace['ticks'][k - 1]
    act = tick.activation
    for t in range(r['ticks']):
      want = r['a'][k][t]
      where = f'module {k}, tick {t}'
      assert bool(act.valid[t]) == want['valid'], where
      if want['valid']:
        chex.assert_trees_all_close(act.value[t], want['value'], **TOL,
                                    custom_message=where)
        np.testing.assert_array_equal(act.label[t], want['label'], err_msg=where)
        np.testing.assert_array_equal(act.video_min[t], want['vmin'], err_msg=where)
        np.testing.assert_array_equal(act.video_max[t], want['vmax'], err_msg=where)
        if t < T:  # drain-tick frame indices: test_drain_ticks_hold_the_last_frame_index
          assert (int(act.oldest[t]), int(act.newest[t])) == (want['oldest'],
                                                              want['newest']), where
      # Gradient messages, one per input edge (main first, then skips by source).
      assert len(tick.messages) == len(r['edges'][k]), where
      for msg, (j, d) in zip(tick.messages, r['edges'][k]):
        m = r['e'][(k, j, d)][t]
        where_m = f'e_{k}->{j}[{t}]'
        assert bool(msg.valid[t]) == m['valid'], where_m
        assert bool(msg.has_loss[t]) == m['has_loss'], where_m
        if m['valid']:
          chex.assert_trees_all_close(msg.value[t], m['value'], **TOL,
                                      custom_message=where_m)
        else:
          assert not np.any(msg.value[t]), where_m + ' is not zero while invalid'
      # Parameter gradient g_k[t].
      assert bool(tick.grads_valid[t]) == r['g_valid'][(k, t)], where
      chex.assert_trees_all_close(at(tick.grads, t), r['g'][(k, t)], **TOL,
                                  custom_message=f'g_{k}[{t}]')
      assert bool(trace['stepped'][t, k - 1]) == r['stepped'][(k, t)], where
  # Loss of the top module.
  for t in range(r['ticks']):
    np.testing.assert_array_equal(trace['loss'].mask[t], r['loss'][t]['mask'],
                                  err_msg=f'loss mask, tick {t}')
    np.testing.assert_allclose(trace['loss'].value[t], r['loss'][t]['value'], **TOL)
  # Params and optimizer state after the step (momentum: the trace is the velocity).
  chex.assert_trees_all_close(params, r['params'], **TOL)
  if update_every == 3:
    for k in range(num_modules):
      chex.assert_trees_all_close(jax.tree.leaves(state.opt_state[k]),
                                  jax.tree.leaves(r['velocity'][k]), **TOL,
                                  custom_message=f'momentum of module {k + 1}')


def test_reference_trains_every_module():
  """Guards the comparison against a vacuous reference: every module steps and moves."""
  for case in ('none', 'k4_mixed'):
    _, _, r = run_both(case, 3)
    num_modules = len(r['edges'])
    for k in range(1, num_modules + 1):
      assert any(r['stepped'][(k, t)] for t in range(r['ticks'])), (case, k)


def test_drain_ticks_hold_the_last_frame_index():
  """Drain ticks feed x[T-1] again: its frame index stays T-1 (no new frame)."""
  trace, _, r = run_both('none', 1)
  for k in range(1, len(r['edges']) + 1):
    act = trace['ticks'][k - 1].activation
    for t in range(T, r['ticks']):
      want = r['a'][k][t]
      if want['valid']:
        assert (int(act.oldest[t]), int(act.newest[t])) == (want['oldest'], want['newest']), (
            f'module {k}, drain tick {t}')


# --- The K = 3 worked table of SIDEWAYS.md ------------------------------------------------

X = None  # not yet valid
# tick: (a_1 frame, a_2 frame, a_3 frame, delta_3 loss frame,
#        delta_2 (loss tick, frame), delta_1 (loss tick, frame))
TABLE = {
    0: (0, X, X, X, X, X),
    1: (1, 0, X, X, X, X),
    2: (2, 1, 0, 0, X, X),
    3: (3, 2, 1, 1, (2, 0), X),
    4: (4, 3, 2, 2, (3, 1), (2, 0)),
}


def table_row(t):
  """The table's row for tick t (the general row 't' past tick 4)."""
  if t in TABLE:
    return TABLE[t]
  return (t, t - 1, t - 2, t - 2, (t - 1, t - 3), (t - 2, t - 4))


def first_valid(flags):
  flags = np.asarray(flags)
  return int(np.argmax(flags)) if flags.any() else None


def test_worked_table_k3():
  trace, _, r = run_both('none', 1)
  for t in range(T):
    row = table_row(t)
    for k in (1, 2, 3):  # frame held by a_k
      act = trace['ticks'][k - 1].activation
      frame = row[k - 1]
      assert bool(act.valid[t]) == (frame is not None), (k, t)
      assert r['a'][k][t]['valid'] == (frame is not None), (k, t)
      if frame is not None:
        assert (int(act.oldest[t]), int(act.newest[t])) == (frame, frame), (k, t)
        assert (r['a'][k][t]['oldest'], r['a'][k][t]['newest']) == (frame, frame), (k, t)
    # delta_3: loss on the frame a_3 holds. delta_k valid <=> e_{k->k-1}[t] valid (its input
    # is valid earlier). The reference also says which loss tick each delta came from.
    for k, want in ((3, row[3]), (2, row[4]), (1, row[5])):
      sent = trace['ticks'][k - 1].messages[0]
      assert bool(sent.valid[t]) == (want is not None), (k, t)
      if want is None:
        continue
      loss_tick, frame = (t, want) if k == 3 else want
      assert r['e'][(k, k - 1, int(k > 1))][t]['losses'] == {loss_tick}, (k, t)  # main edge
      assert r['a'][3][loss_tick]['newest'] == frame, (k, t)
      assert int(trace['ticks'][2].activation.newest[loss_tick]) == frame, (k, t)
  # Without skips: delta_3 valid from 2, delta_2 from 3, delta_1 from 4.
  for k, tick in ((3, 2), (2, 3), (1, 4)):
    assert first_valid(trace['ticks'][k - 1].messages[0].valid) == tick


def test_worked_table_fresh_skip_1_3():
  """a_3[t] mixes frames t-2..t-1; module 1 sums e_{2->1} (from 4) and e_{3->1} (from 3),
  so its delta is valid from tick 4."""
  trace, _, r = run_both('fresh_1_3', 1)
  top = trace['ticks'][2]
  for t in range(2, T):
    assert bool(top.activation.valid[t])
    assert (int(top.activation.oldest[t]), int(top.activation.newest[t])) == (t - 2, t - 1)
  # e_{2->1} sent from tick 3 arrives from 4; e_{3->1} (skip slot 1) sent from 2 arrives from 3.
  assert first_valid(trace['ticks'][1].messages[0].valid) + 1 == 4
  assert first_valid(trace['ticks'][2].messages[1].valid) + 1 == 3
  assert first_valid(trace['ticks'][0].messages[0].valid) == 4  # delta_1 valid from 4
  assert first_valid([r['e'][(1, 0, 0)][t]['valid'] for t in range(r['ticks'])]) == 4


def test_worked_table_aligned_skip_1_3():
  """a_3[t] reads a_1[t-2], frame t-2 like the main path."""
  trace, _, _ = run_both('aligned_1_3', 1)
  top = trace['ticks'][2].activation
  for t in range(2, T):
    assert (int(top.oldest[t]), int(top.newest[t])) == (t - 2, t - 2)


def test_worked_table_fresh_input_skip_0_3():
  """a_3[t] reads x[t]: it mixes frames t-2..t."""
  trace, _, _ = run_both('fresh_input_0_3', 1)
  top = trace['ticks'][2].activation
  for t in range(2, T):
    assert (int(top.oldest[t]), int(top.newest[t])) == (t - 2, t)
