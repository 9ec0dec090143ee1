"""Looking inside a trained classifier: the numbers behind the "Inside the model" page.

This package owns everything ConvLab computes about a trained ``nn.Module`` once training is
done (or while it runs, on a copy), one module per idea:

* ``layers`` - :func:`feature_maps` (every leaf layer's output for one image, by forward hooks),
  :func:`first_conv`, :func:`conv_layers`, :func:`kernel_weights` and :func:`gray_kernels` (the learned kernels),
  :func:`spatial_layers` and :func:`default_cam_layer` (where Grad-CAM can look);
* ``kernel_match`` - :func:`nearest_preset`: which hand-made kernel of :mod:`cnn_core.kernels` a
  learned kernel resembles, by cosine similarity of the zero-mean, unit-norm kernels (sign kept);
* ``evaluation`` - :func:`predict_test_set`, :func:`confusion_matrix`, :func:`class_report`,
  :func:`most_confused`, :func:`cell_examples`, :func:`confident_mistakes` (how the model does on
  the test split) and :func:`take_snapshot` / :class:`Snapshot` (first-layer kernels, confusion
  matrix and accuracy at one moment of a training run);
* ``attribution`` - :func:`predict_proba`, :func:`softmax`, :func:`top_classes`, and
  :func:`saliency` and :func:`grad_cam`: which pixels / regions mattered for a class, by autograd;
* ``preprocess`` - :func:`preprocess`: a person's photo or drawing turned into exactly what the
  model was trained on (grayscale, invert, crop and centre like MNIST, resize, normalise), with
  every stage kept; :func:`drawing_pixels` and :func:`picture_of`;
* ``layout`` - :func:`tile`, :func:`per_map_scale`, :func:`stretch_each` and :func:`scale_to_max`:
  laying many small maps out as one picture and scaling them for colour.

Every function works on plain ``nn.Module`` objects and tensors, restores the model's train/eval
mode, and never imports a UI library.
"""

from __future__ import annotations

from cnn_core.inspection.attribution import GradCam, grad_cam, predict_proba, saliency, softmax, top_classes
from cnn_core.inspection.evaluation import (
    ClassReport,
    Predictions,
    Snapshot,
    cell_examples,
    class_report,
    confident_mistakes,
    confusion_matrix,
    kernel_range,
    most_confused,
    predict_test_set,
    row_normalise,
    take_snapshot,
)
from cnn_core.inspection.kernel_match import FLAT_SHARE, KernelMatch, nearest_preset, preset_similarities
from cnn_core.inspection.layers import (
    LayerActivation,
    conv_layers,
    default_cam_layer,
    describe_module,
    feature_maps,
    first_conv,
    gray_kernels,
    kernel_weights,
    leaf_modules,
    spatial_layers,
)
from cnn_core.inspection.layout import Tiled, per_map_scale, scale_to_max, stretch_each, tile
from cnn_core.inspection.preprocess import Preprocessed, Stage, drawing_pixels, picture_of, preprocess

__all__ = [
    "FLAT_SHARE",
    "ClassReport",
    "GradCam",
    "KernelMatch",
    "LayerActivation",
    "Predictions",
    "Preprocessed",
    "Snapshot",
    "Stage",
    "Tiled",
    "cell_examples",
    "class_report",
    "confident_mistakes",
    "confusion_matrix",
    "conv_layers",
    "default_cam_layer",
    "describe_module",
    "drawing_pixels",
    "feature_maps",
    "first_conv",
    "grad_cam",
    "gray_kernels",
    "kernel_range",
    "kernel_weights",
    "leaf_modules",
    "most_confused",
    "nearest_preset",
    "per_map_scale",
    "predict_proba",
    "predict_test_set",
    "preprocess",
    "preset_similarities",
    "row_normalise",
    "saliency",
    "scale_to_max",
    "softmax",
    "spatial_layers",
    "stretch_each",
    "take_snapshot",
    "picture_of",
    "tile",
    "top_classes",
]
