"""cnn_core.models: configs -> real torch modules, with Keras' shapes and the course notes' totals."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

import pytest
import torch
from torch import nn

from cnn_core import models
from cnn_core.models import (
    LAYER_TYPES,
    PRESETS,
    ActivationSpec,
    BatchNormSpec,
    Conv2dSpec,
    DenseSpec,
    DropoutSpec,
    FlattenSpec,
    GlobalAvgPoolSpec,
    LayerError,
    LayerSpec,
    ModelConfig,
    ModulePlan,
    PoolSpec,
    Step,
    Window,
    register,
)
from cnn_core.models.base import setting
from cnn_core.summary import param_formula, summarize


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# Totals printed by the Keras summaries of the course notes (001 and 003), checked against the model
# built here; the others are computed by hand from (C_in*kh*kw + 1)*C_out and (n_in + 1)*n_out.
EXPECTED_TOTALS = {
    "Course MNIST CNN (Keras notes)": 93_322,  # 320 + 18,496 + 36,928 + 36,928 + 650
    "Course MNIST CNN, two 32-filter convolutions": 305_194,  # 320 + 9,248 + 294,976 + 650
    "Course CIFAR-10 CNN": 315_722,  # 896 + 18,496 + 295,040 + 1,290
    "Course CIFAR-10 CNN with batch norm": 293_034,  # Keras: + 896 running statistics = 293,930
    "LeNet-5": 61_706,  # 156 + 2,416 + 48,120 + 10,164 + 850
    "AlexNet": 62_378_344,
    "TinyVGG (CNN Explainer)": 19_920,  # 280 + 3 * 910 + 16,910
    "ConvLab fast (recommended for training)": 29_290,  # 160 + 32 + 4,640 + 64 + 18,496 + 128 + 5,770
    # stem 1·9·16 + 2·16 = 176; blocks 16·9·16·2 + 2·2·16 = 4,672; 16·9·32 + 32·9·32 + 3·2·32 + 16·32 = 14,528;
    # 32·9·64 + 64·9·64 + 3·2·64 + 32·64 = 57,728; Dense (64 + 1)·10 = 650
    "ResNet-8 (28x28)": 77_754,
    "Plain-8 (28x28)": 75_002,  # no projections: 176 + 4,672 + 13,952 + 55,552 + 650
    "ResNet-20 (32x32)": 272_474,  # 3-channel stem 496, 3·4,672, 14,528 + 2·18,560, 57,728 + 2·74,112, 650
    "Small inception net (28x28)": 38_090,  # 352 + 9,808 + 26,640 + 1,290
    "Small inception net (32x32)": 38_666,  # 3-channel stem: 928 instead of 352
    "ResNet-18 (ImageNet, for reading)": 11_689_512,  # sum(p.numel()) of torchvision.models.resnet18()
    "GoogLeNet (ImageNet, for reading)": 6_624_904,  # torchvision's googlenet(aux_logits=False)
}
READING = [n for n in PRESETS if "for reading" in n]  # 224x224 ImageNet networks: checked once, in test_blocks
SMALL = [n for n in PRESETS if n not in READING]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_plans_to_its_expected_total(name: str) -> None:
    assert models.plan(PRESETS[name]).total_params == EXPECTED_TOTALS[name]


@pytest.mark.parametrize("name", SMALL)
def test_preset_builds_runs_and_has_expected_total(name: str) -> None:
    config = PRESETS[name]
    model = build_checked(config)
    assert n_params(model) == EXPECTED_TOTALS[name]
    assert models.plan(config).total_params == EXPECTED_TOTALS[name]
    y_hat = model(torch.randn(2, *config.input_shape))  # (B, classes)
    assert y_hat.shape == (2, config.num_classes)
    assert isinstance(list(model.children())[-1], nn.Linear)  # logits, no softmax


def build_checked(config: ModelConfig) -> nn.Sequential:
    model = models.build(config)
    assert model.training
    return model


def test_course_mnist_keras_summary_shapes() -> None:
    """The notes' summary: 26x26x32, 13x13x32, 11x11x64, 5x5x64, 3x3x64, 576, 64, 10."""
    p = models.plan(PRESETS["Course MNIST CNN (Keras notes)"])
    assert [lp.out_shape for lp in p.layers] == [
        (32, 26, 26), (32, 13, 13), (64, 11, 11), (64, 5, 5), (64, 3, 3), (576,), (64,), (10,),
    ]  # fmt: skip
    assert [lp.params for lp in p.layers] == [320, 0, 18_496, 0, 36_928, 0, 36_928, 650]
    assert sum(lp.params for lp in p.layers[:5]) == 55_744  # the convolutional base alone
    assert [(lp.rf, lp.jump) for lp in p.layers] == [(3, 1), (4, 2), (8, 2), (10, 4), (18, 4)] + [(None, None)] * 3
    assert p.layers[0].formula == "(C_in·kh·kw + 1)·C_out = (1·3·3 + 1)·32 = 320" and p.layers[1].formula == ""


