"""Batch norm and dropout explained (cnn_core.inspection.regularisation), checked against torch's own layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnn_core import data as D
from cnn_core.inspection import regularisation as R


def _batches(k: int, seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shift = torch.tensor([3.0, -1.0, 0.0]).view(1, 3, 1, 1)
    spread = torch.tensor([0.5, 2.0, 5.0]).view(1, 3, 1, 1)
    return [torch.randn(8, 3, 5, 5, generator=gen) * spread + shift for _ in range(k)]


@pytest.mark.parametrize("k", [1, 7])
def test_batch_norm_matches_torch_in_training_and_evaluation_mode(k):
    batches = _batches(k)
    bn = nn.BatchNorm2d(3, momentum=0.1, eps=1e-5, dtype=torch.float64)
    bn.train()
    for xb in batches:
        out_train = bn(xb.double())
    view = R.batch_norm_view(batches, momentum=0.1, eps=1e-5)
    np.testing.assert_allclose(view.running_mean, bn.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(view.running_var, bn.running_var.numpy(), rtol=1e-10)
    np.testing.assert_allclose(view.train_out.mean, R.channel_stats(out_train).mean, atol=1e-10)
    np.testing.assert_allclose(view.train_out.std, R.channel_stats(out_train).std, rtol=1e-9)
    bn.eval()
    out_eval = bn(batches[-1].double())
    np.testing.assert_allclose(view.eval_out.mean, R.channel_stats(out_eval).mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(view.eval_out.std, R.channel_stats(out_eval).std, rtol=1e-9)
    # training mode: every channel mean 0, spread 1 (just under, for eps), whatever it was before
    np.testing.assert_allclose(view.train_out.mean, 0.0, atol=1e-9)
    np.testing.assert_allclose(view.train_out.std, 1.0, atol=1e-3)
    np.testing.assert_allclose(view.before.mean, [3.0, -1.0, 0.0], atol=0.7)


def test_eval_mode_after_one_batch_is_far_from_normalised_and_closes_in_with_more():
    one = R.batch_norm_view(_batches(1))
    many = R.batch_norm_view(_batches(60))
    # after one batch the running mean is only 10 % of the way: channel 0 (mean 3) stays far off 0
    assert abs(one.eval_out.mean[0]) > 2.0
    assert abs(many.eval_out.mean[0]) < 0.3
    np.testing.assert_allclose(many.eval_out.std, 1.0, atol=0.25)


def test_bad_batch_norm_input_is_a_sentence():
    with pytest.raises(ValueError, match="at least one batch"):
        R.batch_norm_view([])
    with pytest.raises(ValueError, match="momentum"):
        R.batch_norm_view(_batches(1), momentum=0.0)
    with pytest.raises(ValueError, match="more than one value"):
        R.batch_norm_view([torch.ones(1, 2, 1, 1)])


def test_kernel_feature_maps_have_different_means_and_spreads():
    images = D.load_bundled("mnist").x_train[:64]
    maps = R.kernel_feature_maps(images)
    assert maps.shape == (64, len(R.BN_KERNELS), 28, 28)
    stats = R.channel_stats(maps)
    blur = R.BN_KERNELS.index("Gaussian blur 3x3")
    sobel = R.BN_KERNELS.index("Sobel x")
    assert stats.mean[blur] > 0.05 and abs(stats.mean[sobel]) < 0.02  # a blur keeps brightness, an edge centres on 0
    assert len({round(float(s), 2) for s in stats.std}) == len(R.BN_KERNELS)
    with pytest.raises(ValueError, match="grey images"):
        R.kernel_feature_maps(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))


def test_dropout_mask_scaling_and_evaluation_mode_match_torch():
    x = np.linspace(1.0, 2.0, 4000)
    view = R.dropout_view(x, p=0.3, seed=1)
    assert view.scale == pytest.approx(1 / 0.7)
    np.testing.assert_allclose(view.train_out[view.keep], x[view.keep] / 0.7)
    assert np.all(view.train_out[~view.keep] == 0)
    np.testing.assert_array_equal(view.eval_out, x)
    assert view.dropped_share == pytest.approx(0.3, abs=0.03)
    assert view.train_out.mean() == pytest.approx(x.mean(), rel=0.05)  # the scaling keeps the expected value
    layer = nn.Dropout(0.3)
    t = torch.as_tensor(x)
    out = layer.train()(t)
    kept = out != 0
    torch.testing.assert_close(out[kept], t[kept] / 0.7)  # torch scales kept values the same way
    assert float(kept.double().mean()) == pytest.approx(float(view.keep.mean()), abs=0.04)
    torch.testing.assert_close(layer.eval()(t), t)  # and is the identity in evaluation mode
    assert R.dropout_view(x, p=0.3, seed=1).keep.tolist() == view.keep.tolist()  # same seed, same mask
    assert R.dropout_view(x, p=0.3, seed=2).keep.tolist() != view.keep.tolist()


def test_dropout_rate_out_of_range_is_a_sentence():
    with pytest.raises(ValueError, match="below 1"):
        R.dropout_view([1.0], p=1.0)
    assert R.dropout_view([1.0, 2.0], p=0.0).keep.all()
