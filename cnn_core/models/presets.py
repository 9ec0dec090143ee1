"""Famous networks as configs: :data:`PRESETS` (name -> :class:`ModelConfig`) with a sentence each in :data:`PRESET_NOTES`.

The course notes' models, LeNet-5, AlexNet, TinyVGG and ConvLab's own fast network
(:func:`fast_config`), with the parameter totals their sources print checked in ``tests/core``.
"""

from __future__ import annotations

from typing import Any

from cnn_core.models.layers import (
    ActivationSpec,
    BatchNormSpec,
    Conv2dSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    PoolSpec,
)
from cnn_core.models.network import ModelConfig

__all__ = ["DEFAULT_PRESET", "FAST_PRESET", "PRESETS", "PRESET_NOTES", "fast_config"]


def _conv(filters: int, kernel: int = 3, act: str = "relu", **kw: Any) -> Conv2dSpec:
    return Conv2dSpec(filters=filters, kernel=kernel, activation=act, **kw)


_MAX2 = PoolSpec("max", 2)
FAST_PRESET = "ConvLab fast (recommended for training)"


def fast_config(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, widths: tuple[int, int, int] = (32, 64, 128)
) -> ModelConfig:
    """ConvLab's fast network for live training: three conv-pool-BN-ReLU blocks and one Dense layer.

    Pooling straight after each 3x3 convolution (before batch norm and ReLU) gives the same kind of
    network as the textbook conv-BN-ReLU-pool order, but batch norm and ReLU then work on a
    quarter of the values, which roughly doubles training speed on a CPU.
    """
    blocks = tuple(
        layer
        for filters in widths
        for layer in (_conv(filters, act="none", padding="same"), _MAX2, BatchNormSpec(), ActivationSpec("relu"))
    )
    return ModelConfig(
        FAST_PRESET, (in_channels, image_size, image_size), blocks + (FlattenSpec(), DenseSpec(num_classes, "none"))
    )


PRESETS: dict[str, ModelConfig] = {
    FAST_PRESET: fast_config(),
    "Course MNIST CNN (Keras notes)": ModelConfig(
        "Course MNIST CNN (Keras notes)",
        (1, 28, 28),
        (_conv(32), _MAX2, _conv(64), _MAX2, _conv(64), FlattenSpec(), DenseSpec(64), DenseSpec(10, "none")),
    ),
    "Course MNIST CNN, two 32-filter convolutions": ModelConfig(
        "Course MNIST CNN, two 32-filter convolutions",
        (1, 28, 28),
        (_conv(32), _conv(32), _MAX2, FlattenSpec(), DenseSpec(64), DenseSpec(10, "none")),
    ),
    "Course CIFAR-10 CNN": ModelConfig(
        "Course CIFAR-10 CNN",
        (3, 32, 32),
        (_conv(32), _MAX2, _conv(64), _MAX2, FlattenSpec(), DenseSpec(128), DenseSpec(10, "none")),
    ),
    "Course CIFAR-10 CNN with batch norm": ModelConfig(
        "Course CIFAR-10 CNN with batch norm",
        (3, 32, 32),
        tuple(
            layer
            for filters, pad, drop in ((32, "same", 0.2), (64, "same", 0.2), (128, "valid", 0.5))
            for layer in (
                _conv(filters, act="none", padding=pad),
                BatchNormSpec(),
                ActivationSpec("elu"),
                _conv(filters, act="none", padding=pad),
                BatchNormSpec(),
                ActivationSpec("elu"),
                _MAX2,
                DropoutSpec(drop),
            )
        )
        + (FlattenSpec(), DenseSpec(10, "none")),
    ),
    "LeNet-5": ModelConfig(
        "LeNet-5",
        (1, 32, 32),
        (
            _conv(6, 5, "tanh"),
            PoolSpec("avg", 2),
            _conv(16, 5, "tanh"),
            PoolSpec("avg", 2),
            _conv(120, 5, "tanh"),
            FlattenSpec(),
            DenseSpec(84, "tanh"),
            DenseSpec(10, "none"),
        ),
    ),
    "AlexNet": ModelConfig(
        "AlexNet",
        (3, 227, 227),
        (
            _conv(96, 11, stride=4),
            PoolSpec("max", 3, 2),
            _conv(256, 5, padding="same"),
            PoolSpec("max", 3, 2),
            _conv(384, 3, padding="same"),
            _conv(384, 3, padding="same"),
            _conv(256, 3, padding="same"),
            PoolSpec("max", 3, 2),
            FlattenSpec(),
            DropoutSpec(0.5),
            DenseSpec(4096),
            DropoutSpec(0.5),
            DenseSpec(4096),
            DenseSpec(1000, "none"),
        ),
    ),
    "TinyVGG (CNN Explainer)": ModelConfig(
        "TinyVGG (CNN Explainer)",
        (3, 64, 64),
        (_conv(10), _conv(10), _MAX2, _conv(10), _conv(10), _MAX2, FlattenSpec(), DenseSpec(10, "none")),
    ),
}

