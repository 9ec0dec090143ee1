"""The ready-made experiments as data (cnn_core.training.experiments): honest arms, results, verdicts."""

from __future__ import annotations

import dataclasses
import threading

import pytest
import torch

from cnn_core import models as M
from cnn_core import training as T
from cnn_core.training import experiments as X
from cnn_core.training.recipe import augment


def _layers(arm: X.Arm, kind: type) -> int:
    return sum(isinstance(layer, kind) for layer in arm.model.layers)


def test_every_experiment_compares_like_with_like():
    for exp in X.EXPERIMENTS.values():
        assert 2 <= len(exp.arms) <= 5
        assert len({a.name for a in exp.arms}) == len(exp.arms)
        assert len({a.train.seed for a in exp.arms}) == 1  # one seed for every arm
        for arm in exp.arms:
            assert M.validate(arm.model) is None, arm.name
            assert arm.model.input_shape == (1, 28, 28)
            assert arm.train.eval_samples is None  # validated on all the held-out images


def test_overfitting_arms_each_change_one_thing():
    exp = X.EXPERIMENTS["overfitting"]
    base = exp.arms[0]
    assert base.train.weight_decay == 0 and not (base.train.augment_flip or base.train.augment_shift)
    assert _layers(base, M.DropoutSpec) == 0 and _layers(base, M.BatchNormSpec) == 0
    assert _layers(exp.arm("dropout 0.5"), M.DropoutSpec) == 2
    assert all(d.p == 0.5 for d in exp.arm("dropout 0.5").model.layers if isinstance(d, M.DropoutSpec))
    assert exp.arm("dropout 0.5").train == base.train
    aug = exp.arm("augmentation")
    assert aug.model == base.model and aug.train.augment_shift == 3 and aug.train.augment_rotate == 10
    assert dataclasses.replace(aug.train, augment_flip=False, augment_shift=0, augment_rotate=0.0) == base.train
    assert _layers(exp.arm("batch norm"), M.BatchNormSpec) == 2 and exp.arm("batch norm").train == base.train
    wd = exp.arm("weight decay 0.5")
    assert wd.model == base.model and dataclasses.replace(wd.train, weight_decay=0.0) == base.train
    with pytest.raises(KeyError, match="no arm"):
        exp.arm("nothing")


def test_learning_rate_arms_differ_only_in_lr():
    exp = X.EXPERIMENTS["learning_rates"]
    assert [a.train.lr for a in exp.arms] == [0.001, 0.01, 0.1, 1.0]
    assert {dataclasses.replace(a.train, lr=1.0) for a in exp.arms} == {exp.arms[-1].train}
    assert len({a.model for a in exp.arms}) == 1


def test_same_split_for_every_arm_and_an_honest_sentence():
    exp = X.EXPERIMENTS["overfitting"]
    a, b = exp.data(), exp.data()
    assert a.x_train.shape == (500, 1, 28, 28) and a.x_test.shape[0] == 1000
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    said = exp.measured()
    for part in ("5 runs", "500 training images", "Fashion-MNIST", "1,000 held-out", "30 epochs", "seed 0",
                 "One seed", "~1 point"):  # fmt: skip
        assert part in said, part


def _finished(reason="completed", acc=0.8):
    return T.RunFinished(reason, "", 10, 1.0, None if reason == "diverged" else 0.5, None if reason == "diverged"
                         else acc, 2.0, 1.5)  # fmt: skip


def test_arm_result_and_gap_from_events():
    ev = T.EvalEvent(10, 1, 1.0, 0.4, 0.9, 0.6, 0.79, 2.0, 1.5, 0.1)
    r = X.arm_result("a", [T.RunStarted(10, 10, 1, 5, 50, 10, "cpu", "fp32", 1), ev, _finished()], 0.95)
    assert (r.train_acc, r.val_acc, r.test_acc, r.seconds) == (0.95, 0.79, 0.8, 1.5)
    assert r.gap == pytest.approx(0.15)
    blown = X.arm_result("b", [_finished("diverged")], 0.1)
    assert blown.train_acc is None and blown.gap is None and blown.reason == "diverged"
    assert X.arm_result("c", [], None).reason == "not run"
    assert X.arm_result("d", [T.RunStarted(10, 10, 1, 5, 50, 10, "cpu", "fp32", 1)], None).reason == "failed"


def _result(name, train, test, reason="completed"):
    return X.ArmResult(name, reason, train, test, test, 0.5, 0.4, 1.0)


