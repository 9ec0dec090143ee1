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


@pytest.mark.parametrize("steps", [1, 4, 7])
def test_a_run_of_a_few_steps_trains_at_a_constant_rate(shapes, steps):
    # 224 training images in batches of 56 are 4 steps an epoch; 4 steps made torch's OneCycleLR divide by zero.
    cfg = replace(CPU, epochs=1, batch_size=224 // steps, evals_per_epoch=1, log_every_steps=1)
    events = run(tiny_model(), shapes, cfg)
    assert events[-1].reason == "completed" and events[0].total_steps == steps
    assert {e.lr for e in events if isinstance(e, T.StepEvent)} == {CPU.lr}


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


# ---------------------------------------------------------------------------------------------
# Checkpoints and resuming
# ---------------------------------------------------------------------------------------------


def saved_and_loaded(state: T.ResumeState) -> T.ResumeState:
    """Through torch.save and torch.load(weights_only=True), as the workspace store keeps it."""
    buf = io.BytesIO()
    torch.save(state.to_dict(), buf)
    buf.seek(0)
    return T.ResumeState.from_dict(torch.load(buf, weights_only=True))


AUGMENTED = replace(CPU, epochs=3, augment_shift=2, augment_flip=True, precision="fp32")


def test_checkpoints_after_every_epoch_but_the_last(shapes):
    events = list(T.train(tiny_model(), shapes, AUGMENTED))
    ckpts = [e for e in events if isinstance(e, T.CheckpointEvent)]
    assert [c.step for c in ckpts] == [14, 28]  # 14 steps per epoch; the end of the run needs none
    assert all(c.state.step == c.step and c.state.total_steps == 42 for c in ckpts)
    assert [c.state.epoch for c in ckpts] == [1, 2]
    # Each follows its epoch's EpochEnd, so whoever keeps it has the epoch's figures too.
    ends = [i for i, e in enumerate(events) if isinstance(e, T.EpochEnd)]
    assert [events.index(c) for c in ckpts] == [ends[0] + 1, ends[1] + 1]
    never = list(T.train(tiny_model(), shapes, AUGMENTED, checkpoint_every_s=0))
    assert not any(isinstance(e, T.CheckpointEvent) for e in never)


@pytest.mark.parametrize("at", ["epoch", "mid-epoch"])
def test_a_resumed_run_ends_where_the_uninterrupted_one_does(shapes, at):
    cfg = replace(AUGMENTED, optimizer="adamw", schedule="onecycle")
    whole_model = tiny_model()
    tiny_every = 1e-9 if at == "mid-epoch" else 30.0  # a checkpoint after every step, or per epoch
    whole = list(T.train(whole_model, shapes, cfg, checkpoint_every_s=tiny_every))
    ckpts = [e for e in whole if isinstance(e, T.CheckpointEvent)]
    pick = next(c for c in ckpts if (c.step == 14 if at == "epoch" else c.step == 19))
    state = saved_and_loaded(pick.state)  # as the store would keep it

    again = tiny_model(seed=123)  # other starting weights: the checkpoint's weights replace them
    rest = list(T.train(again, shapes, cfg, resume=state, checkpoint_every_s=0))
    start = rest[0]
    assert isinstance(start, T.RunStarted) and start.first_step == pick.step and start.total_steps == 42
    steps = [e.step for e in rest if isinstance(e, T.StepEvent)]
    assert steps[0] > pick.step and steps[-1] == 42
    # The same steps, losses, learning rates and final weights as the run that was never interrupted.
    after = [e for e in whole if isinstance(e, T.StepEvent) and e.step > pick.step]
    resumed = [e for e in rest if isinstance(e, T.StepEvent)]
    assert [e.step for e in resumed] == [e.step for e in after]
    assert [e.lr for e in resumed] == pytest.approx([e.lr for e in after], rel=1e-9)
    assert [e.loss for e in resumed] == pytest.approx([e.loss for e in after], rel=1e-4, abs=1e-6)
    ends = [e for e in rest if isinstance(e, T.EpochEnd)]
    whole_ends = [e for e in whole if isinstance(e, T.EpochEnd) and e.step > pick.step]
    assert [e.epoch for e in ends] == [e.epoch for e in whole_ends] == [2, 3]
    # A mid-epoch resume carries the epoch's running figures over: its EpochEnd is the whole epoch's.
    assert [e.train_loss for e in ends] == pytest.approx([e.train_loss for e in whole_ends], rel=1e-4)
    assert [e.val_acc for e in ends] == pytest.approx([e.val_acc for e in whole_ends])
    for k, v in whole_model.state_dict().items():
        assert torch.allclose(again.state_dict()[k].float(), v.float(), atol=1e-5), k
    fin, whole_fin = rest[-1], whole[-1]
    assert fin.reason == "completed" and fin.step == 42
    assert fin.test_acc == pytest.approx(whole_fin.test_acc) and fin.test_loss == pytest.approx(whole_fin.test_loss)
    assert fin.train_s >= state.elapsed_s - state.eval_s  # time before the interruption counts


def test_time_checkpoints_are_spaced(shapes):
    events = list(T.train(tiny_model(), shapes, AUGMENTED, checkpoint_every_s=1e-9))
    steps = [e.step for e in events if isinstance(e, T.CheckpointEvent)]
    assert steps == list(range(1, 42))  # due after every step, never at the last one
    events = list(T.train(tiny_model(), shapes, AUGMENTED, checkpoint_every_s=3600))
    assert [e.step for e in events if isinstance(e, T.CheckpointEvent)] == [14, 28]


def test_a_checkpoint_of_another_run_is_refused_with_a_sentence(shapes):
    ckpt = next(e for e in T.train(tiny_model(), shapes, AUGMENTED) if isinstance(e, T.CheckpointEvent))
    with pytest.raises(ValueError, match="run of 42 steps .* these settings make 70"):
        next(iter(T.train(tiny_model(), shapes, replace(AUGMENTED, epochs=5), resume=ckpt.state)))
    with pytest.raises(ValueError, match="another optimizer"):
        next(iter(T.train(tiny_model(), shapes, replace(AUGMENTED, optimizer="sgd"), resume=ckpt.state)))
    with pytest.raises(ValueError, match="another learning-rate schedule"):
        next(iter(T.train(tiny_model(), shapes, replace(AUGMENTED, schedule="none"), resume=ckpt.state)))
    wider = T.fast_cnn(1, 7, image_size=16, widths=(4, 8, 16))
    with pytest.raises(ValueError, match="weights of another network"):
        next(iter(T.train(wider, shapes, AUGMENTED, resume=ckpt.state)))


def test_a_damaged_checkpoint_dict_is_a_sentence(shapes):
    ckpt = next(e for e in T.train(tiny_model(), shapes, AUGMENTED) if isinstance(e, T.CheckpointEvent))
    good = ckpt.state.to_dict()
    with pytest.raises(ValueError, match="not a ConvLab checkpoint"):
        T.ResumeState.from_dict({"model": {}})
    with pytest.raises(ValueError, match="not a ConvLab checkpoint"):
        T.ResumeState.from_dict([1, 2])
    with pytest.raises(ValueError, match="'optimizer' part is missing"):
        T.ResumeState.from_dict({k: v for k, v in good.items() if k != "optimizer"})
    with pytest.raises(ValueError, match="wrong kind"):
        T.ResumeState.from_dict({**good, "step": "many"})
    with pytest.raises(ValueError, match="step 99 of 42"):
        T.ResumeState.from_dict({**good, "step": 99})
    with pytest.raises(ValueError, match="generator states"):
        T.ResumeState.from_dict({**good, "data_rng": torch.zeros(3)})
    with pytest.raises(ValueError, match="blew up"):
        T.ResumeState.from_dict({**good, "meters": {**good["meters"], "win_loss": float("nan")}})


def test_a_run_whose_loss_blows_up_keeps_no_checkpoint_of_it(shapes):
    cfg = replace(CPU, optimizer="sgd", lr=1e6, schedule="none", epochs=5, log_every_steps=50)
    events = list(T.train(tiny_model(), shapes, cfg, checkpoint_every_s=1e-9))
    assert events[-1].reason == "diverged"
    for c in (e for e in events if isinstance(e, T.CheckpointEvent)):
        assert all(torch.isfinite(v).all() for v in c.state.model_state.values() if v.is_floating_point())


def test_a_state_whose_running_statistics_overflowed_is_not_finite_though_its_weights_are():
    """A CI run once kept a checkpoint of a blown-up run: the weights were finite, a batch norm's running
    variance was not. The loop checks everything the model would save."""
    from cnn_core.training.loop import _finite_state

    model = tiny_model()
    assert _finite_state(model)
    norm = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    norm.running_var[0] = float("inf")
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the weights alone look fine
    assert not _finite_state(model)
