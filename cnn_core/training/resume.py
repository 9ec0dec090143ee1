"""Checkpoints of a run in progress: :class:`ResumeState`, taken by :func:`checkpoint` inside the
loop and handed back to :func:`cnn_core.training.train` (``resume=``) to carry the run on.

A state holds everything that decides the rest of the run: the model's weights and buffers, the
optimizer's and the schedule's state, the data generator's state (before this epoch's shuffle and
now, so the epoch's order is drawn again exactly), torch's global generator (dropout), the running
figures of the current window, evaluation and epoch, and the time spent so far. A run resumed from
step ``k`` goes on at step ``k + 1`` with the same total steps and schedule, and gives the same
numbers as the run that was never interrupted.

:meth:`ResumeState.to_dict` gives tensors and plain values only, which ``torch.save`` writes and
``torch.load(weights_only=True)`` reads back; :meth:`ResumeState.from_dict` checks such a dict and
says in a sentence what is wrong with a damaged one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["FORMAT", "ResumeState", "checkpoint"]

FORMAT = "convlab-resume/1"
METERS = ("win_loss", "win_steps", "ev_loss", "ev_correct", "ev_n", "ep_loss", "ep_correct", "ep_n", "eval_cost")


def _cpu_copy(obj: Any) -> Any:
    """A deep copy with every tensor detached, cloned and moved to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True).contiguous()
    if isinstance(obj, dict):
        return {k: _cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_cpu_copy(v) for v in obj)
    return obj


@dataclass(frozen=True, eq=False)
class ResumeState:
    """Everything needed to carry a run on after ``step`` steps (of ``total_steps``)."""

    step: int  # steps done (the resumed run's next step is step + 1)
    epoch: int  # the 1-based epoch the last step done belongs to (0 before any step)
    total_steps: int  # of the whole run: a resume must plan the same run
    steps_per_epoch: int
    model_state: dict[str, torch.Tensor]  # model.state_dict(), on the CPU
    optimizer_state: dict[str, Any]
    scheduler_state: dict[str, Any] | None  # None: the run has no schedule
    data_rng_epoch: torch.Tensor  # the data generator's state before this epoch's shuffle
    data_rng: torch.Tensor  # and now (augmentation draws from it)
    torch_rng: torch.Tensor  # torch's global CPU generator (dropout, on the CPU)
    cuda_rng: torch.Tensor | None = None  # the current CUDA device's generator, when training on CUDA
    elapsed_s: float = 0.0  # wall time of the run so far
    eval_s: float = 0.0  # of which evaluating
    meters: dict[str, float] = field(default_factory=dict)  # running sums of the open window, evaluation, epoch

    @property
    def epoch_fraction(self) -> float:
        return self.step / max(self.steps_per_epoch, 1)

    def to_dict(self) -> dict[str, Any]:
        """Tensors and plain values only: what ``torch.save`` / ``torch.load(weights_only=True)`` take."""
        return {
            "format": FORMAT,
            "step": self.step,
            "epoch": self.epoch,
            "total_steps": self.total_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "model": self.model_state,
            "optimizer": self.optimizer_state,
            "scheduler": self.scheduler_state,
            "data_rng_epoch": self.data_rng_epoch,
            "data_rng": self.data_rng,
            "torch_rng": self.torch_rng,
            "cuda_rng": self.cuda_rng,
            "elapsed_s": self.elapsed_s,
            "eval_s": self.eval_s,
            "meters": dict(self.meters),
        }

    @classmethod
    def from_dict(cls, d: Any) -> ResumeState:
        """Read :meth:`to_dict`'s form back; a damaged or foreign dict raises ValueError with a sentence."""
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ValueError("This is not a ConvLab checkpoint (or it is from another version); start the run again.")
        try:
            state = cls(
                step=int(d["step"]),
                epoch=int(d["epoch"]),
                total_steps=int(d["total_steps"]),
                steps_per_epoch=int(d["steps_per_epoch"]),
                model_state=dict(d["model"]),
                optimizer_state=dict(d["optimizer"]),
                scheduler_state=None if d["scheduler"] is None else dict(d["scheduler"]),
                data_rng_epoch=d["data_rng_epoch"],
                data_rng=d["data_rng"],
                torch_rng=d["torch_rng"],
                cuda_rng=d.get("cuda_rng"),
                elapsed_s=float(d["elapsed_s"]),
                eval_s=float(d["eval_s"]),
                meters={k: float(d["meters"][k]) for k in METERS},
            )
        except KeyError as err:
            raise ValueError(f"The checkpoint is damaged (its {err} part is missing); start the run again.") from None
        except (TypeError, ValueError):
            raise ValueError("The checkpoint is damaged (a value in it is of the wrong kind); start again.") from None
        rngs = (state.data_rng_epoch, state.data_rng, state.torch_rng)
        if not all(isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in rngs):
            raise ValueError("The checkpoint is damaged (its random generator states are wrong); start the run again.")
        if not 0 <= state.step <= state.total_steps or state.steps_per_epoch < 1:
            raise ValueError(f"The checkpoint is damaged (step {state.step} of {state.total_steps}); start again.")
        if not all(isinstance(v, torch.Tensor) for v in state.model_state.values()):
            raise ValueError("The checkpoint is damaged (its model weights are not all tensors); start the run again.")
        if not all(math.isfinite(v) for v in state.meters.values()):
            raise ValueError("The checkpoint was taken after the loss blew up; start the run again.")
        return state


