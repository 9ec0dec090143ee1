"""Datasets behind one interface: every loader returns an in-memory :class:`ImageSet`.

The package owns where training images come from and how they are held, one module per source:

* :mod:`~cnn_core.data.imageset` - the :class:`ImageSet` type (uint8 ``(N, C, H, W)`` images,
  labels, class names, per-channel statistics) and :class:`DatasetUnavailable`;
* :mod:`~cnn_core.data.bundled` - :func:`load_bundled`, small MNIST / Fashion-MNIST subsets
  shipped in ``assets/datasets`` (offline, always there; see ``assets/datasets/NOTICE.md``);
* :mod:`~cnn_core.data.shapes` - :func:`synthetic_shapes`, lines, circles, squares, triangles,
  crosses drawn on the fly, whose features are easy to spot in feature maps;
* :mod:`~cnn_core.data.full` - :func:`load_full`, full MNIST, Fashion-MNIST and CIFAR-10 through
  ``torchvision.datasets`` from a data folder (``root``, else ``$CONVLAB_DATA_DIR``), downloaded
  where allowed;
* :mod:`~cnn_core.data.cifar` - :func:`cifar_classes` and :func:`few_shot`, some CIFAR-10 classes
  and seeded few-shot draws from them (the pretrained backbone and its transfer bench);
* :mod:`~cnn_core.data.user_zip` - :func:`load_zip`, a learner's own zip of class folders,
  checked (bombs, path escapes, non-images, one class) and read with torchvision's ``ImageFolder``.

Anything that cannot be loaded raises :class:`DatasetUnavailable` (a ``ValueError``) with a
sentence a person can act on.
"""

from cnn_core.data.bundled import ASSETS, BUNDLED, load_bundled
from cnn_core.data.cifar import HELD_OUT_CLASSES, PRETRAIN_CLASSES, cifar_classes, few_shot
from cnn_core.data.full import (
    CACHE_ENV,
    CIFAR10_CLASSES,
    DATA_DIR_ENV,
    DOWNLOAD_ENV,
    FASHION_CLASSES,
    FULL,
    MNIST_CLASSES,
    default_data_root,
    load_full,
)
from cnn_core.data.imageset import DatasetUnavailable, ImageSet
from cnn_core.data.shapes import SHAPE_CLASSES, synthetic_shapes
from cnn_core.data.user_zip import ZipLimits, load_zip

__all__ = [
    "ASSETS",
    "BUNDLED",
    "CACHE_ENV",
    "CIFAR10_CLASSES",
    "DATA_DIR_ENV",
    "DOWNLOAD_ENV",
    "FASHION_CLASSES",
    "FULL",
    "HELD_OUT_CLASSES",
    "MNIST_CLASSES",
    "PRETRAIN_CLASSES",
    "SHAPE_CLASSES",
    "DatasetUnavailable",
    "ImageSet",
    "ZipLimits",
    "cifar_classes",
    "default_data_root",
    "few_shot",
    "load_bundled",
    "load_full",
    "load_zip",
    "synthetic_shapes",
]
