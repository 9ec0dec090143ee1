"""cnn_core.summary: hooks on real modules, checked against the tensors themselves and torchvision."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnn_core import models
from cnn_core.models import PRESETS
from cnn_core.summary import ParamTerms, param_formula, summarize


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("arch", "shape"),
    [("resnet18", (3, 64, 64)), ("vgg11", (3, 64, 64)), ("mobilenet_v2", (3, 64, 64)), ("alexnet", (3, 224, 224))],
)
def test_torchvision_totals_and_shapes(arch: str, shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None)  # no download
    table = summarize(model, shape)
    assert table.total_params == n_params(model)
    assert sum(r.total_params for r in table.rows) == n_params(model)  # every parameter in exactly one row
    assert table.output_shape == (1000,)
    if arch == "alexnet":  # about 0.71 G multiply-accumulates at 224x224, as torchvision's model card says
        assert round(table.total_macs / 1e9, 2) == 0.71
    # Shapes recorded by the table equal the tensors each module really outputs.
    actual: dict[str, tuple[int, ...]] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            actual.setdefault(name, tuple(output.shape[1:]))

        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules() if next(m.children(), None) is None]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    first = {}
    for r in table.rows:
        first.setdefault(r.name, r.output_shape)
    assert {n: first[n] for n in actual} == actual
    # MACs of every convolution follow C_in/groups * kh * kw * C_out * H_out * W_out.
    convs = [r for r in table.rows if r.type == "Conv2d"]
    assert all(r.macs == r.terms.c_in * r.terms.kh * r.terms.kw * r.output_shape[0] * r.output_shape[1]
               * r.output_shape[2] for r in convs)  # fmt: skip


def test_course_mnist_rows_match_keras_summary() -> None:
    config = PRESETS["Course MNIST CNN (Keras notes)"]
    table = summarize(models.build(config), config.input_shape)
    assert table.total_params == 93_322 == table.keras_total_params
    main = [(r.name, r.output_shape, r.params) for r in table.rows if not r.name.endswith("_relu")]
    assert main == [
        ("conv1", (32, 26, 26), 320),
        ("maxpool1", (32, 13, 13), 0),
        ("conv2", (64, 11, 11), 18_496),
        ("maxpool2", (64, 5, 5), 0),
        ("conv3", (64, 3, 3), 36_928),
        ("flatten1", (576,), 0),
        ("fc1", (64,), 36_928),
        ("fc2", (10,), 650),
    ]
    rows = {r.name: r for r in table.rows}
    assert rows["conv1"].macs == 1 * 3 * 3 * 32 * 26 * 26
    assert rows["fc1"].macs == 576 * 64
    assert table.total_flops == 2 * table.total_macs
    assert rows["conv1"].activation_bytes == 32 * 26 * 26 * 4
    # receptive field 3 -> 4 -> 8 -> 10 -> 18, jump 1 -> 2 -> 2 -> 4 -> 4
    assert [rows[n].rf[0] for n in ("conv1", "maxpool1", "conv2", "maxpool2", "conv3")] == [3, 4, 8, 10, 18]
    assert [rows[n].jump[0] for n in ("conv1", "maxpool1", "conv2", "maxpool2", "conv3")] == [1, 2, 2, 4, 4]
    assert rows["fc1"].rf is None  # not a spatial layer


def test_second_course_mnist_and_formula_text() -> None:
    config = PRESETS["Course MNIST CNN, two 32-filter convolutions"]
    table = summarize(models.build(config), config.input_shape)
    assert table.total_params == 305_194
    rows = {r.name: r for r in table.rows}
    assert param_formula(rows["conv2"].terms) == "(C_in·kh·kw + 1)·C_out = (32·3·3 + 1)·32 = 9,248"
    assert param_formula(rows["fc1"].terms) == "(inputs + 1)·units = (4,608 + 1)·64 = 294,976"


def test_batchnorm_keras_versus_pytorch_counts() -> None:
    config = PRESETS["Course CIFAR-10 CNN with batch norm"]
    table = summarize(models.build(config), config.input_shape)
    assert table.total_params == 293_034
    assert table.running_values == 2 * (32 + 32 + 64 + 64 + 128 + 128) == 896
    assert table.keras_total_params == 293_930
    bn1 = next(r for r in table.rows if r.name == "bn1")
    assert (bn1.params, bn1.running) == (64, 64)
    assert param_formula(bn1.terms) == "2·C = 2·32 = 64 (γ, β); + 64 running stats"


def test_batch_norm_is_found_by_its_public_classes_lazy_ones_included() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.BatchNorm1d(4 * 6 * 6))
    table = summarize(model, (1, 8, 8))
    assert table.running_values == 2 * 4 + 2 * 144
    assert [param_formula(r.terms) for r in table.rows][1] == "2·C = 2·4 = 8 (γ, β); + 8 running stats"
    assert table.total_params == n_params(model) == 40 + 8 + 288


def test_dilation_and_stride_receptive_field() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2), nn.Conv2d(2, 2, 3, stride=2), nn.Conv2d(2, 2, 3))
    table = summarize(model, (1, 32, 32))
    assert [r.rf for r in table.rows] == [(5, 5), (7, 7), (11, 11)]
    assert [r.jump for r in table.rows] == [(1, 1), (2, 2), (2, 2)]


def test_frozen_shared_and_unused_parameters_are_all_counted() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.scale = nn.Parameter(torch.ones(1))  # owned by the container itself
            self.unused = nn.Linear(3, 3)
            self.head = nn.Linear(4, 2)
            self.head.weight.requires_grad_(False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv(self.conv(x)[:, :1])  # the same conv twice
            return self.head(x.mean(dim=(2, 3)) * self.scale)

    model = Odd()
    table = summarize(model, (1, 8, 8))
    assert table.total_params == n_params(model) == sum(r.total_params for r in table.rows)
    assert table.non_trainable_params == 8
    notes = [r.note for r in table.rows]
    assert "called again (shares its parameters)" in notes and "not run" in notes
    assert model.training  # mode restored


def test_param_formula_without_bias_and_grouped() -> None:
    assert param_formula(ParamTerms("conv", 3, 8, 3, 3, bias=False)) == "C_in·kh·kw·C_out = 3·3·3·8 = 216 (no bias)"
    assert "4 groups" in param_formula(ParamTerms("conv", 2, 8, 3, 3, groups=4))
    assert param_formula(None) == ""
