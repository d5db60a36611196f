"""The launcher's preprocessing: uint8 clips become floats on the device, centring fused."""

import types

from absl.testing import absltest
import numpy as np

from experiments import builders
from experiments import checks
from experiments.configs import default
from sideways_jax.data import transforms


class _Clips(types.SimpleNamespace):
  def to_float(self, frames):
    return transforms.to_float(frames, self.mean, self.std)


class PreprocessTest(absltest.TestCase):

  def _batch(self):
    frames = np.random.RandomState(0).randint(0, 256, (2, 3, 8, 8, 3), np.uint8)
    return {'frames': frames, 'labels': np.zeros((2, 3), np.int32),
            'video_ids': np.zeros((2, 3), np.int32)}

  def test_uint8_on_the_device_equals_floats_on_the_host(self):
    for center in (True, False):
      for mean, std in (((0.4, 0.5, 0.6), (0.2, 0.25, 0.3)), (None, None)):
        config = default.get_config('tiny')
        config.center_frames = center
        clips = _Clips(mean=mean, std=std)
        batch = self._batch()
        host = dict(batch, frames=clips.to_float(batch['frames']))
        want = builders.preprocess(config, clips)(host)['frames']
        got = builders.preprocess(config, clips)(batch)['frames']
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_allclose(np.asarray(got), want, atol=2e-6, rtol=0)
        if center:
          np.testing.assert_allclose(np.asarray(got).mean(axis=(2, 3)), 0, atol=1e-5)

  def test_integer_frames_without_to_float_are_refused(self):
    with self.assertRaisesRegex(checks.InputError, 'floating-point frames'):
      builders.preprocess(default.get_config('tiny'))(self._batch())


if __name__ == '__main__':
  absltest.main()
