"""The launcher warm-starting and freezing modules on the `tiny` config: kept frozen outputs,
EMA evaluation, `init_from` / `init_modules` from another run."""

import os
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import numpy as np

import sideways_jax as sj

from experiments import builders
from experiments import checks
from experiments import evaluate
from experiments import train

from test_train import (  # the launcher test helpers
    tiny, tiny_digits, records, final_state, assert_same_leaves, first_params,
    without_timing, TmpDirs)


class TrainWarmStartTest(TmpDirs):

  @parameterized.parameters('classification', 'prediction')
  def test_kept_frozen_outputs_give_the_same_run(self, task):
    # 12 steps of 2 over 16 clips, so the second epoch reads every clip's kept outputs. The
    # same records and final state as computing them. Classification: module 1 of 3 frozen
    # (module 2 reads it); prediction (moving digits, 8 clips): modules 1-2 frozen, the top
    # also reading the frames x[t - 1] (the variant's skips).
    kept, computed = self.tmpdir(), self.tmpdir()
    if task == 'classification':
      config = lambda **kw: tiny(num_steps=12, module_lr_scales='0', eval_every=6,
                                 checkpoint_every=12, **kw)
      counts = (8, 4, 16)
    else:
      def config(**kw):
        c = tiny_digits(12)
        c.update(checkpoint_every=12, **kw)
        return c
      counts = (4, 8, 8)
    with mock.patch.object(sj.FrozenCache, 'attach', autospec=True,
                           side_effect=sj.FrozenCache.attach) as attach:
      train.train_and_evaluate(config(), kept)
    self.assertEqual(attach.call_count, 12)
    cache = attach.call_args[0][0]
    self.assertEqual((cache.misses, cache.hits, len(cache)), counts)
    with mock.patch.object(sj.FrozenCache, 'attach') as unused:
      train.train_and_evaluate(config(frozen_cache_gb=0.), computed)
    unused.assert_not_called()
    self.assertEqual(without_timing(records(kept)), without_timing(records(computed)))
    a, b = final_state(kept, config()).state, final_state(computed, config()).state
    # The buffers too, but for module 1's under prediction: a frozen module that only frozen
    # modules read is not run once theirs are given, so it leaves zeros (the next clip
    # empties the buffers anyway).
    unread = 1 if task == 'prediction' else 0
    read = lambda s: s._replace(pipeline=s.pipeline._replace(acts=s.pipeline.acts[unread:]))
    assert_same_leaves(self, read(a), read(b))
    if unread:
      self.assertFalse(np.asarray(a.pipeline.acts[0].value).any())
      self.assertTrue(np.asarray(b.pipeline.acts[0].value).any())

  def test_frozen_outputs_are_kept_for_the_embedded_sets_only(self):
    # A file dataset may change a clip every epoch (crops, flips), so every draw would be a
    # new entry: the launcher keeps none there.
    config = tiny(module_lr_scales='0')
    train_set, _ = builders.make_datasets(config)
    task, network = builders.make_task_and_network(config, train_set)
    trainer = builders.make_trainer(config, network, task, train_set.frame_shape)
    batch = builders.preprocess(config)(train_set.get_batch([0, 1]))
    params = trainer.init(jax.random.PRNGKey(0), batch).params
    self.assertIn('frozen_values', builders.frozen_cache(config, trainer, params,
                                                         train_set)(batch))

    class FromFiles:  # a dataset without keep_rendered, as the file loaders are
      pass
    augmented = tiny(module_lr_scales='0', **{'dataset.augment': 'roll'})
    for off in ((config, FromFiles()), (tiny(module_lr_scales='0', frozen_cache_gb=0.),
                                        train_set),
                (augmented, builders.make_datasets(augmented)[0])):  # new clips each epoch
      self.assertNotIn('frozen_values', builders.frozen_cache(off[0], trainer, params,
                                                              off[1])(batch))

  def test_ema_evaluates_the_average_and_leaves_training_alone(self):
    plain, averaged = self.tmpdir(), self.tmpdir()
    base = train.train_and_evaluate(tiny(), plain)
    final = train.train_and_evaluate(tiny(ema_decay=0.5, eval_raw=True), averaged)
    config = tiny(ema_decay=0.5)
    state = final_state(averaged, config).state
    assert_same_leaves(self, state.params, final_state(plain, tiny()).state.params)
    for key in ('loss', 'clip_accuracy'):  # the raw parameters score as the plain run
      self.assertAlmostEqual(final[f'raw_{key}'], base[key], places=5)
    self.assertNotAlmostEqual(final['loss'], base['loss'], places=5)
    train_set, test_set = builders.make_datasets(config)
    task, network = builders.make_task_and_network(config, train_set)
    trainer = builders.make_trainer(config, network, task, placed=False)
    chex.assert_trees_all_close(
        builders.eval_params(trainer, state, config),
        sj.averaged_params(state.params, state.opt_state, 0.5))
    self.assertAlmostEqual(evaluate.evaluate_workdir(averaged)['loss'], final['loss'],
                           places=5)  # experiments.evaluate reads the average too

  def test_init_from_gives_the_frozen_modules_another_runs_parameters(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), source)  # nothing frozen: all modules learn
    learned = final_state(source, tiny(num_steps=2)).state.params
    warm = self.tmpdir()
    config = tiny(num_steps=2, module_lr_scales='0', init_from=source)
    train.train_and_evaluate(config, warm)
    got = final_state(warm, config).state.params
    assert_same_leaves(self, got[0], learned[0])  # module 1: the source's, held
    fresh = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2, module_lr_scales='0'), fresh)
    start = final_state(fresh, tiny(num_steps=2, module_lr_scales='0')).state.params
    self.assertFalse(np.allclose(jax.tree.leaves(got[0])[0], jax.tree.leaves(start[0])[0]))
    self.assertFalse(np.allclose(jax.tree.leaves(got[1])[0], jax.tree.leaves(learned[1])[0]))

  def test_init_from_a_run_with_local_heads_takes_the_modules_own_parameters(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2, **{'model.local_heads': '1,2'}), source)
    learned = final_state(source, tiny(num_steps=2, **{'model.local_heads': '1,2'})
                          ).state.params
    self.assertTrue(any(n.startswith('local_head/') for n in learned[1]))
    warm = self.tmpdir()  # no heads here: modules 1-2 held at the source's, heads dropped
    config = tiny(num_steps=2, module_lr_scales='0,0', init_from=source)
    train.train_and_evaluate(config, warm)
    got = final_state(warm, config).state.params
    for k in (0, 1):
      self.assertFalse(any(n.startswith('local_head/') for n in got[k]))
      assert_same_leaves(self, got[k], {n: v for n, v in learned[k].items()
                                        if not n.startswith('local_head/')})

  def test_init_from_starts_a_local_head_of_another_shape_afresh(self):
    # The source's heads read a 3x3 conv of 8 channels (head_conv=8); here module 2's head
    # has 4: module 2's own parameters carry over, its head starts from initialisation.
    source = self.tmpdir()
    heads = {'model.local_heads': '2', 'model.head_conv': 8}
    train.train_and_evaluate(tiny(num_steps=2, **heads), source)
    learned = final_state(source, tiny(num_steps=2, **heads)).state.params
    config = tiny(init_from=source, init_modules='1,2', module_lr_scales='0',
                  **{'model.local_heads': '2', 'model.head_conv': 4})
    got, init = first_params(config)  # init: what warm_start starts from
    own = lambda p: {n: v for n, v in p.items() if not n.startswith('local_head/')}
    head = lambda p: {n: v for n, v in p.items() if n.startswith('local_head/')}
    assert_same_leaves(self, got[:1], learned[:1])
    assert_same_leaves(self, own(got[1]), own(learned[1]))
    self.assertNotEqual(jax.tree.map(np.shape, head(got[1])),
                        jax.tree.map(np.shape, head(learned[1])))
    assert_same_leaves(self, head(got[1]), head(init[1]))

  def test_init_modules_start_learning_modules_from_another_run(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), source)
    learned = final_state(source, tiny(num_steps=2)).state.params
    config = tiny(init_from=source, init_modules='2,3')  # nothing frozen: 2-3 start there
    got, _ = first_params(config)
    assert_same_leaves(self, got[1:], learned[1:])
    self.assertFalse(np.allclose(jax.tree.leaves(got[0])[0], jax.tree.leaves(learned[0])[0]))
    for bad, problem in (('2,9', 'not distinct module numbers 1..3'), ('x', 'not distinct')):
      with self.assertRaisesRegex(checks.ConfigError, f'init_modules=.*{problem}'):
        train.train_and_evaluate(tiny(init_from=source, init_modules=bad), self.tmpdir())
    with self.assertRaisesRegex(checks.ConfigError, 'init_modules=.*init_from, which is not'):
      train.train_and_evaluate(tiny(init_modules='1'), self.tmpdir())

  def test_init_from_lets_a_learning_module_read_new_skip_edges(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2, skips='none'), source)
    learned = final_state(source, tiny(num_steps=2, skips='none')).state.params
    config = tiny(init_from=source, init_modules='1,2,3', module_lr_scales='0',
                  skips='1>3:fresh-0/2')  # module 3 learns, and reads module 1 at two delays
    got, _ = first_params(config)
    assert_same_leaves(self, got[:2], learned[:2])
    new = sorted(n for n in got[2] if n not in learned[2])
    self.assertEqual(new, ['skip_from_1_d1/proj', 'skip_from_1_d3/proj'])
    assert_same_leaves(self, {n: got[2][n] for n in learned[2]}, learned[2])
    # A frozen module would hold a new skip's random projection forever: refused.
    frozen = tiny(init_from=source, module_lr_scales='0,0', skips='0>2')
    workdir = self.tmpdir()
    with self.assertRaisesRegex(checks.ConfigError, 'init_from=.*module 2 is frozen and '
                                'reads skip edges the source did not have'):
      train.train_and_evaluate(frozen, workdir)
    self.assertEqual(os.listdir(workdir), [])

  def test_init_from_refuses_what_it_cannot_use(self):
    source = self.tmpdir()
    train.train_and_evaluate(tiny(num_steps=2), source)
    cases = [(tiny(init_from=source), 'freezes none'),  # nothing frozen to fill
             (tiny(module_lr_scales='0', init_from=self.tmpdir()), 'not a run folder'),
             (tiny(module_lr_scales='0', init_from=source, **{'model.size': '16,16p'}),
              "parameter shapes")]
    for config, problem in cases:
      workdir = self.tmpdir()
      with self.assertRaisesRegex(checks.ConfigError, f'init_from=.*{problem}'):
        train.train_and_evaluate(config, workdir)
      self.assertEqual(os.listdir(workdir), [])  # a failed start leaves nothing behind


if __name__ == '__main__':
  absltest.main()