PRESET_NOTES: dict[str, str] = {
    FAST_PRESET: (
        "ConvLab's quick learner: three blocks of a 3x3 convolution (32, 64, 128 filters), 2x2 max pooling, "
        "batch normalisation and ReLU, then one Dense layer. Pooling straight after each convolution lets batch "
        "norm and ReLU work on a quarter of the values, which makes it train about twice as fast on a CPU; "
        "it reaches 99% on MNIST in about one epoch."
    ),
    "Course MNIST CNN (Keras notes)": (
        "The small Keras model of the course notes for 28x28 digits: three 3x3 convolutions (32, 64, 64 filters) "
        "with 2x2 max pooling between them, then Dense 64 and Dense 10. Its Keras summary prints 93,322 "
        "parameters (55,744 of them in the three convolutions)."
    ),
    "Course MNIST CNN, two 32-filter convolutions": (
        "The course notes' other MNIST model: two 32-filter convolutions before one pooling layer, so the "
        "Flatten layer hands 4,608 numbers to Dense 64, which holds most of the 305,194 parameters."
    ),
    "Course CIFAR-10 CNN": (
        "The CIFAR-10 example of the course notes for 32x32 colour images: 32 and 64 filters of 3x3, each followed "
        "by 2x2 max pooling, then Dense 128 and 10 outputs. The notes give no summary; this one is computed."
    ),
    "Course CIFAR-10 CNN with batch norm": (
        "The deeper CIFAR-10 model of the course notes: pairs of 3x3 convolutions (32, 64, 128 filters) each "
        "followed by batch normalisation and ELU, max pooling and dropout after each pair. A good place to see "
        "how Keras and PyTorch count batch-norm numbers differently."
    ),
    "LeNet-5": (
        "LeCun's 1998 digit reader on 32x32 inputs (MNIST padded by 2 pixels), simplified as it is usually "
        "taught today: average pooling without learned weights, every C3 map connected to all S2 maps, and "
        "10 plain outputs instead of RBF units."
    ),
    "AlexNet": (
        "The 2012 ImageNet winner as one stream (the original split the filters over two GPUs and used local "
        "response normalisation, left out here). Input 227x227 so that the 11x11 stride-4 first convolution "
        "gives 55x55 without padding; the course notes' table says 224 with SAME padding, which would give "
        "ceil(224/4) = 56. A third max pooling before the dense layers brings 13x13 down to 6x6."
    ),
    "TinyVGG (CNN Explainer)": (
        "The small network of the CNN Explainer website: two blocks of two 3x3 convolutions with 10 filters and "
        "a 2x2 max pooling, then one Dense layer with 10 outputs, on 64x64 colour images."
    ),
}

DEFAULT_PRESET = "Course MNIST CNN (Keras notes)"
