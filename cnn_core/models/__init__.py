"""Network configs and the PyTorch models they describe: the one home of "which layers, in what order".

A network is a :class:`ModelConfig`: an input shape ``(C, H, W)`` and a tuple of layer specs
(:class:`Conv2dSpec`, :class:`PoolSpec`, :class:`BatchNormSpec`, :class:`DropoutSpec`,
:class:`FlattenSpec`, :class:`GlobalAvgPoolSpec`, :class:`DenseSpec`, :class:`ActivationSpec`),
all frozen dataclasses. The package is

* :mod:`~cnn_core.models.base`: the layer registry (:class:`LayerSpec`, :func:`register`,
  :data:`LAYER_TYPES`, the field :class:`Setting` every codec and the editor read);
* :mod:`~cnn_core.models.layers`: the layer types, one class each, owning its description, shape
  plan, link token and torch modules;
* :mod:`~cnn_core.models.network`: :func:`plan` (shapes, parameters, receptive field; names the first
  impossible layer, :class:`LayerError`), :func:`build` (the trainable ``nn.Sequential``; the last
  Dense layer gives logits, ``nn.CrossEntropyLoss`` applies softmax) and :func:`to_pytorch_code`;
* :mod:`~cnn_core.models.codec`: :func:`to_dict` / :func:`from_dict` (JSON, saved next to trained
  weights) and :func:`to_query` / :func:`from_query` (a compact string for a shareable link);
* :mod:`~cnn_core.models.presets`: :data:`PRESETS`, famous networks, with :data:`PRESET_NOTES`.

Keras' ``padding="same"`` is reproduced exactly: ``padding="same"`` in torch for stride 1, and an
explicit TensorFlow-style ``nn.ZeroPad2d`` (possibly one cell more at the bottom/right) before the
convolution when the stride is larger, so output shapes always match Keras.
"""

from __future__ import annotations

from cnn_core.models.base import ACTIVATIONS, LAYER_TYPES, LayerSpec, ModulePlan, Setting, Step, Window, register
from cnn_core.models.block_layers import (
    Bottleneck,
    ConvBNSpec,
    InceptionSpec,
    ResidualSpec,
    SeparableConvSpec,
    bottleneck_saving,
)
from cnn_core.models.codec import from_dict, from_query, to_dict, to_query
from cnn_core.models.layers import (
    ActivationSpec,
    BatchNormSpec,
    Conv2dSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    PoolSpec,
)
from cnn_core.models.network import (
    MAX_ACTIVATIONS,
    MAX_INPUT_CHANNELS,
    MAX_INPUT_SIDE,
    MAX_LAYERS,
    MAX_MACS,
    MAX_PARAMS,
    LayerError,
    LayerPlan,
    ModelConfig,
    Plan,
    build,
    describe_layer,
    plan,
    to_pytorch_code,
    validate,
    with_num_classes,
)
from cnn_core.models.presets import (
    DEFAULT_PRESET,
    FAST_PRESET,
    PRESET_NOTES,
    PRESETS,
    fast_config,
    small_inception,
    small_resnet,
)
from cnn_core.models.receptive import Region, unit_region

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_PRESET",
    "FAST_PRESET",
    "LAYER_TYPES",
    "MAX_ACTIVATIONS",
    "MAX_INPUT_CHANNELS",
    "MAX_INPUT_SIDE",
    "MAX_LAYERS",
    "MAX_MACS",
    "MAX_PARAMS",
    "PRESETS",
    "PRESET_NOTES",
    "ActivationSpec",
    "Bottleneck",
    "ConvBNSpec",
    "InceptionSpec",
    "ResidualSpec",
    "SeparableConvSpec",
    "bottleneck_saving",
    "BatchNormSpec",
    "Conv2dSpec",
    "DenseSpec",
    "DropoutSpec",
    "FlattenSpec",
    "GlobalAvgPoolSpec",
    "LayerError",
    "LayerPlan",
    "LayerSpec",
    "ModelConfig",
    "ModulePlan",
    "Plan",
    "PoolSpec",
    "Setting",
    "Step",
    "Window",
    "build",
    "describe_layer",
    "fast_config",
    "from_dict",
    "from_query",
    "plan",
    "Region",
    "register",
    "unit_region",
    "small_inception",
    "small_resnet",
    "to_dict",
    "to_pytorch_code",
    "to_query",
    "validate",
    "with_num_classes",
]
