"""Training in a child process (app.jobs): the same run as in-process, stopping, failures and clean-up,
checkpoints and resuming."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from app import jobs as P
from cnn_core import data as D
from cnn_core import inspection, models
from cnn_core import training as T


@pytest.fixture(scope="module")
def shapes() -> D.ImageSet:
    return D.synthetic_shapes(40, size=16, seed=0)  # 7 classes x 32 train, 8 test


CFG = models.fast_config(1, 7, image_size=16, widths=(4, 8, 8))
RUN = T.TrainConfig(batch_size=16, epochs=2, lr=3e-3, device="cpu", threads=1, evals_per_epoch=2, log_every_steps=2)


def fresh_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return models.build(CFG)


def children() -> list:
    return [p for p in multiprocessing.active_children() if p.name == "convlab-training"]


def test_child_run_matches_an_in_process_run(shapes):
    model = fresh_model()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    messages = list(P.train_in_child(model, CFG, shapes, RUN))
    # The caller's model is untouched: the child trained a copy.
    assert all(torch.equal(v, start[k]) for k, v in model.state_dict().items())

    events = [m for m in messages if not isinstance(m, P.Weights | P.SnapshotTaken | P.Checkpoint)]
    assert isinstance(events[0], T.RunStarted) and isinstance(events[-1], T.RunFinished)
    assert events[-1].reason == "completed"
    snaps = [m.snapshot for m in messages if isinstance(m, P.SnapshotTaken)]
    assert [s.epoch for s in snaps] == [0, 1, 2]  # before training and after each epoch (the end is epoch 2)
    assert all(isinstance(s, inspection.Snapshot) for s in snaps)

    # Weights arrive before the event they belong to, so a caller's copy is current when it sees it.
    i_fin = messages.index(events[-1])
    last_weights = [m for m in messages[:i_fin] if isinstance(m, P.Weights)][-1]
    assert last_weights.step == events[-1].step

    # The same seed in this process gives the same losses and the same final weights.
    local = fresh_model()
    local_events = list(T.train(local, shapes, RUN))
    assert [e.loss for e in events if isinstance(e, T.StepEvent)] == pytest.approx(
        [e.loss for e in local_events if isinstance(e, T.StepEvent)], rel=1e-4
    )
    P.apply_weights(model, last_weights)
    for k, v in local.state_dict().items():
        assert torch.allclose(model.state_dict()[k].float(), v.float(), atol=1e-4), k
    assert not children()  # the child was reaped


def test_stop_flag_ends_the_child_run(shapes):
    stop = threading.Event()
    seen = []
    for m in P.train_in_child(fresh_model(), CFG, shapes, replace(RUN, epochs=50), stop, poll_s=0.05):
        seen.append(m)
        if isinstance(m, T.StepEvent):
            stop.set()
    assert seen[-1].reason == "stopped" and seen[-1].step < 50 * 14
    assert not children()


def test_child_runs_at_lower_priority(shapes):
    niceness = []
    for m in P.train_in_child(fresh_model(), CFG, shapes, RUN, nice=5):
        if isinstance(m, T.RunStarted):
            niceness += [os.getpriority(os.PRIO_PROCESS, p.pid) for p in children()]
    assert niceness and all(n >= os.getpriority(os.PRIO_PROCESS, 0) + 5 for n in niceness)


def test_a_failure_in_the_child_is_a_sentence_here(shapes):
    wrong = replace(CFG, input_shape=(3, 16, 16))  # colour network, grey images
    torch.manual_seed(0)
    with pytest.raises(P.TrainingProcessError, match="channel"):
        list(P.train_in_child(models.build(wrong), wrong, shapes, RUN))
    assert not children()


def test_a_child_that_dies_is_reported_not_waited_for(shapes):
    gen = P.train_in_child(fresh_model(), CFG, shapes, replace(RUN, epochs=200), poll_s=0.05)
    assert isinstance(next(gen), P.SnapshotTaken | T.RunStarted)
    (child,) = children()
    os.kill(child.pid, signal.SIGKILL)
    t0 = time.time()
    with pytest.raises(P.TrainingProcessError, match="ended unexpectedly"):
        for _ in gen:
            pass
    assert time.time() - t0 < 10 and not children()


def test_leaving_early_stops_and_reaps_the_child(shapes):
    gen = P.train_in_child(fresh_model(), CFG, shapes, replace(RUN, epochs=200), poll_s=0.05)
    for m in gen:
        if isinstance(m, T.StepEvent):
            break
    gen.close()
    assert not children()
    assert np.isfinite(m.loss)


def test_checkpoints_come_back_and_a_resumed_child_run_ends_like_the_whole_one(shapes):
    cfg = replace(RUN, epochs=3)
    whole = list(P.train_in_child(fresh_model(), CFG, shapes, cfg))
    ckpts = [m for m in whole if isinstance(m, P.Checkpoint)]
    assert [c.step for c in ckpts] == [14, 28]  # after every epoch but the last
    assert not any(isinstance(m, T.CheckpointEvent) for m in whole)  # the big state never joins the events
    # What the workspace store does with it: torch.save, then torch.load(weights_only=True).
    buf = io.BytesIO()
    torch.save(ckpts[0].state, buf)
    kept = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    assert len(buf.getvalue()) < 200_000  # this tiny network's state, optimizer and generators

    again = fresh_model(seed=5)  # other weights: the checkpoint's replace them
    rest = list(P.train_in_child(again, CFG, shapes, cfg, resume_state=kept))
    start = next(m for m in rest if isinstance(m, T.RunStarted))
    assert start.first_step == 14 and start.total_steps == 42
    snaps = [m.snapshot for m in rest if isinstance(m, P.SnapshotTaken)]
    assert [(s.epoch, s.step) for s in snaps] == [(1, 14), (2, 28), (3, 42)]  # starts from the checkpoint
    assert [c.step for c in rest if isinstance(c, P.Checkpoint)] == [28]
    losses = [m.loss for m in rest if isinstance(m, T.StepEvent)]
    whole_losses = [m.loss for m in whole if isinstance(m, T.StepEvent) and m.step > 14]
    assert losses == pytest.approx(whole_losses, rel=1e-4)
    fin, whole_fin = rest[-1], whole[-1]
    assert fin.reason == "completed" and fin.test_acc == pytest.approx(whole_fin.test_acc)
    last = [m for m in rest if isinstance(m, P.Weights)][-1]
    whole_last = [m for m in whole if isinstance(m, P.Weights)][-1]
    assert all(np.allclose(last.state[k], v, atol=1e-5) for k, v in whole_last.state.items())
    assert not children()


def test_checkpoints_can_be_switched_off(shapes):
    messages = list(P.train_in_child(fresh_model(), CFG, shapes, RUN, checkpoint_every_s=0))
    assert messages[-1].reason == "completed"
    assert not any(isinstance(m, P.Checkpoint) for m in messages)


def test_a_damaged_or_foreign_checkpoint_is_a_sentence_and_starts_no_child(shapes):
    with pytest.raises(P.TrainingProcessError, match="not a ConvLab checkpoint"):
        list(P.train_in_child(fresh_model(), CFG, shapes, RUN, resume_state={"weights": torch.zeros(3)}))
    assert not children()
    ckpt = next(m for m in P.train_in_child(fresh_model(), CFG, shapes, replace(RUN, epochs=3))
                if isinstance(m, P.Checkpoint))  # fmt: skip
    # Settings that plan another run (5 epochs, not 3): the child says so, in a sentence.
    with pytest.raises(P.TrainingProcessError, match="resume with the run's own settings"):
        list(P.train_in_child(fresh_model(), CFG, shapes, replace(RUN, epochs=5), resume_state=ckpt.state))
    assert not children()


def test_a_dead_fork_server_is_started_again(shapes):
    from multiprocessing import forkserver

    P.warm_up()
    pid = forkserver._forkserver._forkserver_pid
    if pid is None:
        pytest.skip("this platform starts training processes without a fork server")
    os.kill(pid, signal.SIGKILL)
    messages = list(P.train_in_child(fresh_model(), CFG, shapes, RUN))
    assert messages[-1].reason == "completed"
    assert forkserver._forkserver._forkserver_pid not in (None, pid)
    assert not children()
