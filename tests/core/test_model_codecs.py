"""Links, dicts and PyTorch code of every preset stay what they were before the layer registry.

The links below and ``snapshots/models_presets.json`` were written by the code as it was before the
layer specs got one home each (commit 04e0ecb): a link a learner saved then must open the same
network now, and a model saved with its config must load to the same network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnn_core import models
from cnn_core.models import PRESETS

SNAPSHOT = json.loads((Path(__file__).parent / "snapshots" / "models_presets.json").read_text(encoding="utf-8"))

# (preset, "in", "net") exactly as the Architecture page put them in the address bar.
LINKS = [
    # the fast preset as its widths became 16, 32, 64 (2026-12-02, later; its snapshot entry was rewritten then)
    ("ConvLab fast (recommended for training)", "1x28x28",
     "conv16-k3-same_maxpool2_bn_act-relu_conv32-k3-same_maxpool2_bn_act-relu_conv64-k3-same_maxpool2_bn_act-relu"
     "_flatten_dense10"),
    ("Course MNIST CNN (Keras notes)", "1x28x28",
     "conv32-k3-relu_maxpool2_conv64-k3-relu_maxpool2_conv64-k3-relu_flatten_dense64-relu_dense10"),
    ("Course MNIST CNN, two 32-filter convolutions", "1x28x28",
     "conv32-k3-relu_conv32-k3-relu_maxpool2_flatten_dense64-relu_dense10"),
    ("Course CIFAR-10 CNN", "3x32x32",
     "conv32-k3-relu_maxpool2_conv64-k3-relu_maxpool2_flatten_dense128-relu_dense10"),
    ("Course CIFAR-10 CNN with batch norm", "3x32x32",
     "conv32-k3-same_bn_act-elu_conv32-k3-same_bn_act-elu_maxpool2_dropout0.2_conv64-k3-same_bn_act-elu"
     "_conv64-k3-same_bn_act-elu_maxpool2_dropout0.2_conv128-k3_bn_act-elu_conv128-k3_bn_act-elu_maxpool2"
     "_dropout0.5_flatten_dense10"),
    ("LeNet-5", "1x32x32",
     "conv6-k5-tanh_avgpool2_conv16-k5-tanh_avgpool2_conv120-k5-tanh_flatten_dense84-tanh_dense10"),
    ("AlexNet", "3x227x227",
     "conv96-k11-s4-relu_maxpool3-s2_conv256-k5-same-relu_maxpool3-s2_conv384-k3-same-relu_conv384-k3-same-relu"
     "_conv256-k3-same-relu_maxpool3-s2_flatten_dropout0.5_dense4096-relu_dropout0.5_dense4096-relu_dense1000"),
    ("TinyVGG (CNN Explainer)", "3x64x64",
     "conv10-k3-relu_conv10-k3-relu_maxpool2_conv10-k3-relu_conv10-k3-relu_maxpool2_flatten_dense10"),
    # the block presets, as written when residual and inception blocks were added
    ("ResNet-8 (28x28)", "1x28x28", "cbn16-k3-same-relu_res16_res32-s2_res64-s2_gap_dense10"),
    ("Plain-8 (28x28)", "1x28x28", "cbn16-k3-same-relu_res16-plain_res32-s2-plain_res64-s2-plain_gap_dense10"),
    ("ResNet-20 (32x32)", "3x32x32",
     "cbn16-k3-same-relu_res16_res16_res16_res32-s2_res32_res32_res64-s2_res64_res64_gap_dense10"),
    ("Small inception net (28x28)", "1x28x28",
     "cbn32-k3-same-relu_maxpool2_inc16-r16-t32-q8-f16-p16-batchnorm_maxpool2_inc32-r32-t48-q8-f24-p24-batchnorm"
     "_gap_dense10"),
    ("Small inception net (32x32)", "3x32x32",
     "cbn32-k3-same-relu_maxpool2_inc16-r16-t32-q8-f16-p16-batchnorm_maxpool2_inc32-r32-t48-q8-f24-p24-batchnorm"
     "_gap_dense10"),
    ("ResNet-18 (ImageNet, for reading)", "3x224x224",
     "cbn64-k7-s2-p3-relu_maxpool3-s2_res64_res64_res128-s2_res128_res256-s2_res256_res512-s2_res512_gap_dense1000"),
    ("GoogLeNet (ImageNet, for reading)", "3x224x224",
     "cbn64-k7-s2-p3-relu_maxpool3-s2_cbn64-k1-relu_cbn192-k3-p1-relu_maxpool3-s2"
     "_inc64-r96-t128-q16-f32-p32-k3-batchnorm_inc128-r128-t192-q32-f96-p64-k3-batchnorm_maxpool3-s2"
     "_inc192-r96-t208-q16-f48-p64-k3-batchnorm_inc160-r112-t224-q24-f64-p64-k3-batchnorm"
     "_inc128-r128-t256-q24-f64-p64-k3-batchnorm_inc112-r144-t288-q32-f64-p64-k3-batchnorm"
     "_inc256-r160-t320-q32-f128-p128-k3-batchnorm_maxpool2-s2_inc256-r160-t320-q32-f128-p128-k3-batchnorm"
     "_inc384-r192-t384-q48-f128-p128-k3-batchnorm_gap_dropout0.2_dense1000"),
]  # fmt: skip


def test_every_preset_has_a_saved_link_and_snapshot() -> None:
    assert [name for name, _, _ in LINKS] == list(PRESETS) == list(SNAPSHOT)


@pytest.mark.parametrize(("name", "shape", "net"), LINKS, ids=[n for n, _, _ in LINKS])
def test_saved_link_opens_the_same_preset_and_is_written_the_same(name: str, shape: str, net: str) -> None:
    assert models.from_query({"in": shape, "net": net}) == PRESETS[name]
    assert models.to_query(PRESETS[name]) == {"in": shape, "net": net}


def test_a_link_to_the_earlier_fast_preset_still_opens_its_32_64_128_network() -> None:
    old = "conv32-k3-same_maxpool2_bn_act-relu_conv64-k3-same_maxpool2_bn_act-relu_conv128-k3-same_maxpool2_bn_act-relu"
    opened = models.from_query({"in": "1x28x28", "net": old + "_flatten_dense10"})
    assert opened.layers == models.fast_config(1, 10, 28, (32, 64, 128)).layers
    assert opened.name != PRESETS["ConvLab fast (recommended for training)"].name  # no longer the preset's widths


def test_a_link_to_the_16_32_128_fast_preset_still_opens_its_network() -> None:
    old = "conv16-k3-same_maxpool2_bn_act-relu_conv32-k3-same_maxpool2_bn_act-relu_conv128-k3-same_maxpool2_bn_act-relu"
    opened = models.from_query({"in": "1x28x28", "net": old + "_flatten_dense10"})
    assert opened.layers == models.fast_config(1, 10, 28, (16, 32, 128)).layers
    assert opened.name != PRESETS["ConvLab fast (recommended for training)"].name


@pytest.mark.parametrize("name", list(PRESETS))
def test_saved_dict_loads_the_same_preset_and_is_written_the_same(name: str) -> None:
    assert models.from_dict(SNAPSHOT[name]["dict"]) == PRESETS[name]
    assert models.to_dict(PRESETS[name]) == SNAPSHOT[name]["dict"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_pytorch_code_is_unchanged(name: str) -> None:
    assert models.to_pytorch_code(PRESETS[name]).splitlines() == SNAPSHOT[name]["code"]