def test_plan_shapes_match_real_tensors() -> None:
    config = PRESETS["Course CIFAR-10 CNN with batch norm"]
    p = models.plan(config)
    model = models.build(config).eval()
    x = torch.zeros(1, *config.input_shape)
    mods = dict(model.named_children())
    for lp in p.layers:
        for name in lp.module_names:
            x = mods[name](x)
        assert tuple(x.shape[1:]) == lp.out_shape, lp


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation"),
    [(28, 3, 1, 1), (28, 4, 1, 1), (13, 6, 5, 1), (224, 11, 4, 1), (7, 3, 2, 1), (10, 3, 1, 2), (9, 2, 2, 1)],
)
def test_same_padding_matches_tensorflow(size: int, kernel: int, stride: int, dilation: int) -> None:
    """Keras 'same': output ceil(n / stride), the extra padding cell at the bottom/right."""
    config = ModelConfig(
        input_shape=(2, size, size + 1),
        layers=(Conv2dSpec(3, kernel, stride=stride, padding="same", dilation=dilation, activation="none"),),
    )
    model = models.build(config)
    y = model(torch.randn(1, 2, size, size + 1))
    expected = (3, -(-size // stride), -(-(size + 1) // stride))
    assert tuple(y.shape[1:]) == expected == models.plan(config).output_shape
    # Compare with an explicit TF-style pad + valid convolution using the same weights.
    conv = model[-1]
    from cnn_core.geometry import same_padding

    ph = same_padding(size, kernel, stride=stride, dilation=dilation)
    pw = same_padding(size + 1, kernel, stride=stride, dilation=dilation)
    x = torch.randn(1, 2, size, size + 1)
    ref = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (pw[0], pw[1], ph[0], ph[1])),
        conv.weight,
        conv.bias,
        stride=stride,
        dilation=dilation,
    )
    torch.testing.assert_close(model(x), ref)


def test_dense_on_feature_map_is_refused_naming_the_layer() -> None:
    config = ModelConfig(input_shape=(1, 28, 28), layers=(Conv2dSpec(8), DenseSpec(10)))
    err = models.validate(config)
    assert isinstance(err, LayerError)
    assert err.index == 1
    assert str(err).startswith("Layer 2 (Dense 10, relu)")
    assert "8x26x26" in str(err) and "Flatten" in str(err)


def test_spatial_size_reaching_zero_is_refused_naming_the_layer() -> None:
    layers = (Conv2dSpec(8, 5), PoolSpec("max", 2), Conv2dSpec(8, 5), PoolSpec("max", 2), Conv2dSpec(8, 5))
    err = models.validate(ModelConfig(input_shape=(1, 20, 20), layers=layers))
    assert err is not None and err.index == 4
    assert "2x2" in str(err) and "does not fit" in str(err)
    with pytest.raises(LayerError, match="Layer 5"):
        models.build(ModelConfig(input_shape=(1, 20, 20), layers=layers))


@pytest.mark.parametrize(
    ("layers", "index", "words"),
    [
        ((FlattenSpec(), Conv2dSpec()), 1, "flat vector"),
        ((FlattenSpec(), PoolSpec()), 1, "flat vector"),
        ((GlobalAvgPoolSpec(), GlobalAvgPoolSpec()), 1, "flat vector"),
        ((Conv2dSpec(stride=0),), 0, "stride must be at least 1"),
        ((Conv2dSpec(padding=-1),), 0, "at least 0"),
        ((Conv2dSpec(padding="full"),), 0, "padding must be"),
        ((DropoutSpec(1.0),), 0, "[0, 1)"),
        ((Conv2dSpec(activation="swish"),), 0, "unknown activation"),
        ((FlattenSpec(), DenseSpec(200_000)), 1, "at most"),
        ((FlattenSpec(), DenseSpec(90_000), DenseSpec(90_000)), 2, "parameters"),
    ],
)
def test_impossible_layers_give_readable_errors(layers: tuple, index: int, words: str) -> None:
    err = models.validate(ModelConfig(input_shape=(1, 28, 28), layers=layers))
    assert err is not None and err.index == index
    assert words in str(err)


