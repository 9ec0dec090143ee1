"""Tests for cnn_core.inspection on small models whose behaviour is known in advance."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_core import data as D
from cnn_core import inspection as I
from cnn_core import training as T
from cnn_core.kernels import PRESETS

SOBEL_X = PRESETS["Sobel x"].kernel


@pytest.fixture(scope="module")
def mnist() -> D.ImageSet:
    return D.load_bundled("mnist")


def sobel_model(inplace_relu: bool = True) -> nn.Sequential:
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(SOBEL_X, dtype=torch.float32)[None, None])
    return nn.Sequential(conv, nn.ReLU(inplace=inplace_relu), nn.Flatten(), nn.Linear(64, 2))


def step_image() -> torch.Tensor:
    x = torch.zeros(1, 1, 8, 8)
    x[..., 4:] = 1.0  # dark left half, bright right half: one vertical edge rising left to right
    return x


# ------------------------------------------------------------------------------ feature maps


def test_sobel_first_kernel_gives_sobel_feature_maps():
    model = sobel_model()
    x = step_image()
    acts = I.feature_maps(model, x)
    assert [a.name for a in acts] == ["0", "1", "2", "3"]
    conv_out = acts[0].values[0]
    expected = F.conv2d(x, torch.tensor(SOBEL_X, dtype=torch.float32)[None, None], padding=1)[0, 0].numpy()
    np.testing.assert_allclose(conv_out, expected, atol=1e-6)
    # Interior rows: +4 on the two columns beside the edge, 0 on flat areas.
    assert conv_out[3, 3] == pytest.approx(4.0) and conv_out[3, 4] == pytest.approx(4.0)
    assert conv_out[3, 1] == pytest.approx(0.0) and conv_out[3, 6] == pytest.approx(0.0)
    # Zero padding makes the right border a falling edge: negative before the ReLU ...
    assert conv_out[3, 7] < 0
    # ... and the in-place ReLU did not overwrite the recorded convolution output.
    assert acts[1].values[0, 3, 7] == 0 and acts[1].values.min() >= 0
    assert acts[2].shape == (64,) and acts[3].shape == (2,) and not acts[3].is_spatial
    assert acts[0].description == "Conv2d 1→1, 3x3"
    # The in-place flag and training mode are restored.
    assert model[1].inplace and model.training


def test_feature_map_shapes_of_fast_cnn(mnist):
    model = T.fast_cnn(widths=(8, 16, 32))
    acts = I.feature_maps(model, mnist.normalize(mnist.x_test[:1]))
    shapes = [a.shape for a in acts]
    assert shapes[0] == (8, 28, 28) and shapes[1] == (8, 14, 14)
    assert shapes[8] == (32, 7, 7) and shapes[9] == (32, 3, 3)
    assert shapes[-2] == (32 * 3 * 3,) and shapes[-1] == (10,)
    names = [n for n, _ in model.named_children()]
    assert [a.name for a in acts] == names
    assert I.spatial_layers(model, mnist.normalize(mnist.x_test[:1]))[-1] == names[11]  # the last ReLU


def test_tile_and_per_map_scale():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    t = I.tile(maps, cols=2)
    assert (t.rows, t.cols) == (3, 2) and t.values.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(t.values[3:5, 4:7], maps[3])
    assert t.index[3, 4] == 3 and t.index[2, 0] == -1 and np.isnan(t.values[2, 0])
    assert np.isnan(t.values[6:8, 4:7]).all()  # sixth slot empty
    scaled = I.per_map_scale(np.stack([maps[1], -maps[1] * 10, np.zeros((2, 3))]))
    assert np.abs(scaled).reshape(3, -1).max(axis=1).tolist() == [1.0, 1.0, 0.0]


# ------------------------------------------------------------------------------ kernels


def test_first_conv_and_conv_layers():
    model = T.fast_cnn(widths=(4, 8, 8))
    assert I.first_conv(model) is model[0]
    names = [n for n, _ in model.named_children()]
    assert [n for n, _ in I.conv_layers(model)] == [names[0], names[4], names[8]]
    assert I.first_conv(nn.Sequential(nn.Flatten(), nn.Linear(4, 2))) is None


def test_nearest_preset_sign_scale_and_offset():
    m = I.nearest_preset(SOBEL_X)
    assert m.preset == "Sobel x" and m.similarity == pytest.approx(1.0) and not m.inverted
    # Scaling and adding a constant do not change the pattern; negating inverts it.
    m2 = I.nearest_preset(-0.3 * SOBEL_X + 0.05)
    assert m2.preset == "Sobel x" and m2.similarity == pytest.approx(-1.0)
    assert m2.phrase == "looks most like an inverted Sobel x (similarity -1.00)"
    assert I.nearest_preset(PRESETS["Gaussian blur 3x3"].kernel).preset == "Gaussian blur 3x3"
    sims = I.preset_similarities(SOBEL_X)
    # Prewitt x = Sobel x without the middle-row weight: cosine = 8 / sqrt(12 * 6)
    assert sims["Prewitt x"] == pytest.approx(8 / np.sqrt(72))
    assert sims["Sobel y"] == pytest.approx(0.0)


def test_nearest_preset_flat_and_other_sizes():
    flat = I.nearest_preset(np.full((3, 3), 0.2) + np.eye(3) * 0.01)
    assert flat.flat and flat.preset == "Box blur" and flat.similarity > 0.99
    assert I.nearest_preset(-np.ones((3, 3))).inverted
    five = np.pad(SOBEL_X, 1)
    m = I.nearest_preset(five)
    assert m.preset == "Sobel x (padded to 5x5)" and m.similarity == pytest.approx(1.0)
    assert m.compared.shape == (5, 5)
    # A colour kernel is compared through its sum over channels.
    rgb = np.stack([SOBEL_X, SOBEL_X, SOBEL_X]) / 3
    assert I.nearest_preset(rgb).preset == "Sobel x"
    with pytest.raises(ValueError):
        I.nearest_preset(np.zeros((2, 2, 2, 2)))


# ------------------------------------------------------------------------------ confusion matrix


def test_confusion_matrix_and_report_on_known_predictions():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 0, 2, 2, 1])
    cm = I.confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(cm, [[2, 1, 0, 0], [0, 2, 0, 0], [1, 1, 2, 0], [0, 0, 0, 0]])
    rep = I.class_report(cm)
    np.testing.assert_allclose(rep.precision[:3], [2 / 3, 2 / 4, 2 / 2])
    np.testing.assert_allclose(rep.recall[:3], [2 / 3, 2 / 2, 2 / 4])
    np.testing.assert_allclose(rep.f1[:3], [2 / 3, 2 * 0.5 / 1.5, 2 * 0.5 / 1.5])
    assert np.isnan(rep.precision[3]) and np.isnan(rep.recall[3]) and np.isnan(rep.f1[3])
    assert rep.support.tolist() == [3, 2, 4, 0] and rep.accuracy == pytest.approx(6 / 9)
    rn = I.row_normalise(cm)
    np.testing.assert_allclose(rn.sum(axis=1), [1, 1, 1, 0])
    assert rn[2, 2] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        I.confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3)


def test_cell_examples_and_mistakes_most_confident_first():
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4], [0.2, 0.8]], dtype=np.float32)
    pred = I.Predictions(np.array([0, 0, 0, 1, 1]), probs.argmax(1), probs)
    assert I.cell_examples(pred, 0, 1).tolist() == [2, 1]
    assert I.confident_mistakes(pred).tolist() == [2, 1, 3]
    assert I.confident_mistakes(pred, limit=1).tolist() == [2]
    assert pred.accuracy == pytest.approx(2 / 5)


# ------------------------------------------------------------------------------ snapshots


def test_take_snapshot_restores_mode_and_counts(mnist):
    model = T.fast_cnn(widths=(8, 16, 16)).to(memory_format=torch.channels_last)
    model.train()
    snap = I.take_snapshot(model, mnist, epoch=2, step=40, n_eval=300)
    assert model.training
    assert (snap.epoch, snap.step) == (2, 40)
    assert snap.first_kernels.shape == (8, 1, 3, 3) and snap.first_kernels.dtype == np.float32
    np.testing.assert_allclose(snap.first_kernels, model[0].weight.detach().numpy())
    assert snap.confusion.shape == (10, 10) and snap.confusion.dtype == np.int64 and snap.confusion.sum() == 300
    assert snap.val_acc == pytest.approx(np.trace(snap.confusion) / 300)
    # The snapshot is a copy: later training does not change it.
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert not np.allclose(snap.first_kernels, model[0].weight.detach().numpy())
    model.eval()
    I.take_snapshot(model, mnist, epoch=0, step=0, n_eval=10)
    assert not model.training


def test_take_snapshot_is_fast_on_bundled_mnist(mnist):
    model = T.fast_cnn(widths=(16, 32, 64)).to(memory_format=torch.channels_last)
    I.take_snapshot(model, mnist, epoch=0, step=0)  # warm-up
    t0 = time.perf_counter()
    I.take_snapshot(model, mnist, epoch=0, step=0)
    # 0.5 s is the budget on an idle machine; allow for a shared, busy CI runner.
    assert time.perf_counter() - t0 < 2.0


def test_predict_test_set_matches_the_model(mnist):
    model = T.fast_cnn(widths=(4, 8, 8))
    pred = I.predict_test_set(model, mnist, n=50)
    with torch.no_grad():
        logits = model.eval()(mnist.normalize(mnist.x_test[:50]))
    np.testing.assert_allclose(pred.probs, torch.softmax(logits, 1).numpy(), atol=1e-5)
    assert pred.y_true.tolist() == mnist.y_test[:50].tolist()
    p1 = I.predict_proba(model, mnist.normalize(mnist.x_test[:1]))
    np.testing.assert_allclose(p1, pred.probs[0], atol=1e-5)
    assert p1.sum() == pytest.approx(1.0, abs=1e-5)


# ------------------------------------------------------------------------------ saliency, Grad-CAM


def test_saliency_of_a_linear_model_is_its_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 5, 3))
    x = torch.randn(1, 2, 4, 5)
    s = I.saliency(model, x, 1)
    w = model[1].weight.detach()[1].view(2, 4, 5).abs().amax(dim=0).numpy()
    assert s.shape == (4, 5)
    np.testing.assert_allclose(s, w, atol=1e-6)


def test_grad_cam_on_a_gap_head_equals_class_activation_map():
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)
    )
    x = torch.randn(1, 1, 6, 6)
    target = 2
    gc = I.grad_cam(model, x, target, layer="1")
    w_lin = model[4].weight.detach()[target].numpy()
    # d logit / d A[c, i, j] = W[target, c] / (h * w): the Grad-CAM weights are the CAM weights / 36.
    np.testing.assert_allclose(gc.weights, w_lin / 36, rtol=1e-5)
    a = I.feature_maps(model, x)[1].values  # (4, 6, 6) after ReLU
    signed = np.tensordot(gc.weights, a, axes=1)  # (6, 6)
    np.testing.assert_allclose(gc.cam, np.maximum(signed, 0), atol=1e-6)
    logit = model.eval()(x)[0, target].item()
    assert signed.sum() == pytest.approx(logit - model[4].bias[target].item(), abs=1e-5)
    assert gc.heatmap.shape == (6, 6) and gc.heatmap.min() >= 0
    assert gc.heatmap.max() == pytest.approx(1.0) or gc.cam.max() == 0
    assert model[1].inplace


def test_grad_cam_defaults_to_last_conv_and_upsamples(mnist):
    model = T.fast_cnn(widths=(4, 8, 8))
    x = mnist.normalize(mnist.x_test[:1])
    gc = I.grad_cam(model, x, 3)
    names = [n for n, _ in model.named_children()]
    assert gc.layer == names[8] and gc.cam.shape == (7, 7) and gc.heatmap.shape == (28, 28)
    assert gc.weights.shape == (8,)
    with pytest.raises(ValueError, match="no layer"):
        I.grad_cam(model, x, 3, layer="nope")
    with pytest.raises(ValueError, match="feature maps"):
        I.grad_cam(model, x, 3, layer=names[13])  # the final Linear layer
    with pytest.raises(ValueError, match="no convolution"):
        I.grad_cam(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), x, 0)


# ------------------------------------------------------------------------------ preprocessing


def drawn_bar(h: int = 200, w: int = 120) -> np.ndarray:
    img = np.ones((h, w), dtype=np.float32)  # white paper
    img[40:160, 20:36] = 0.0  # a black vertical stroke near the left
    return img


def test_preprocess_drawing_inverts_centres_and_normalises(mnist):
    pre = I.preprocess(drawn_bar(), mnist)
    assert pre.inverted and "light" in pre.invert_reason
    names = [s.name for s in pre.stages]
    assert names == ["Your image", "Inverted", "Centred, 28x28", "Normalised"]
    assert pre.x.shape == (1, 1, 28, 28)
    centred = pre.stages[2].image
    ys, xs = np.nonzero(centred > 0.2)
    assert ys.max() - ys.min() + 1 == 20  # the stroke's longer side fits 20 of 28 pixels
    mass = centred.sum()
    cy = (np.arange(28)[:, None] * centred).sum() / mass + 0.5
    cx = (np.arange(28)[None, :] * centred).sum() / mass + 0.5
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    u8 = torch.from_numpy(np.rint(centred * 255).astype(np.uint8))[None, None]
    torch.testing.assert_close(pre.x, mnist.normalize(u8))


def test_preprocess_overrides_colour_and_empty_images(mnist):
    rgb = np.zeros((30, 30, 3), dtype=np.float32)
    rgb[10:20, 12:16] = [1.0, 1.0, 1.0]
    pre = I.preprocess(rgb, mnist)
    assert not pre.inverted and [s.name for s in pre.stages][:2] == ["Your image", "Grayscale"]
    no = I.preprocess(drawn_bar(), mnist, invert="no", centre=False)
    assert not no.inverted and no.stages[-2].name == "Resized to 28x28"
    assert any("square" in n for n in no.notes)
    with pytest.raises(ValueError, match="empty"):
        I.preprocess(np.ones((50, 50), dtype=np.float32), mnist)
    with pytest.raises(ValueError):
        I.preprocess(np.ones((5, 5, 4), dtype=np.float32), mnist)


def test_preprocess_for_colour_data():
    colour = D.ImageSet(
        "c", torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(2, dtype=torch.long),
        torch.zeros(1, 3, 8, 8, dtype=torch.uint8), torch.zeros(1, dtype=torch.long),
        ("a", "b"), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25),
    )  # fmt: skip
    pre = I.preprocess(np.full((16, 16), 0.75, dtype=np.float32), colour, invert="no")
    assert [s.name for s in pre.stages] == ["Your image", "RGB", "Resized to 8x8", "Normalised"]
    assert pre.x.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(pre.x.numpy(), (round(0.75 * 255) / 255 - 0.5) / 0.25, atol=1e-6)


# ------------------------------------------------------------------------------ numbers the page shows


def test_softmax_and_top_classes_match_torch():
    logits = np.array([2.0, -1.0, 0.5, 3.0], dtype=np.float32)
    probs = I.softmax(logits)
    np.testing.assert_allclose(probs, torch.softmax(torch.from_numpy(logits), 0).numpy(), rtol=1e-6)
    assert probs.sum() == pytest.approx(1.0) and probs.dtype == np.float32
    assert I.top_classes(probs, 3).tolist() == [3, 0, 2]
    assert I.softmax(np.array([1000.0, 1000.0])).tolist() == [0.5, 0.5]  # no overflow on large scores


def test_most_confused_and_the_probability_of_the_true_class():
    cm = np.array([[5, 1, 0], [0, 7, 4], [2, 0, 9]])
    assert I.most_confused(cm) == (1, 2)
    assert I.most_confused(np.diag([3, 4])) == (0, 0)  # no confusion at all
    probs = np.array([[0.7, 0.3], [0.4, 0.6]], dtype=np.float32)
    pred = I.Predictions(np.array([1, 1]), probs.argmax(1), probs)
    np.testing.assert_allclose(pred.true_confidence, [0.3, 0.6])
    np.testing.assert_allclose(pred.confidence, [0.7, 0.6])


def test_default_cam_layer_prefers_the_activation_after_the_last_convolution(mnist):
    model = sobel_model()
    assert I.default_cam_layer(model, I.spatial_layers(model, step_image())) == "1"  # the ReLU after conv "0"
    no_act = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 2))
    assert I.default_cam_layer(no_act, ["0", "1"]) == "0"
    assert I.default_cam_layer(nn.Sequential(nn.MaxPool2d(2)), ["0"]) == "0"  # no convolution: the last layer


def test_kernel_weights_gray_kernels_and_their_range_over_snapshots():
    conv = sobel_model()[0]
    w = I.kernel_weights(conv)
    assert w.shape == (1, 1, 3, 3) and w.dtype == np.float32
    np.testing.assert_array_equal(w[0, 0], SOBEL_X)
    w[0, 0, 0, 0] = 99  # a copy: the model keeps its weights
    assert conv.weight[0, 0, 0, 0].item() == -1
    rgb = np.stack([SOBEL_X, 2 * SOBEL_X, -SOBEL_X])[None]  # (1, 3, 3, 3)
    np.testing.assert_array_equal(I.gray_kernels(rgb), [2 * SOBEL_X])
    snaps = [
        I.Snapshot(0, s, 0.1, k.astype(np.float32), np.zeros((2, 2), np.int64)) for s, k in [(0, rgb), (5, 3 * rgb)]
    ]
    assert I.kernel_range(snaps) == pytest.approx(12.0)  # |2 * 3 * -2| at the later moment
    assert I.kernel_range([I.Snapshot(0, 0, 0.0, np.zeros((0, 0, 0, 0), np.float32), np.zeros((2, 2)))]) == 1.0


def test_stretch_each_and_scale_to_max():
    k = np.stack([np.array([[-2.0, 0.0], [2.0, 1.0]]), np.full((2, 2), 3.0)])[:, None]  # (2, 1, 2, 2)
    s = I.stretch_each(k)
    np.testing.assert_allclose(s[0, 0], [[0.0, 0.5], [1.0, 0.75]])  # each kernel on its own from min to max
    np.testing.assert_array_equal(s[1], np.zeros((1, 2, 2)))  # a constant kernel has no range
    np.testing.assert_allclose(I.scale_to_max(np.array([1.0, 4.0])), [0.25, 1.0])
    np.testing.assert_array_equal(I.scale_to_max(np.zeros(3)), np.zeros(3))


def test_drawing_pixels_composite_on_white_and_see_an_empty_canvas(mnist):
    canvas = np.zeros((4, 4, 4), np.uint8)  # transparent black everywhere: white paper
    assert I.drawing_pixels(canvas) is None and I.drawing_pixels(None) is None
    canvas[1, 2] = (0, 0, 0, 255)  # one opaque black stroke
    canvas[2, 2] = (0, 0, 0, 128)  # half transparent: grey
    rgb = I.drawing_pixels(canvas)
    assert rgb.shape == (4, 4, 3)
    assert rgb[1, 2].tolist() == [0, 0, 0] and rgb[0, 0].tolist() == [1, 1, 1]
    np.testing.assert_allclose(rgb[2, 2], 1 - 128 / 255, atol=1e-6)
    pic = I.picture_of(mnist, 3)
    assert pic.shape == (28, 28) and pic.dtype == np.float32
    np.testing.assert_allclose(pic * 255, mnist.x_test[3, 0].numpy())
