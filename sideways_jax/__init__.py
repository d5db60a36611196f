"""sideways_jax: train video models with Sideways and Skip-Sideways (and exact baselines)."""

from sideways_jax.clock import drain_ticks
from sideways_jax.engine import ALGORITHMS, Trainer, TrainState, build
from sideways_jax.frozen_cache import FrozenCache
from sideways_jax.mesh.transfer import PlacedState
from sideways_jax.placement import Placement, make_mesh, place
from sideways_jax.layers import Conv2D, conv2d
from sideways_jax.network import Network, SkipEdge, skip_pattern, same_frame_forward
from sideways_jax.sideways import Activation, GradMessage, ModuleTick, module_tick
from sideways_jax.tasks import Classification, FramePrediction
from sideways_jax.updates import averaged_params, with_param_ema
from sideways_jax import models

__version__ = '0.1.0'  # the one version string: pyproject.toml reads it