def test_verdict_computes_what_the_numbers_show():
    exp = X.EXPERIMENTS["overfitting"]
    said = X.verdict(exp, [_result("no remedy", 0.97, 0.775), _result("dropout 0.5", 0.92, 0.78)])
    assert "Best held-out accuracy: dropout 0.5, 78.0%, 0.5 points above no remedy" in said
    assert "may be noise" in said  # half a point with one seed
    assert "largest for no remedy (19.5 points) and smallest for dropout 0.5 (14.0 points)" in said
    lr = X.EXPERIMENTS["learning_rates"]
    said = X.verdict(lr, [_result("lr 0.001", 0.5, 0.42), _result("lr 0.1", 0.97, 0.916),
                          X.ArmResult("lr 1", "diverged", None, None, None, None, None, 1.0)])  # fmt: skip
    assert "lr 0.1, 91.6%, 49.6 points above lr 0.001" in said and "noise" not in said
    assert "gap" not in said and "lr 1 blew up" in said
    said = X.verdict(lr, [_result("lr 0.001", 0.47, 0.421), _result("lr 1", 0.104, 0.104)])  # stuck on one class
    assert said.endswith("lr 1 (10.4%) learned nothing: with ten classes, guessing gets 10%.")
    assert X.verdict(exp, []) == "No arm has finished yet."


def test_run_experiment_trains_each_arm_and_measures_training_accuracy():
    base = T.TrainConfig(epochs=1, batch_size=50, evals_per_epoch=1, eval_samples=None, device="cpu", schedule="none")
    exp = X.Experiment("t", "Tiny", "?", "mnist", 200, 100, (
        X.Arm("a", "base", X.small_cnn(widths=(4, 8), dense=16), base),
        X.Arm("b", "lr", X.small_cnn(widths=(4, 8), dense=16), dataclasses.replace(base, lr=1e-2)),
    ), "")  # fmt: skip
    seen: list[str] = []
    results = X.run_experiment(exp, on_event=lambda arm, e: seen.append(arm))
    assert [r.arm for r in results] == ["a", "b"] and set(seen) == {"a", "b"}
    for r in results:
        assert r.reason == "completed" and 0 <= r.train_acc <= 1 and 0 <= r.test_acc <= 1
    # the same seed gives the same initial weights: arm a again gives exactly its numbers
    again = X.run_experiment(exp, arms=["a"])
    assert again[0] == dataclasses.replace(results[0], seconds=again[0].seconds)
    stop = threading.Event()
    stop.set()
    assert [r.reason for r in X.run_experiment(exp, stop)] == ["not run", "not run"]


def test_augmentation_preview_uses_the_training_augmentation():
    images = (torch.rand(6, 1, 28, 28) * 255).to(torch.uint8)
    plain, same = X.augmentation_preview(images, T.TrainConfig())
    assert torch.equal(plain, images) and torch.equal(same, images)  # no augmentation asked: unchanged
    cfg = T.TrainConfig(augment_shift=3, augment_rotate=10.0)
    _, out = X.augmentation_preview(images, cfg, seed=4)
    expected = augment(images.float() / 255.0, cfg, torch.Generator().manual_seed(4))
    assert torch.equal(out, (expected.clamp(0, 1) * 255).round().to(torch.uint8))
    assert not torch.equal(out, images)
    assert torch.equal(X.augmentation_preview(images, cfg, seed=4)[1], out)
    assert not torch.equal(X.augmentation_preview(images, cfg, seed=5)[1], out)
    with pytest.raises(ValueError, match="batch of images"):
        X.augmentation_preview(images[0], cfg)


def test_plain_and_residual_differ_only_in_their_shortcuts():
    exp = X.EXPERIMENTS["plain_vs_residual"]
    plain, res = exp.arm("Plain-20"), exp.arm("ResNet-20")
    assert plain.train == res.train
    blocks = [[layer for layer in a.model.layers if isinstance(layer, M.ResidualSpec)] for a in (plain, res)]
    assert len(blocks[0]) == len(blocks[1]) == 9  # 1 stem + 9 blocks x 2 + 1 Dense = 20 weighted layers
    assert {b.shortcut for b in blocks[0]} == {"plain"} and {b.shortcut for b in blocks[1]} == {"auto"}
    assert [(b.filters, b.stride) for b in blocks[0]] == [(b.filters, b.stride) for b in blocks[1]]
    p_plain, p_res = (M.plan(a.model).total_params for a in (plain, res))
    assert p_plain < p_res < p_plain * 1.02  # only the two 1x1 projections add weights