def test_bad_input_shape() -> None:
    err = models.validate(ModelConfig(input_shape=(1, 0, 28)))
    assert err is not None and err.index == -1 and str(err).startswith("Input:")
    assert models.validate(ModelConfig(input_shape=(1, 5000, 28))) is not None


def test_flat_batchnorm_and_gap() -> None:
    config = ModelConfig(
        input_shape=(3, 16, 16),
        layers=(Conv2dSpec(8, padding=1), BatchNormSpec(), GlobalAvgPoolSpec(), BatchNormSpec(), DenseSpec(4, "none")),
    )
    model = models.build(config)
    assert isinstance(model.bn1, nn.BatchNorm2d) and isinstance(model.bn2, nn.BatchNorm1d)
    assert model(torch.randn(3, 3, 16, 16)).shape == (3, 4)
    p = models.plan(config)
    assert [lp.out_shape for lp in p.layers] == [(8, 16, 16), (8, 16, 16), (8,), (8,), (4,)]
    assert p.layers[1].running == 16 and p.layers[1].params == 16


@pytest.mark.parametrize("name", list(PRESETS))
def test_serialisation_round_trips(name: str) -> None:
    config = PRESETS[name]
    assert models.from_dict(json.loads(json.dumps(models.to_dict(config)))) == config
    q = models.to_query(config)
    assert models.from_query(q) == config
    assert all(ch.isalnum() or ch in "-_.x" for ch in q["net"] + q["in"])  # nothing to percent-encode


def test_query_round_trip_of_every_setting() -> None:
    config = ModelConfig(
        name="Custom network",
        input_shape=(3, 40, 30),
        layers=(
            Conv2dSpec(16, 5, stride=2, padding="same", dilation=1, activation="elu"),
            Conv2dSpec(8, 3, padding=2, dilation=2, activation="none"),
            PoolSpec("avg", 3, 2),
            BatchNormSpec(),
            ActivationSpec("leakyrelu"),
            DropoutSpec(0.25),
            GlobalAvgPoolSpec(),
            DenseSpec(7, "gelu"),
            DenseSpec(3, "none"),
        ),
    )
    assert models.from_query(models.to_query(config)) == config


@pytest.mark.parametrize("net", ["conv", "conv32-q4", "pool2", "dense-relu", "dropoutx", "act-swish"])
def test_bad_links_are_explained(net: str) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        models.from_query({"in": "1x28x28", "net": net})
    with pytest.raises(ValueError, match="should look like"):
        models.from_query({"in": "28x28", "net": ""})


