"""Tests for the default recipe itself: one epoch, annealed by its end, and the network it trains."""

from __future__ import annotations

import torch

from cnn_core import models
from cnn_core import training as T
from cnn_core.training.recipe import make_optimizer, make_schedule


def test_default_schedule_peaks_at_lr_and_is_annealed_by_the_end_of_its_one_epoch():
    cfg = T.TrainConfig()
    assert cfg.epochs == 1 and cfg.schedule == "onecycle"
    per_epoch = 60_000 // cfg.batch_size  # full MNIST / Fashion-MNIST
    opt = make_optimizer(torch.nn.Linear(2, 2), cfg)
    sched = make_schedule(opt, cfg, per_epoch * cfg.epochs, per_epoch)
    lrs = []
    for _ in range(per_epoch * cfg.epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    peak = max(range(len(lrs)), key=lrs.__getitem__)
    # warm up to the peak rate (a straight warm-up's top falls between two steps: within 1 %), then a long way down
    assert abs(lrs[peak] - cfg.lr) < cfg.lr / 100 and 0 < peak < len(lrs) // 4
    assert lrs[-1] < cfg.lr / 500  # the last steps of the only epoch run at a tiny rate
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :], strict=False))


def test_default_network_is_narrow_where_the_maps_are_large():
    model = T.fast_cnn()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    widths = [c.out_channels for c in convs]
    assert widths == [16, 32, 64] and widths == sorted(widths)
    # 3x3 convolutions with bias, batch norm (2 per map), then Dense 64*3*3 -> 10
    expected = sum((9 * cin + 1) * cout + 2 * cout for cin, cout in ((1, 16), (16, 32), (32, 64))) + 576 * 10 + 10
    assert sum(p.numel() for p in model.parameters()) == expected == 29_290
    # the Training page trains the preset: the same layers as fast_cnn()
    assert models.PRESETS[models.FAST_PRESET] == models.fast_config()
    assert models.plan(models.PRESETS[models.FAST_PRESET]).total_params == expected
