"""Famous networks as configs: :data:`PRESETS` (name -> :class:`ModelConfig`) with a sentence each in :data:`PRESET_NOTES`.

The course notes' models, LeNet-5, AlexNet, TinyVGG and ConvLab's own fast network
(:func:`fast_config`), with the parameter totals their sources print checked in ``tests/core``.
"""

from __future__ import annotations

from typing import Any

from cnn_core.models.block_layers import ConvBNSpec, InceptionSpec, ResidualSpec
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
from cnn_core.models.network import ModelConfig

__all__ = [
    "DEFAULT_PRESET",
    "FAST_PRESET",
    "FAST_WIDTHS",
    "PRESETS",
    "PRESET_NOTES",
    "fast_config",
    "small_inception",
    "small_resnet",
]


def _conv(filters: int, kernel: int = 3, act: str = "relu", **kw: Any) -> Conv2dSpec:
    return Conv2dSpec(filters=filters, kernel=kernel, activation=act, **kw)


_MAX2 = PoolSpec("max", 2)
FAST_PRESET = "ConvLab fast (recommended for training)"
FAST_WIDTHS = (16, 32, 64)  # feature maps of the fast network's three blocks


def fast_config(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, widths: tuple[int, int, int] = FAST_WIDTHS
) -> ModelConfig:
    """ConvLab's fast network for live training: three conv-pool-BN-ReLU blocks and one Dense layer.

    Pooling straight after each 3x3 convolution (before batch norm and ReLU) gives the same kind of
    network as the textbook conv-BN-ReLU-pool order, but batch norm and ReLU then work on a
    quarter of the values, which roughly doubles training speed on a CPU. The first block is the
    narrowest because its maps are the largest (28 x 28): on a CPU its cost grows with its width
    far more than the later blocks' (16 filters there instead of 32 trains about twice as fast).
    The last block's 64 filters (instead of 128) make a step about a fifth cheaper; with the
    default recipe's higher peak learning rate it still ends its one epoch of Fashion-MNIST near 90 %.
    """
    blocks = tuple(
        layer
        for filters in widths
        for layer in (_conv(filters, act="none", padding="same"), _MAX2, BatchNormSpec(), ActivationSpec("relu"))
    )
    return ModelConfig(
        FAST_PRESET, (in_channels, image_size, image_size), blocks + (FlattenSpec(), DenseSpec(num_classes, "none"))
    )


def small_resnet(
    blocks_per_stage: int = 1,
    *,
    plain: bool = False,
    widths: tuple[int, ...] = (16, 32, 64),
    in_channels: int = 1,
    image_size: int = 28,
    num_classes: int = 10,
    name: str | None = None,
) -> ModelConfig:
    """A CIFAR-style ResNet: a 3x3 Conv-BN stem, ``blocks_per_stage`` residual blocks per width (the first
    of each later stage with stride 2), global average pooling and one Dense layer: 2·blocks·stages + 2
    weighted layers (1 block per stage: ResNet-8; 3: ResNet-20). ``plain=True``: the same layers without
    the shortcuts (a plain network of the same depth, for comparison).
    """
    stem = ConvBNSpec(widths[0], 3, padding="same", activation="relu")
    shortcut = "plain" if plain else "auto"
    body = tuple(
        ResidualSpec(w, 2 if (i > 0 and j == 0) else 1, shortcut)
        for i, w in enumerate(widths)
        for j in range(blocks_per_stage)
    )
    depth = 2 * blocks_per_stage * len(widths) + 2
    size = f"{image_size}x{image_size}"
    label = name or f"{'Plain' if plain else 'ResNet'}-{depth} ({size})"
    return ModelConfig(
        label, (in_channels, image_size, image_size), (stem, *body, GlobalAvgPoolSpec(), DenseSpec(num_classes, "none"))
    )


def small_inception(in_channels: int = 3, image_size: int = 32, num_classes: int = 10) -> ModelConfig:
    """Two small inception modules (with 1x1 bottlenecks) after a Conv-BN stem, pooling between them."""
    return ModelConfig(
        f"Small inception net ({image_size}x{image_size})",
        (in_channels, image_size, image_size),
        (
            ConvBNSpec(32, 3, padding="same", activation="relu"),
            _MAX2,
            InceptionSpec(16, 16, 32, 8, 16, 16, norm="batchnorm"),
            _MAX2,
            InceptionSpec(32, 32, 48, 8, 24, 24, norm="batchnorm"),
            GlobalAvgPoolSpec(),
            DenseSpec(num_classes, "none"),
        ),
    )


def _resnet18() -> ModelConfig:
    stages = ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1))
    return ModelConfig(
        "ResNet-18 (ImageNet, for reading)",
        (3, 224, 224),
        (
            ConvBNSpec(64, 7, stride=2, padding=3, activation="relu"),
            PoolSpec("max", 3, 2),
            *(ResidualSpec(f, s) for f, s in stages),
            GlobalAvgPoolSpec(),
            DenseSpec(1000, "none"),
        ),
    )


