"""Tests for cnn_core.training: the event generator, stopping, blow-ups, seeds, save and load."""

from __future__ import annotations

import io
import math
import threading
from dataclasses import replace

import pytest
import torch
from torch import nn

from cnn_core import data as D
from cnn_core import training as T
from cnn_core.training.recipe import augment


@pytest.fixture(scope="module")
def shapes() -> D.ImageSet:
    return D.synthetic_shapes(40, size=16, seed=0)  # 7 classes x 32 train, 8 test


def tiny_model(seed: int = 0, num_classes: int = 7) -> nn.Module:
    torch.manual_seed(seed)
    return T.fast_cnn(1, num_classes, image_size=16, widths=(4, 8, 8))


CPU = T.TrainConfig(batch_size=16, epochs=2, lr=3e-3, device="cpu", threads=1, evals_per_epoch=2, log_every_steps=2)


def run(model, data, cfg=CPU, stop=None) -> list:
    return list(T.train(model, data, cfg, stop))


def test_event_sequence_and_learning(shapes):
    cfg = replace(CPU, epochs=6, lr=1e-2)
    events = run(tiny_model(), shapes, cfg)
    assert isinstance(events[0], T.RunStarted) and isinstance(events[-1], T.RunFinished)
    assert sum(isinstance(e, T.RunFinished) for e in events) == 1
    assert all(isinstance(e, T.Event) for e in events)  # the union names every kind the generator yields
    start, fin = events[0], events[-1]
    assert start.steps_per_epoch == 224 // 16 and start.total_steps == 6 * 14
    steps = [e.step for e in events if isinstance(e, T.StepEvent)]
    assert steps == sorted(steps) and steps[-1] == start.total_steps
    evals = [e for e in events if isinstance(e, T.EvalEvent)]
    ends = [e for e in events if isinstance(e, T.EpochEnd)]
    assert len(evals) == 6 * 2 and [e.epoch for e in ends] == list(range(1, 7))
    assert fin.reason == "completed" and fin.step == start.total_steps
    # It learns: the training loss falls and the test accuracy beats chance (1/7) clearly.
    losses = [e.loss for e in events if isinstance(e, T.StepEvent)]
    assert losses[-1] < 0.7 * losses[0]
    assert fin.test_acc is not None and fin.test_acc > 0.5
    # Timing fields are consistent.
    assert all(e.eta_s >= 0 and e.samples_per_s > 0 for e in events if isinstance(e, T.StepEvent))
    assert fin.train_s <= fin.elapsed_s


def test_onecycle_schedule_rises_then_falls(shapes):
    lrs = [e.lr for e in run(tiny_model(), shapes, replace(CPU, epochs=4)) if isinstance(e, T.StepEvent)]
    peak = lrs.index(max(lrs))
    assert 0 < peak < len(lrs) - 1 and lrs[-1] < lrs[0] < lrs[peak] <= CPU.lr


def test_blow_up_stops_itself_and_names_the_learning_rate(shapes):
    cfg = replace(CPU, optimizer="sgd", lr=1e6, schedule="none", epochs=5)
    events = run(tiny_model(), shapes, cfg)
    fin = events[-1]
    assert fin.reason == "diverged"
    assert "learning rate 1e+06 is too high" in fin.message and "Try 100000" in fin.message
    assert fin.test_acc is None and fin.step < events[0].total_steps


def test_stop_flag_keeps_a_usable_model(shapes):
    stop = threading.Event()
    model = tiny_model()
    seen = 0
    events = []
    for ev in T.train(model, shapes, replace(CPU, epochs=10), stop):
        events.append(ev)
        if isinstance(ev, T.StepEvent):
            seen += 1
            if seen == 2:
                stop.set()
    fin = events[-1]
    assert fin.reason == "stopped" and fin.step == 4  # stopped right after the second StepEvent
    assert fin.test_acc is not None
    with torch.no_grad():
        y_hat = model(shapes.normalize(shapes.x_test))
    assert y_hat.shape == (len(shapes.y_test), 7) and torch.isfinite(y_hat).all()


def test_callable_stop_and_time_limit(shapes):
    fin = run(tiny_model(), shapes, CPU, stop=lambda: True)[-1]
    assert fin.reason == "stopped" and fin.step == 0
    fin = run(tiny_model(), shapes, replace(CPU, max_seconds=0.0))[-1]
    assert fin.reason == "time_limit" and "time limit" in fin.message


def test_same_seed_same_losses(shapes):
    def first_losses(seed: int) -> list[float]:
        cfg = replace(CPU, seed=seed, augment_shift=2, augment_flip=True)
        return [e.loss for e in run(tiny_model(seed), shapes, cfg) if isinstance(e, T.StepEvent)][:4]

    a, b, c = first_losses(1), first_losses(1), first_losses(2)
    assert a == b
    assert a != c


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("schedule", ["none", "cosine", "step"])
def test_optimizers_and_schedules_run(shapes, opt, schedule):
    cfg = replace(CPU, optimizer=opt, schedule=schedule, epochs=1, precision="fp32", channels_last=False)
    fin = run(tiny_model(), shapes, cfg)[-1]
    assert fin.reason == "completed" and math.isfinite(fin.test_loss)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"lr": 0.0}, "learning rate"), ({"lr": float("nan")}, "learning rate"), ({"batch_size": 0}, "batch size"),
     ({"optimizer": "rmsprop"}, "optimizer"), ({"epochs": 0}, "epoch")],
)  # fmt: skip
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.TrainConfig(**kwargs)


