"""The training loop: :func:`train`, a generator of events, and :func:`evaluate`.

:func:`train` never plots, never sleeps and never touches a UI: it yields the events of
:mod:`cnn_core.training.events`, the last one a :class:`RunFinished` whose ``reason`` says why
it ended: ``"completed"``, ``"stopped"`` (the caller set its stop flag), ``"diverged"`` (the loss
became NaN or infinite; the message names the learning rate) or ``"time_limit"``. The model is
trained in place, so whatever happens it is kept and usable. Along the way it yields a
:class:`CheckpointEvent` after every epoch but the last and at most every ``checkpoint_every_s``
seconds; ``train(..., resume=event.state)`` carries such a run on from there.

Speed comes from keeping the whole dataset in memory as uint8 tensors: a batch is an index
slice, normalised and augmented on the fly as a tensor (no per-sample PIL work), optionally in
channels-last layout and bfloat16 autocast on CPUs that have it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from cnn_core.data import ImageSet
from cnn_core.training.config import Device, StopFlag, TrainConfig
from cnn_core.training.events import (
    CheckpointEvent,
    EpochEnd,
    EvalEvent,
    EvalResult,
    Event,
    RunFinished,
    RunStarted,
    StepEvent,
)
from cnn_core.training.recipe import (
    Normalizer,
    augment,
    make_optimizer,
    make_schedule,
    resolve_device,
    seed_everything,
    use_bf16,
)
from cnn_core.training.resume import ResumeState, checkpoint, restore
from cnn_core.training.transfer import frozen_modules

__all__ = ["evaluate", "train"]


def _finite_state(model: nn.Module) -> bool:
    """Whether every floating-point number the model would save is finite: its weights and its buffers (a batch
    norm's running mean and variance can overflow while the weights are still finite)."""
    return all(bool(torch.isfinite(t).all()) for t in model.state_dict().values() if t.is_floating_point())


def _is_stopped(stop: StopFlag) -> bool:
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


@torch.no_grad()
def _check_model_fits(model: nn.Module, data: ImageSet, xb: torch.Tensor) -> None:
    """Raise a readable ValueError when the model cannot take these images or has the wrong outputs."""
    model.eval()
    c, h, w = data.input_shape
    try:
        out = model(xb)
    except RuntimeError as exc:
        raise ValueError(
            f"The model cannot take this dataset's images ({c} x {h} x {w}): {str(exc).splitlines()[0]}"
        ) from None
    if out.ndim != 2 or out.shape[1] != data.num_classes:
        raise ValueError(
            f"The model outputs {tuple(out.shape[1:])} values per image but the dataset has "
            f"{data.num_classes} classes; its last layer must have {data.num_classes} outputs."
        )


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    norm: Normalizer,
    dev: torch.device,
    bf16: bool,
    batch_size: int = 1000,
) -> EvalResult:
    was_training = {m: m.training for m in model.modules()}  # frozen batch norm stays in eval mode
    model.eval()
    total_loss, correct, n = 0.0, 0, int(x.shape[0])
    try:
        for i in range(0, n, batch_size):
            xb = norm(x[i : i + batch_size].to(dev, non_blocking=True))
            yb = y[i : i + batch_size].to(dev, non_blocking=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(xb)
            logits = logits.float()
            total_loss += float(F.cross_entropy(logits, yb, reduction="sum"))
            correct += int((logits.argmax(1) == yb).sum())
    finally:
        for m, mode in was_training.items():
            m.training = mode
    return EvalResult(loss=total_loss / max(n, 1), acc=correct / max(n, 1), n=n)


def evaluate(
    model: nn.Module,
    data: ImageSet,
    split: Literal["train", "test"] = "test",
    max_samples: int | None = None,
    batch_size: int = 1000,
    device: Device = "auto",
) -> EvalResult:
    """Mean cross-entropy loss and accuracy of ``model`` on a split of ``data``.

    Parameters
    ----------
    model : nn.Module
        Maps normalised ``(B, C, H, W)`` images to ``(B, num_classes)`` logits; moved to ``device``.
    data : ImageSet
    split : {"train", "test"}
    max_samples : int, optional
        Use only the first N images of the split.
    batch_size : int
    device : {"auto", "cpu", "cuda"}

    Returns
    -------
    EvalResult
        ``loss``, ``acc`` (0..1) and ``n`` images used.
    """
    dev = resolve_device(device)
    model.to(dev)
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    return _evaluate(model, x[:max_samples], y[:max_samples], Normalizer(data, dev, False), dev, False, batch_size)


# --------------------------------------------------------------------------------------------
# The training loop
# --------------------------------------------------------------------------------------------


def train(
    model: nn.Module,
    data: ImageSet,
    config: TrainConfig | None = None,
    stop: StopFlag = None,
    *,
    resume: ResumeState | None = None,
    checkpoint_every_s: float | None = 30.0,
) -> Iterator[Event]:
    """Train ``model`` in place on ``data``, yielding events as it goes.

    Parameters
    ----------
    model : nn.Module
        Takes normalised ``(B, C, H, W)`` float images (``data.normalize``) and returns logits.
    data : ImageSet
        Training images are sampled from ``x_train``; validation uses the start of ``x_test``
        (``config.eval_samples``) and the final test accuracy all of it.
    config : TrainConfig, optional
    stop : threading.Event or callable, optional
        Checked before every step; when set (or returning True) the run ends with
        ``reason="stopped"`` after a final test evaluation.
    resume : ResumeState, optional
        A :class:`CheckpointEvent`'s state from an earlier run with the same model, data and
        config: training goes on at the step after it, with the same schedule and data order.
        A state that does not fit this run raises ValueError with a sentence.
    checkpoint_every_s : float, optional
        Yield a :class:`CheckpointEvent` after every epoch but the last and at most every this
        many seconds between them; 0 or None: never.

    Yields
    ------
    RunStarted, StepEvent, EvalEvent, EpochEnd, CheckpointEvent, RunFinished
        Exactly one ``RunStarted`` first and one ``RunFinished`` last.
    """
    cfg = config or TrainConfig()
    dev = resolve_device(cfg.device)
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    bf16 = use_bf16(cfg.precision, dev)
    seed_everything(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)  # data order and augmentation

    n = int(data.x_train.shape[0])
    if n == 0:
        raise ValueError("The training split is empty.")
    bs = min(cfg.batch_size, n)
    per_epoch = n // bs  # drop the ragged last batch (keeps BatchNorm happy and steps equal)
    total = per_epoch * cfg.epochs
    log_every = cfg.log_every_steps or max(1, per_epoch // 50)
    eval_at = {round(per_epoch * (k + 1) / cfg.evals_per_epoch) for k in range(cfg.evals_per_epoch)}

    x_train, y_train = data.x_train.to(dev), data.y_train.to(dev)  # uint8 stays compact
    x_val, y_val = data.x_test[: cfg.eval_samples].to(dev), data.y_test[: cfg.eval_samples].to(dev)
    norm = Normalizer(data, dev, cfg.channels_last)
    model.to(dev)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    _check_model_fits(model, data, norm(x_train[:2]))
    model.train()
    for module in frozen_modules(model, cfg.train_only):  # fine-tuning: only these layers' weights train
        module.eval()
    opt = make_optimizer(model, cfg)
    sched = make_schedule(opt, cfg, total, per_epoch)
    meters = dict.fromkeys(("win_loss", "win_steps", "ev_loss", "ev_correct", "ev_n"), 0.0)
    meters.update(ep_loss=0.0, ep_correct=0.0, ep_n=0.0, eval_cost=0.0)
    step, elapsed0, eval_total = 0, 0.0, 0.0
    if resume is not None:
        if (resume.total_steps, resume.steps_per_epoch) != (total, per_epoch):
            raise ValueError(
                f"The checkpoint is from a run of {resume.total_steps} steps ({resume.steps_per_epoch} per epoch), "
                f"but these settings make {total} ({per_epoch} per epoch); resume with the run's own settings."
            )
        restore(resume, model, opt, sched, gen, dev)
        step, elapsed0, eval_total = resume.step, resume.elapsed_s, resume.eval_s
        meters.update(resume.meters)

    yield RunStarted(
        total, per_epoch, cfg.epochs, bs, n, int(x_val.shape[0]), str(dev), "bf16" if bf16 else "fp32",
        torch.get_num_threads(), step,
    )  # fmt: skip

    t0 = time.perf_counter() - elapsed0
    win_loss = torch.full((), meters["win_loss"], device=dev)  # summed loss since the last StepEvent
    win_steps, win_t = int(meters["win_steps"]), time.perf_counter()
    tp_steps = 0  # steps since win_t, for the throughput (a resumed window began before this process)
    ev_loss = torch.full((), meters["ev_loss"], device=dev)  # since the last evaluation
    ev_correct = torch.full((), int(meters["ev_correct"]), device=dev, dtype=torch.long)
    ev_n = int(meters["ev_n"])
    ep_loss_sum, ep_correct, ep_n = meters["ep_loss"], int(meters["ep_correct"]), int(meters["ep_n"])
    reason, message = "completed", "Training finished."
    last_eval_cost = meters["eval_cost"]
    every = checkpoint_every_s or 0.0
    last_ckpt = time.perf_counter()

    def now_train() -> float:
        return time.perf_counter() - t0 - eval_total

    def take(epoch: int, rng_epoch: torch.Tensor) -> CheckpointEvent:
        counts = {"win_loss": float(win_loss), "win_steps": win_steps, "ev_loss": float(ev_loss),
                  "ev_correct": int(ev_correct), "ev_n": ev_n, "ep_loss": ep_loss_sum, "ep_correct": ep_correct,
                  "ep_n": ep_n, "eval_cost": last_eval_cost}  # fmt: skip
        state = checkpoint(
            model, opt, sched, step=step, epoch=epoch, total_steps=total, steps_per_epoch=per_epoch,
            data_rng_epoch=rng_epoch, data_rng=gen, device=dev, elapsed_s=time.perf_counter() - t0,
            eval_s=eval_total, meters=counts,
        )  # fmt: skip
        return CheckpointEvent(step, state)

    first_epoch, first_i = step // per_epoch + 1, step % per_epoch
    for epoch in range(first_epoch, cfg.epochs + 1):
        if resume is not None and epoch == first_epoch and first_i > 0:
            gen.set_state(resume.data_rng_epoch)  # draw this epoch's order again, then go on from now
            rng_epoch = resume.data_rng_epoch
            perm = torch.randperm(n, generator=gen).to(dev)
            gen.set_state(resume.data_rng)
        else:
            rng_epoch = gen.get_state()
            perm = torch.randperm(n, generator=gen).to(dev)
        for i in range(first_i if epoch == first_epoch else 0, per_epoch):
            if _is_stopped(stop):
                reason, message = "stopped", f"Stopped at step {step} of {total}; the model so far is kept."
                break
            if cfg.max_seconds is not None and now_train() >= cfg.max_seconds:
                reason, message = "time_limit", f"Reached the time limit of {cfg.max_seconds:g} s at step {step}."
                break
            idx = perm[i * bs : (i + 1) * bs]
            xb = norm(x_train[idx])  # (B, C, H, W) float
            yb = y_train[idx]
            if cfg.augment_flip or cfg.augment_shift or cfg.augment_rotate:
                xb = augment(xb, cfg, gen)
            lr = opt.param_groups[0]["lr"]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(xb)
            logits = logits.float()
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            step += 1
            d_loss = loss.detach()
            win_loss += d_loss
            win_steps += 1
            tp_steps += 1
            ev_loss += d_loss * bs
            ev_correct += (logits.detach().argmax(1) == yb).sum()
            ev_n += bs

            if step % log_every == 0 or i + 1 == per_epoch:
                mean_loss = float(win_loss) / win_steps
                if not math.isfinite(mean_loss):
                    reason = "diverged"
                    message = (
                        f"The loss became {mean_loss} at step {step}: the learning rate {cfg.lr:g} is too high for "
                        f"this model. Try {cfg.lr / 10:g} (or a smaller batch / stronger schedule warm-up)."
                    )
                    break
                t = time.perf_counter()
                tr = now_train()
                left = total - step
                evals_left = (cfg.epochs - epoch) * cfg.evals_per_epoch + sum(1 for e in eval_at if e > i + 1)
                yield StepEvent(
                    step, epoch, step / per_epoch, mean_loss, lr, tp_steps * bs / max(t - win_t, 1e-9),
                    t - t0, tr, left * tr / step + evals_left * last_eval_cost,
                )  # fmt: skip
                win_loss.zero_()
                win_steps, tp_steps, win_t = 0, 0, time.perf_counter()

            if i + 1 in eval_at:
                te = time.perf_counter()
                res = _evaluate(model, x_val, y_val, norm, dev, bf16)
                last_eval_cost = time.perf_counter() - te
                eval_total += last_eval_cost
                tr_loss, tr_correct = float(ev_loss), int(ev_correct)
                ep_loss_sum, ep_correct, ep_n = ep_loss_sum + tr_loss, ep_correct + tr_correct, ep_n + ev_n
                yield EvalEvent(
                    step, epoch, step / per_epoch, tr_loss / ev_n, tr_correct / ev_n, res.loss, res.acc,
                    time.perf_counter() - t0, now_train(), last_eval_cost,
                )  # fmt: skip
                ev_loss.zero_()
                ev_correct.zero_()
                ev_n = 0
                win_t, tp_steps = time.perf_counter(), 0  # do not charge evaluation to throughput
                if i + 1 == per_epoch:
                    yield EpochEnd(
                        epoch, step, ep_loss_sum / ep_n, ep_correct / ep_n, res.loss, res.acc,
                        time.perf_counter() - t0,
                    )  # fmt: skip
                    ep_loss_sum, ep_correct, ep_n = 0.0, 0, 0

            end_of_epoch = i + 1 == per_epoch
            if every > 0 and step < total and (end_of_epoch or time.perf_counter() - last_ckpt >= every):
                finite = bool(torch.isfinite(win_loss)) and _finite_state(model)
                if finite:  # never keep a state whose loss, weights or running statistics have blown up
                    yield take(epoch, gen.get_state() if end_of_epoch else rng_epoch)
                last_ckpt = time.perf_counter()
        if reason != "completed":
            break

    train_s = now_train()
    model.eval()
    if reason == "diverged":
        yield RunFinished(reason, message, step, step / per_epoch, None, None, time.perf_counter() - t0, train_s)
        return
    res = _evaluate(model, data.x_test.to(dev), data.y_test.to(dev), norm, dev, bf16)
    if reason == "completed":
        message = f"Training finished: test accuracy {res.acc:.2%} on {res.n} images."
    yield RunFinished(reason, message, step, step / per_epoch, res.loss, res.acc, time.perf_counter() - t0, train_s)
