"""Blocks (Conv-BN, separable convolution, residual block, inception module) against torch references.

Each block's output is compared with a hand-written functional version (or torchvision's own block)
using the same weights; its parameter count with ``sum(p.numel())``; its output shape with the plan's;
its receptive field with the plan's formula and the summary's measurement. The ImageNet presets'
totals are checked against torchvision's models, built without weights (nothing downloads).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.googlenet import Inception as GoogLeNetInception

from cnn_core import models
from cnn_core.models import (
    PRESETS,
    Conv2dSpec,
    ConvBNSpec,
    DenseSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    InceptionSpec,
    ModelConfig,
    PoolSpec,
    ResidualSpec,
    SeparableConvSpec,
)
from cnn_core.summary import summarize


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randomised(model: nn.Module) -> nn.Module:
    """Eval mode with random batch-norm statistics and affine terms, so a wrong wiring shows."""
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def one_layer(spec, shape=(4, 9, 9)) -> tuple[nn.Module, models.LayerPlan]:
    config = ModelConfig(input_shape=shape, layers=(spec,))
    return randomised(models.build(config)), models.plan(config).layers[0]


def bn(x: torch.Tensor, m: nn.BatchNorm2d) -> torch.Tensor:
    return F.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias, False, 0.0, m.eps)


@pytest.mark.parametrize(
    ("stride", "filters", "shortcut", "projects"),
    [
        (1, 4, "auto", False),
        (2, 8, "auto", True),
        (1, 4, "projection", True),
        (1, 8, "auto", True),
        (2, 4, "plain", False),
    ],
)
def test_residual_block_is_relu_of_f_plus_shortcut(stride: int, filters: int, shortcut: str, projects: bool) -> None:
    model, lp = one_layer(ResidualSpec(filters, stride, shortcut))
    block = model.res1
    x = torch.randn(2, 4, 9, 9)
    f = bn(F.conv2d(F.relu(bn(F.conv2d(x, block.conv1.weight, stride=stride, padding=1), block.bn1)),
                    block.conv2.weight, padding=1), block.bn2)  # fmt: skip
    if projects:
        short = bn(F.conv2d(x, block.shortcut.conv.weight, stride=stride), block.shortcut.bn)
    else:
        short = 0 if shortcut == "plain" else x
    torch.testing.assert_close(model(x), F.relu(f + short))
    assert tuple(model(x).shape[1:]) == lp.out_shape == (filters, -(-9 // stride), -(-9 // stride))
    assert n_params(model) == lp.params
    assert (lp.rf, lp.jump) == (3 + 2 * stride, stride)  # two 3x3 convolutions, the first with stride s


def test_residual_block_equals_torchvisions_basic_block() -> None:
    model, _ = one_layer(ResidualSpec(8, 2), (4, 10, 10))
    tv = torchvision.models.resnet.BasicBlock(
        4, 8, 2, downsample=nn.Sequential(nn.Conv2d(4, 8, 1, 2, bias=False), nn.BatchNorm2d(8))
    ).eval()
    state = {k.replace("shortcut.conv", "downsample.0").replace("shortcut.bn", "downsample.1"): v
             for k, v in model.res1.state_dict().items()}  # fmt: skip
    tv.load_state_dict(state)
    x = torch.randn(2, 4, 10, 10)
    torch.testing.assert_close(model(x), tv(x))


def test_inception_is_the_concatenation_of_its_branches() -> None:
    spec = InceptionSpec(3, 2, 5, 2, 4, 6)  # 5x5 branch, biases, no batch norm
    model, lp = one_layer(spec)
    m = model.inception1
    x = torch.randn(2, 4, 9, 9)

    def conv(x: torch.Tensor, c: nn.Conv2d) -> torch.Tensor:
        return F.relu(F.conv2d(x, c.weight, c.bias, padding=c.kernel_size[0] // 2))

    ref = torch.cat([
        conv(x, m.b1x1.conv),
        conv(conv(x, m.b3x3.reduce_conv), m.b3x3.conv),
        conv(conv(x, m.b5x5.reduce_conv), m.b5x5.conv),
        conv(F.max_pool2d(x, 3, 1, 1), m.bpool.proj_conv),
    ], dim=1)  # fmt: skip
    torch.testing.assert_close(model(x), ref)
    assert m.b5x5.conv.kernel_size == (5, 5)
    assert tuple(model(x).shape[1:]) == lp.out_shape == (3 + 5 + 4 + 6, 9, 9)
    assert (
        n_params(model)
        == lp.params
        == (4 + 1) * 3 + (4 + 1) * 2 + (2 * 9 + 1) * 5 + (4 + 1) * 2 + (2 * 25 + 1) * 4 + (4 + 1) * 6
    )
    assert (lp.rf, lp.jump) == (5, 1)  # the widest branch: 1x1 then 5x5


def test_inception_equals_torchvisions_googlenet_module() -> None:
    model, lp = one_layer(InceptionSpec(3, 2, 5, 2, 4, 6, kernel=3, norm="batchnorm"), (4, 8, 8))
    tv = GoogLeNetInception(4, 3, 2, 5, 2, 4, 6).eval()
    for m in tv.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-5  # torchvision uses 0.001; the wiring is what is compared
    names = {"b1x1.": "branch1.", "b3x3.reduce_": "branch2.0.", "b3x3.": "branch2.1.", "b5x5.reduce_": "branch3.0.",
             "b5x5.": "branch3.1.", "bpool.proj_": "branch4.1."}  # fmt: skip
    state = {}
    for k, v in model.inception1.state_dict().items():
        old = next(p for p in names if k.startswith(p))
        state[names[old] + k[len(old) :]] = v
    tv.load_state_dict(state)
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(model(x), tv(x))
    assert n_params(model) == lp.params == n_params(tv)


def test_inception_without_bottlenecks_and_the_saving() -> None:
    spec = InceptionSpec(64, 96, 128, 16, 32, 32)
    saving = models.bottleneck_saving(spec, 192)  # GoogLeNet's inception (3a) on 192 channels
    assert saving.with_reduce == (192 + 1) * 96 + (96 * 9 + 1) * 128 + (192 + 1) * 16 + (16 * 25 + 1) * 32
    assert saving.without_reduce == (192 * 9 + 1) * 128 + (192 * 25 + 1) * 32
    assert saving.saved == saving.without_reduce - saving.with_reduce == 374_944 - 145_168  # (3a): 229,776 saved
    assert saving.formula_with.endswith("= 145,168") and saving.formula_without.endswith("= 374,944")
    naive = InceptionSpec(64, 0, 128, 0, 32, 0)  # no 1x1 anywhere: the naive module of the paper
    stem = ConvBNSpec(192, 1)  # inputs have at most 64 channels: a 1x1 convolution makes the 192
    naive_plan = models.plan(ModelConfig(input_shape=(3, 6, 6), layers=(stem, naive))).layers[1]
    assert naive_plan.params == (192 + 1) * 64 + saving.without_reduce
    assert naive_plan.out_shape == (64 + 128 + 32 + 192, 6, 6)  # the pooled input keeps its 192 channels
    full = models.plan(ModelConfig(input_shape=(3, 6, 6), layers=(stem, spec))).layers[1].params
    assert full - (192 + 1) * 64 - (192 + 1) * 32 == saving.with_reduce  # the module's own 3x3 and 5x5 branches
    model, lp = one_layer(naive, (8, 6, 6))
    assert n_params(model) == lp.params and lp.out_shape == (64 + 128 + 32 + 8, 6, 6)


def test_conv_bn_and_separable_convolution() -> None:
    model, lp = one_layer(ConvBNSpec(6, 3, stride=2, padding="same", activation="relu"))
    conv, norm = model.conv1, model.conv1_bn
    x = torch.randn(2, 4, 9, 9)
    torch.testing.assert_close(model(x), F.relu(bn(F.conv2d(F.pad(x, (1, 1, 1, 1)), conv.weight, stride=2), norm)))
    assert conv.bias is None and n_params(model) == lp.params == 4 * 9 * 6 + 2 * 6
    model, lp = one_layer(SeparableConvSpec(6, 3, padding=1, activation="none"))
    dw, pw = model.sep1_depthwise, model.sep1_pointwise
    ref = F.conv2d(F.conv2d(x, dw.weight, padding=1, groups=4), pw.weight, pw.bias)
    torch.testing.assert_close(model(x), ref)
    assert n_params(model) == lp.params == 4 * 9 + (4 + 1) * 6 and lp.out_shape == (6, 9, 9)
    assert "a full 3x3 convolution: 222" in lp.formula
    assert lp.macs == summarize(model, (4, 9, 9)).total_macs == 4 * 9 * 81 + 4 * 6 * 81


def test_block_receptive_fields_are_measured_the_same() -> None:
    config = ModelConfig(
        input_shape=(3, 32, 32),
        layers=(ConvBNSpec(8), ResidualSpec(8), ResidualSpec(16, 2), InceptionSpec(4, 4, 4, 2, 4, 4),
                SeparableConvSpec(8), GlobalAvgPoolSpec(), DenseSpec(3, "none")),
    )  # fmt: skip
    p = models.plan(config)
    rows = {r.name: r for r in summarize(models.build(config), config.input_shape).rows}
    assert [lp.rf for lp in p.layers] == [3, 7, 7 + 6, 13 + 4 * 2, 21 + 2 * 2, None, None]
    for lp in p.layers[:5]:
        assert rows[lp.modules[-1].name].rf == (lp.rf, lp.rf), lp
    header = rows["res2"]
    assert header.block_params == p.layers[2].params and header.params == 0
    assert [r.name for r in summarize(models.build(config), config.input_shape).rows][3:6] == [
        "res1", "res1.conv1", "res1.bn1",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "tv"),
    [
        ("ResNet-18 (ImageNet, for reading)", lambda: torchvision.models.resnet18()),
        (
            "GoogLeNet (ImageNet, for reading)",
            lambda: torchvision.models.googlenet(aux_logits=False, init_weights=False),
        ),
    ],
)
def test_imagenet_presets_have_torchvisions_totals(name: str, tv) -> None:
    config = PRESETS[name]
    with torch.device("meta"):
        reference = tv()
        total = n_params(reference)
    table = summarize(models.build(config), config.input_shape)
    assert table.total_params == total == models.plan(config).total_params
    assert table.output_shape == (1000,) and sum(r.total_params for r in table.rows) == total
    assert sum(r.block_params or 0 for r in table.rows) == sum(lp.params for lp in models.plan(config).layers
                                                              if lp.modules[0].is_block)  # fmt: skip


def test_blocks_round_trip_through_links_and_dicts() -> None:
    config = ModelConfig(
        input_shape=(3, 32, 32),
        layers=(ConvBNSpec(8, 5, 2, "same", activation="elu"), ResidualSpec(8, shortcut="identity"),
                ResidualSpec(16, 2, "plain"), ResidualSpec(16, shortcut="projection"),
                InceptionSpec(4, 0, 4, 2, 4, 0, kernel=7, norm="batchnorm"), SeparableConvSpec(8, 3, 2, "same"),
                FlattenSpec(), DenseSpec(3, "none")),
    )  # fmt: skip
    q = models.to_query(config)
    assert q["net"].split("_")[1:5] == ["res8-identity", "res16-s2-plain", "res16-projection",
                                        "inc4-r0-t4-q2-f4-p0-k7-batchnorm"]  # fmt: skip
    assert models.from_query(q) == config
    assert models.from_dict(models.to_dict(config)) == config
    assert models.validate(config) is None


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ((ResidualSpec(8, shortcut="identity"),), "identity shortcut adds x (3x16x16) to F(x) (8x16x16)"),
        ((ResidualSpec(3, 2, "identity"),), "needs the same shape"),
        ((InceptionSpec(kernel=4),), "cannot be concatenated"),
        ((InceptionSpec(ch3=0),), "3x3 branch's channels must be at least 1"),
        ((FlattenSpec(), ResidualSpec()), "needs a feature map"),
        ((FlattenSpec(), InceptionSpec()), "needs a feature map"),
        ((ResidualSpec(shortcut="sideways"),), "the shortcut must be one of"),
    ],
)
def test_blocks_that_cannot_fit_give_a_sentence(layers: tuple, words: str) -> None:
    err = models.validate(ModelConfig(input_shape=(3, 16, 16), layers=layers))
    assert err is not None and err.index == len(layers) - 1
    assert words in str(err)


@pytest.mark.parametrize("net", ["res16-q3", "res16-sideways", "inc8-r4", "inc-r4-t4-q2-f4-p2", "res"])
def test_bad_block_links_are_explained(net: str) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        models.from_query({"in": "3x32x32", "net": f"conv8-k3_{net}"})


def test_pytorch_code_of_blocks_runs_and_builds_the_same_model(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("ResNet-8 (28x28)", "Small inception net (28x28)"):
        config = PRESETS[name]
        ns: dict = {}
        exec(models.to_pytorch_code(config), ns)
        built = models.build(config)
        assert [(k, v.shape) for k, v in ns["model"].state_dict().items()] == [
            (k, v.shape) for k, v in built.state_dict().items()
        ]
        assert "torch.Size([1, 10])" in capsys.readouterr().out


def test_plain_and_residual_presets_have_the_same_depth() -> None:
    res, plain = PRESETS["ResNet-8 (28x28)"], PRESETS["Plain-8 (28x28)"]
    convs = [
        sum(isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) for m in models.build(c).modules())
        for c in (res, plain)
    ]
    assert convs == [7, 7]  # stem + 3 blocks x 2 (+ Dense = 8 weighted layers)
    assert models.small_resnet(3, in_channels=3, image_size=32) == PRESETS["ResNet-20 (32x32)"]
    assert models.small_resnet(3, plain=True).name == "Plain-20 (28x28)"
    assert all(s.shortcut == "plain" for s in plain.layers if isinstance(s, ResidualSpec))


@pytest.mark.parametrize(
    "layers",
    [
        (Conv2dSpec(4, 3, 2, "same"), PoolSpec("avg", 2), Conv2dSpec(4, 3, padding=1)),  # (dilation leaves holes)
        (ConvBNSpec(4, 5, 2, padding=2), ResidualSpec(4), ResidualSpec(8, 2), InceptionSpec(2, 2, 2, 2, 2, 2)),
        (SeparableConvSpec(4, 3, 2, "same"), InceptionSpec(2, 0, 2, 0, 2, 2, kernel=7), ResidualSpec(4, 2, "plain")),
    ],
)
def test_a_units_region_is_where_its_gradient_reaches(layers: tuple) -> None:
    """The pixels whose change moves one unit (its gradient is non-zero there) are the region, clipped to the image."""
    plan = models.plan(ModelConfig(input_shape=(1, 28, 24), layers=layers))
    for index in range(len(layers)):
        _, h, w = plan.layers[index].out_shape
        upto = models.build(ModelConfig(input_shape=(1, 28, 24), layers=layers[: index + 1])).eval()
        with torch.no_grad():
            for p in upto.parameters():
                p.abs_().add_(0.1)  # all positive: every ReLU passes, nothing cancels
        for row, col in ((0, 0), (h // 2, w - 1), (h - 1, w // 3)):
            x = torch.rand(1, 1, 28, 24, requires_grad=True) + 0.5
            x.retain_grad()
            upto(x)[0, :, row, col].sum().backward()
            rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
            region = models.unit_region(plan, index, row, col)
            got = (int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max()))
            assert got == region.clipped(28, 24), (index, row, col, region)
            assert region.bottom - region.top + 1 == region.rf == plan.layers[index].rf


def test_a_flat_layer_or_a_unit_outside_the_map_has_no_region() -> None:
    plan = models.plan(PRESETS["ResNet-8 (28x28)"])
    with pytest.raises(ValueError, match="flat vector"):
        models.unit_region(plan, 4, 0, 0)
    with pytest.raises(ValueError, match="outside it"):
        models.unit_region(plan, 3, 7, 0)
    assert models.unit_region(plan, 3, 0, 0).top == -(
        1 + 2 + 3 + 3 * 2
    )  # stem 1, blocks 1 + 1, 1 + 2, then 3 at jump 2