def test_augment_shift_and_flip_move_pixels():
    x = torch.zeros(64, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the centre
    gen = torch.Generator().manual_seed(0)
    out = augment(x, T.TrainConfig(augment_shift=2), gen)
    assert out.shape == x.shape and torch.allclose(out.sum((1, 2, 3)), torch.ones(64))
    pos = out[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 9, pos % 9
    assert (rows - 4).abs().max() <= 2 and (cols - 4).abs().max() <= 2 and len(set(pos.tolist())) > 5
    x2 = torch.arange(16.0).view(1, 1, 4, 4).repeat(32, 1, 1, 1)
    flipped = augment(x2, T.TrainConfig(augment_flip=True), gen)
    same = (flipped == x2).flatten(1).all(1)
    mirrored = (flipped == x2.flip(3)).flatten(1).all(1)
    assert (same | mirrored).all() and same.any() and mirrored.any()


def test_evaluate_matches_manual_count(shapes):
    model = tiny_model().eval()
    res = T.evaluate(model, shapes, device="cpu")
    with torch.no_grad():
        y_hat = model(shapes.normalize(shapes.x_test)).argmax(1)
    assert res.n == len(shapes.y_test) and res.acc == pytest.approx(float((y_hat == shapes.y_test).float().mean()))


def test_resolve_device():
    assert T.resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert T.resolve_device("auto").type == "cpu"
        with pytest.raises(ValueError, match="no GPU"):
            T.resolve_device("cuda")


# ---------------------------------------------------------------------------------------------
# Save and load
# ---------------------------------------------------------------------------------------------


def build(cfg: dict) -> nn.Module:
    return T.fast_cnn(1, cfg["num_classes"], image_size=cfg["image_size"], widths=tuple(cfg["widths"]))


CFG = {"num_classes": 7, "image_size": 16, "widths": [4, 8, 8]}


def test_save_and_load_roundtrip(shapes, tmp_path):
    model = tiny_model()
    run(model, shapes, replace(CPU, epochs=1))
    model.eval()
    path = tmp_path / "m.pt"
    raw = T.save_model(model, CFG, path, meta={"classes": list(shapes.classes), "mean": list(shapes.mean)})
    assert path.read_bytes() == raw
    loaded, cfg, meta = T.load_model(raw, build)
    assert cfg == CFG and meta["classes"][3] == "circle"
    x = shapes.normalize(shapes.x_test)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x), atol=1e-6)
    again, _, _ = T.load_model(path, build)  # from a path too
    assert not again.training


def test_load_refuses_code(tmp_path):
    class Sneaky:
        def __reduce__(self):
            return (print, ("this would run",))

    buf = io.BytesIO()
    torch.save({"format": T.FORMAT, "config": CFG, "state_dict": {}, "x": Sneaky()}, buf)
    with pytest.raises(T.ModelFileError, match="code"):
        T.load_model(buf.getvalue(), build)


def test_load_refuses_mismatch_and_junk():
    raw = T.save_model(tiny_model(), CFG)
    with pytest.raises(T.ModelFileError, match="shape"):
        T.load_model(raw, lambda c: T.fast_cnn(1, 7, image_size=16, widths=(4, 8, 16)))
    with pytest.raises(T.ModelFileError, match="missing"):
        T.load_model(raw, lambda c: nn.Sequential(nn.Flatten(), nn.Linear(256, 7)))
    buf = io.BytesIO()
    torch.save(tiny_model().state_dict(), buf)  # a bare state dict: no config
    with pytest.raises(T.ModelFileError, match="not a ConvLab model"):
        T.load_model(buf.getvalue(), build)
    with pytest.raises(T.ModelFileError, match="not a readable"):
        T.load_model(b"GIF89a not a model", build)
    with pytest.raises(T.ModelFileError, match="truncated"):
        T.load_model(raw[: len(raw) // 2], build)
    with pytest.raises(T.ModelFileError, match="empty"):
        T.load_model(b"", build)
    with pytest.raises(T.ModelFileError, match="cannot be built"):
        T.load_model(raw, lambda c: T.fast_cnn(1, 7, image_size=2))


def test_model_that_does_not_fit_the_data_is_explained(shapes):
    with pytest.raises(ValueError, match="3 x 32 x 32|1 x 16 x 16"):
        next(iter(T.train(T.fast_cnn(3, 7, image_size=16, widths=(4, 8, 8)), shapes, CPU)))
    with pytest.raises(ValueError, match="7 classes"):
        next(iter(T.train(T.fast_cnn(1, 10, image_size=16, widths=(4, 8, 8)), shapes, CPU)))