def checkpoint(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    *,
    step: int,
    epoch: int,
    total_steps: int,
    steps_per_epoch: int,
    data_rng_epoch: torch.Tensor,
    data_rng: torch.Generator,
    device: torch.device,
    elapsed_s: float,
    eval_s: float,
    meters: dict[str, float],
) -> ResumeState:
    """A :class:`ResumeState` of the run now: CPU copies, so training can go on changing the originals."""
    return ResumeState(
        step=step,
        epoch=epoch,
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        model_state=_cpu_copy(model.state_dict()),
        optimizer_state=_cpu_copy(optimizer.state_dict()),
        scheduler_state=None if scheduler is None else _cpu_copy(scheduler.state_dict()),
        data_rng_epoch=data_rng_epoch.clone(),
        data_rng=data_rng.get_state(),
        torch_rng=torch.get_rng_state(),
        cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        elapsed_s=elapsed_s,
        eval_s=eval_s,
        meters={k: float(meters[k]) for k in METERS},
    )


def _match_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Give every per-parameter state tensor its parameter's memory layout (channels-last or not).

    A checkpoint keeps its tensors contiguous; a fused optimizer step walks a parameter and its
    state as one flat array each, so their layouts must agree or the numbers would be mixed up.
    """
    for group in optimizer.param_groups:
        for p in group["params"]:
            st = optimizer.state.get(p, {})
            for k, v in st.items():
                if isinstance(v, torch.Tensor) and v.shape == p.shape and v.stride() != p.stride():
                    st[k] = torch.empty_like(p, dtype=v.dtype).copy_(v)


def restore(
    state: ResumeState,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    data_rng: torch.Generator,
    device: torch.device,
) -> None:
    """Load ``state`` into a run set up afresh (same model, optimizer, schedule); ValueError with a sentence
    when the checkpoint does not belong to this run."""
    try:
        model.load_state_dict(state.model_state)
    except RuntimeError as err:
        raise ValueError(f"The checkpoint holds weights of another network: {str(err).splitlines()[0]}") from None
    # A schedule adds its own keys to the optimizer's groups, so it is compared first.
    kept = None if state.scheduler_state is None else set(state.scheduler_state)
    if kept != (None if scheduler is None else set(scheduler.state_dict())):
        raise ValueError("The checkpoint was taken with another learning-rate schedule; start the run again.")
    saved = state.optimizer_state.get("param_groups") or [{}]
    if set(saved[0]) != set(optimizer.state_dict()["param_groups"][0]):
        raise ValueError("The checkpoint was taken with another optimizer; start the run again.")
    try:
        optimizer.load_state_dict(state.optimizer_state)
    except (ValueError, KeyError, RuntimeError) as err:
        raise ValueError(f"The checkpoint was taken with other optimizer settings ({err}); start again.") from None
    _match_layouts(optimizer)
    if scheduler is not None:
        scheduler.load_state_dict(state.scheduler_state)
    data_rng.set_state(state.data_rng)
    torch.set_rng_state(state.torch_rng)
    if state.cuda_rng is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state.cuda_rng, device)
