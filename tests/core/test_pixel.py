"""The Kernel Lab inspector's dot product equals the filtered pixel, for every padding mode."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import ops, pixel

TORCH_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate"}


def _reference(channel, kernel, stride, pad, mode, dilation):
    (top, bottom), (left, right) = pad
    x = F.pad(torch.tensor(channel)[None, None], (left, right, top, bottom), mode=TORCH_MODES[mode])
    return F.conv2d(x, torch.tensor(kernel)[None, None], stride=stride, dilation=dilation)[0, 0].numpy()


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate"])
def test_every_output_pixel_equals_its_dot_product(mode):
    rng = np.random.default_rng(3)
    for _ in range(25):
        h, w = (int(v) for v in rng.integers(4, 10, 2))
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        stride, dilation = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        channel, kernel = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
        pad = ops.resolve_padding_2d("same", (h, w), (kh, kw), (stride, stride), (dilation, dilation))
        ref = _reference(channel, kernel, stride, pad, mode, dilation)
        for r in range(ref.shape[0]):
            for c in range(ref.shape[1]):
                pw = pixel.explain_pixel(
                    channel, kernel, (r, c), stride=stride, padding="same", padding_mode=mode, dilation=dilation
                )
                assert pw.total == pytest.approx(ref[r, c], abs=1e-9)
                np.testing.assert_allclose(pw.products, pw.window * kernel)


def test_padding_cells_are_flagged():
    pw = pixel.explain_pixel(np.ones((4, 4)), np.ones((3, 3)), (0, 0), padding="same")
    assert pw.is_padding.sum() == 5 and pw.total == 4.0
    assert pw.rows == (-1, 0, 1)


def test_nearest_output_cell_follows_stride_and_padding():
    assert pixel.nearest_output_cell(5, 5, (10, 10), (3, 3), padding="same") == (5, 5)
    assert pixel.nearest_output_cell(5, 5, (10, 10), (3, 3), padding="valid") == (4, 4)
    assert pixel.nearest_output_cell(9, 0, (10, 10), (3, 3), stride=2, padding="same") == (4, 0)


def test_outside_the_output_is_an_error():
    with pytest.raises(ValueError, match="outside"):
        pixel.explain_pixel(np.ones((4, 4)), np.ones((3, 3)), (2, 0), padding="valid")


def test_a_click_on_a_shrunk_picture_lands_on_the_pixel_under_it():
    # A 640 x 480 photo drawn 320 x 240: screen point (100, 50) is pixel (row 100, col 200).
    assert pixel.clicked_pixel(100, 50, (240, 320), (480, 640)) == (100, 200)
    assert pixel.clicked_pixel(319.9, 239.9, (240, 320), (480, 640)) == (479, 639)
    assert pixel.clicked_pixel(7, 3, (None, None), (10, 10)) == (3, 7)  # drawn at its own size