def test_pytorch_code_builds_the_same_model(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("Course CIFAR-10 CNN with batch norm", "TinyVGG (CNN Explainer)"):
        config = PRESETS[name]
        code = models.to_pytorch_code(config)
        ns: dict = {}
        exec(code, ns)
        built = models.build(config)
        assert [(k, v.shape) for k, v in ns["model"].state_dict().items()] == [
            (k, v.shape) for k, v in built.state_dict().items()
        ]
        assert "torch.Size([1, 10])" in capsys.readouterr().out


def test_with_num_classes() -> None:
    config = models.with_num_classes(PRESETS["LeNet-5"], 3)
    assert config.num_classes == 3 and models.build(config)(torch.zeros(1, 1, 32, 32)).shape == (1, 3)
    with pytest.raises(ValueError, match="does not end with a Dense"):
        models.with_num_classes(ModelConfig(layers=(Conv2dSpec(),)), 3)


def test_the_registry_is_the_one_list_of_layer_types() -> None:
    assert list(LAYER_TYPES) == [
        "conv", "pool", "batchnorm", "dropout", "flatten", "gap", "dense", "activation",
        "convbn", "sepconv", "residual", "inception",
    ]  # fmt: skip
    for cls in LAYER_TYPES.values():
        assert issubclass(cls, LayerSpec)
        assert all("setting" in f.metadata for f in fields(cls)), cls  # every field says how links and editor show it
        assert cls.describe is not LayerSpec.describe and cls.plan is not LayerSpec.plan, cls
    with pytest.raises(ValueError, match="registered twice"):
        register("conv")(type("Again", (LayerSpec,), {}))


@pytest.mark.parametrize("name", SMALL)
def test_plan_receptive_fields_and_formulas_agree_with_the_measured_summary(name: str) -> None:
    """The static plan and the hooks on the real module give the same receptive fields and parameter formulas
    (a layer of several parts, e.g. a block: its formula ends in the parameters its measured rows add up to)."""
    config = PRESETS[name]
    p = models.plan(config)
    table = summarize(models.build(config), config.input_shape)
    rows = {r.name: r for r in table.rows}
    for lp in p.layers:
        measured = rows[lp.modules[-1].name]
        assert (lp.rf, lp.jump) == ((None, None) if measured.rf is None else (measured.rf[0], measured.jump[0])), lp
        mine = [r for r in table.rows if r.name.split(".")[0] in lp.module_names]
        if lp.formula_text:
            assert f"= {sum(r.total_params for r in mine):,}" in lp.formula and lp.params > 0, lp
            continue
        owners = [param_formula(r.terms) for r in mine if r.terms is not None]
        assert owners == ([lp.formula] if lp.terms is not None else []), lp


@pytest.fixture
def scale_type():
    """A made-up layer type, registered the way a new one is: one class, nothing else."""

    @register("scale", token="times")
    @dataclass(frozen=True)
    class ScaleSpec(LayerSpec):
        noun = "scale"
        editor_name = "Scale"

        factor: int = setting(2, "Factor", place="head", hi=9)
        shift: int = setting(0, "Shift", tag="b", hi=9)

        def describe(self) -> str:
            return f"Scale x{self.factor}"

        def plan(self, shape: tuple[int, ...], name) -> Step:
            if self.factor > 9:
                raise ValueError("the factor can be at most 9.")
            return Step(out_shape=shape, modules=(ModulePlan(name("scale"), "Identity"),), window=Window())

    yield ScaleSpec
    del LAYER_TYPES["scale"]


def test_a_new_layer_type_is_one_registered_class(scale_type: type) -> None:
    config = ModelConfig(input_shape=(1, 8, 8), layers=(Conv2dSpec(4), scale_type(3, 1), FlattenSpec(), DenseSpec(2)))
    assert models.to_query(config)["net"] == "conv4-k3-relu_times3-b1_flatten_dense2-relu"
    assert models.from_query(models.to_query(config)) == config
    assert models.to_dict(config)["layers"][1] == {"type": "scale", "factor": 3, "shift": 1}
    assert models.from_dict(json.loads(json.dumps(models.to_dict(config)))) == config
    assert models.build(config).scale1.__class__ is nn.Identity
    assert models.plan(config).layers[1].rf == 3  # element-wise: the receptive field goes through
    err = models.validate(ModelConfig(input_shape=(1, 8, 8), layers=(scale_type(12),)))
    assert str(err) == "Layer 1 (Scale x12): the factor can be at most 9."
    with pytest.raises(ValueError, match="'q' is not a scale setting"):
        models.from_query({"net": "times2-q"})


@pytest.mark.parametrize(
    ("net", "words"),
    [
        ("conv32-q4", "'q4' is not a convolution setting"),
        ("maxpool2-k3", "'k3' is not a pooling setting"),
        ("dense", "expected a whole number after 'dense'"),
        ("dropoutx", "expected a number after 'dropout'"),
        ("act", "the activation is missing"),
        ("dense5-relu-tanh", "'tanh' gives the activation a second time"),
        ("gapx", "'gapx' is not a layer ConvLab knows"),
    ],
)
def test_bad_link_messages_say_what_is_wrong(net: str, words: str) -> None:
    with pytest.raises(ValueError, match="cannot be read") as caught:
        models.from_query({"net": f"conv8-k3_{net}"})
    assert words in str(caught.value)


def test_old_link_spellings_still_read() -> None:
    """Spellings the page never wrote but the old reader took: options in any order, explicit defaults."""
    got = models.from_query({"net": "conv8-s2-same-d2-tanh-k5_conv8-valid_conv8-p0_avgpool3-s0"}).layers
    assert got == (Conv2dSpec(8, 5, 2, "same", 2, "tanh"), Conv2dSpec(8, activation="none"),
                   Conv2dSpec(8, padding=0, activation="none"), PoolSpec("avg", 3, 0))  # fmt: skip