def _googlenet() -> ModelConfig:
    def inc(*ch: int) -> InceptionSpec:
        return InceptionSpec(*ch, kernel=3, norm="batchnorm")

    pool = PoolSpec("max", 3, 2)
    return ModelConfig(
        "GoogLeNet (ImageNet, for reading)",
        (3, 224, 224),
        (
            ConvBNSpec(64, 7, stride=2, padding=3, activation="relu"),
            pool,
            ConvBNSpec(64, 1, activation="relu"),
            ConvBNSpec(192, 3, padding=1, activation="relu"),
            pool,
            inc(64, 96, 128, 16, 32, 32),
            inc(128, 128, 192, 32, 96, 64),
            pool,
            inc(192, 96, 208, 16, 48, 64),
            inc(160, 112, 224, 24, 64, 64),
            inc(128, 128, 256, 24, 64, 64),
            inc(112, 144, 288, 32, 64, 64),
            inc(256, 160, 320, 32, 128, 128),
            PoolSpec("max", 2, 2),
            inc(256, 160, 320, 32, 128, 128),
            inc(384, 192, 384, 48, 128, 128),
            GlobalAvgPoolSpec(),
            DropoutSpec(0.2),
            DenseSpec(1000, "none"),
        ),
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
    "ResNet-8 (28x28)": small_resnet(1),
    "Plain-8 (28x28)": small_resnet(1, plain=True),
    "ResNet-20 (32x32)": small_resnet(3, in_channels=3, image_size=32),
    "Small inception net (28x28)": small_inception(1, 28),
    "Small inception net (32x32)": small_inception(3, 32),
    "ResNet-18 (ImageNet, for reading)": _resnet18(),
    "GoogLeNet (ImageNet, for reading)": _googlenet(),
}

PRESET_NOTES: dict[str, str] = {
    FAST_PRESET: (
        "ConvLab's quick learner: three blocks of a 3x3 convolution (16, 32, 64 filters), 2x2 max pooling, "
        "batch normalisation and ReLU, then one Dense layer. Pooling straight after each convolution lets batch "
        "norm and ReLU work on a quarter of the values. With the default settings it passed 99% on full MNIST "
        "within its one epoch (bench/bench_training.py)."
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

PRESET_NOTES |= {
    "ResNet-8 (28x28)": (
        "A small residual network for 28x28 digits: a 3x3 Conv-BN stem (16 filters), three residual blocks "
        "(16, 32 and 64 filters, the last two with stride 2 and a 1x1 projection shortcut), global average "
        "pooling and Dense 10: 8 layers with weights. Each block adds its input x to what its two 3x3 "
        "convolutions compute, F(x) + x, so the gradient has a short path back to the first layers."
    ),
    "Plain-8 (28x28)": (
        "ResNet-8 without its shortcuts: the same convolutions and the same depth, y = ReLU(F(x)) instead of "
        "ReLU(F(x) + x). Train it next to ResNet-8 to see what the shortcut changes."
    ),
    "ResNet-20 (32x32)": (
        "He et al.'s CIFAR-10 ResNet-20: a 3x3 stem, three stages of three residual blocks (16, 32, 64 filters), "
        "global average pooling and Dense 10. The paper's version pads the shortcut with zeros where the shape "
        "changes (0.27 M parameters); this one uses 1x1 projections there, a few thousand parameters more."
    ),
    "Small inception net (28x28)": (
        "A Conv-BN stem and two small inception modules: 1x1, 3x3 and 5x5 convolutions and 3x3 max pooling "
        "side by side, with 1x1 bottlenecks before the larger kernels, their outputs stacked on the channels."
    ),
    "Small inception net (32x32)": (
        "The small inception net for 32x32 colour images: a Conv-BN stem, two inception modules with 1x1 "
        "bottlenecks, pooling between them, global average pooling and Dense 10."
    ),
    "ResNet-18 (ImageNet, for reading)": (
        "He et al.'s ResNet-18 (2015) as torchvision builds it: a 7x7 stride-2 stem, eight basic residual blocks "
        "(64 to 512 filters), global average pooling and 1000 outputs; its parameter total equals torchvision's "
        "resnet18(). Its stem's max pooling here has no padding, so the maps are 55, 28, 14 and 7 wide instead "
        "of torchvision's 56, 28, 14 and 7 (the parameters do not depend on it). Large: for reading, not for "
        "training on a CPU."
    ),
    "GoogLeNet (ImageNet, for reading)": (
        "Szegedy et al.'s GoogLeNet (2014) as torchvision's googlenet(aux_logits=False) builds it: nine inception "
        "modules, every convolution followed by batch norm, and, as in torchvision, a 3x3 kernel where the paper "
        "has 5x5. Its parameter total equals torchvision's. ConvLab's pooling rounds sizes down where "
        "torchvision's rounds up, so the maps are 55, 27, 13 and 6 wide instead of 56, 28, 14 and 7. For reading."
    ),
}

DEFAULT_PRESET = "Course MNIST CNN (Keras notes)"
