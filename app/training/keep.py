"""Keeping a run in the student's workspace as it goes: its record, curve, weights and checkpoints.

A :class:`Recorder` sits on a run's message stream in the job's worker thread (no ``st.*``). It
saves the run's :class:`~app.workspace.RunRecord` when it starts, every few seconds and at every
evaluation (status, the curve as compact events), the model's weights after every epoch (so
"Inside the model" after a restart has the latest), each checkpoint the training process sends,
and the final model and summary at the end. A store that fails (:class:`~app.workspace.StoreError`)
costs only the saving: the run goes on in memory and :attr:`Recorder.note` says so in a sentence.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from app.jobs import messages
from app.trained import TrainedBundle
from app.workspace import RunRecord, StoreError, WorkspaceStore
from cnn_core import training

logger = logging.getLogger(__name__)

SAVE_EVERY_S = 5.0  # the record is saved at least this often while a run trains
MAX_STEP_POINTS = 500  # step events kept in a record's curve (evenly thinned beyond that)
EVENT_TYPES: dict[str, type] = {
    "start": training.RunStarted,
    "step": training.StepEvent,
    "eval": training.EvalEvent,
    "epoch": training.EpochEnd,
    "end": training.RunFinished,
}
TYPE_NAMES = {cls: name for name, cls in EVENT_TYPES.items()}
STORE_FAILED = "Your workspace could not save this run ({err}); it goes on here, but a reload may lose it."


_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()}


def encode_events(
    events: Sequence[training.Event], memo: dict[training.Event, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """A run's events as compact JSON-ready dicts (``{"t": "step", ...fields}``), steps thinned.

    ``memo`` (an event -> its dict; events are frozen, so equal events share one) is for a caller that
    encodes the same growing list again and again, as a :class:`Recorder` does on every save: each event is
    then encoded once.
    """
    steps = [i for i, e in enumerate(events) if type(e) is training.StepEvent]
    kept: set[int] | None = None
    if len(steps) > MAX_STEP_POINTS:
        stride = len(steps) / MAX_STEP_POINTS
        kept = {steps[int(i * stride)] for i in range(MAX_STEP_POINTS)} | {steps[-1]}
    out = []
    for i, e in enumerate(events):
        cls = type(e)
        if cls not in TYPE_NAMES or (kept is not None and cls is training.StepEvent and i not in kept):
            continue
        encoded = None if memo is None else memo.get(e)
        if encoded is None:
            encoded = {"t": TYPE_NAMES[cls], **{name: getattr(e, name) for name in _FIELDS[cls]}}
            if memo is not None:
                memo[e] = encoded
        out.append(encoded)
    return out


def decode_events(curve: Sequence[Any]) -> list[training.Event]:
    """The events of a stored curve; entries that cannot be read are skipped."""
    out: list[training.Event] = []
    for item in curve:
        if not isinstance(item, dict):
            continue
        cls = EVENT_TYPES.get(str(item.get("t")))
        if cls is None:
            continue
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            out.append(cls(**{k: v for k, v in item.items() if k in names}))
        except TypeError:
            continue
    return out


def status_of(finished: training.RunFinished | None, stop_reason: str | None) -> str:
    """The RunRecord status for how a run ended."""
    if stop_reason == "server shutting down":
        return "interrupted"  # it can resume from its last checkpoint after the restart
    if finished is None:
        return "failed"
    return {"completed": "finished", "diverged": "failed"}.get(finished.reason, "stopped")


class Recorder:
    """Saves one run into the workspace store while its messages pass through :meth:`follow`.

    ``record`` is the run as saved before it started; ``prior`` are events already in its curve
    (a resumed run's first part). ``job_info`` is asked at the end for (stop_reason, stop_message).
    """

    def __init__(
        self,
        store: WorkspaceStore,
        record: RunRecord,
        bundle: TrainedBundle,
        *,
        prior: Sequence[training.Event] = (),
        job_info: Callable[[], tuple[str | None, str | None]] = lambda: (None, None),
    ) -> None:
        self.store = store
        self.record = record
        self.bundle = bundle
        self.events: list[training.Event] = list(prior)
        self._encoded: dict[training.Event, dict[str, Any]] = {}  # encode_events' memo
        self.job_info = job_info
        self.note: str | None = None
        self._last_save = 0.0

    def save(self, **changes: Any) -> None:
        """Save the record with ``changes`` and the curve so far; a failing store leaves a note."""
        self.record = dataclasses.replace(
            self.record, updated=time.time(), curve=encode_events(self.events, self._encoded), **changes
        )
        self._last_save = time.monotonic()
        try:
            self.store.save_run(self.record)
        except StoreError as err:
            self._failed(err)

    def save_model(self) -> bool:
        """The model's weights as they are now; False (with a note) when they could not be saved."""
        try:
            self.store.save_model(self.record.workspace, self.record.run_id, self.bundle.model_copy().state_dict())
        except StoreError as err:
            self._failed(err)
            return False
        return True

    def _failed(self, err: StoreError) -> None:
        logger.warning("run %s: %s", self.record.run_id, err)
        self.note = STORE_FAILED.format(err=str(err).rstrip("."))
        self.bundle.notice = self.note

    def follow(self, stream: Iterator[messages.Message]) -> Iterator[messages.Message]:
        """Pass every message on, saving as they go; checkpoints are saved and not passed on."""
        for message in stream:
            if isinstance(message, messages.Checkpoint):  # the training process's resumable state
                self._checkpoint(message.step, message.state)
                continue
            if isinstance(message, training.EpochEnd):
                has_model = self.save_model()  # the Weights before this event are in the bundle
                self.events.append(message)
                self.save(status="running", has_model=has_model or self.record.has_model)
            elif type(message) in TYPE_NAMES:
                self.events.append(message)
                due = time.monotonic() - self._last_save >= SAVE_EVERY_S
                if isinstance(message, training.RunStarted | training.EvalEvent) or due:
                    self.save(status="running")
            yield message

    def _checkpoint(self, step: int, state: dict[str, Any]) -> None:
        try:
            self.store.save_checkpoint(self.record.workspace, self.record.run_id, step, state)
        except StoreError as err:
            self._failed(err)
            return
        self.save(checkpoint_step=step)

    def finish(self, error: str | None = None) -> None:
        """Save how the run ended: status, summary and (unless it diverged or failed) the model."""
        finished = next((e for e in reversed(self.events) if isinstance(e, training.RunFinished)), None)
        reason, message = self.job_info()
        if error:  # its training process died (the server going away, say): resumable if it was kept
            status = "interrupted" if self.record.checkpoint_step is not None else "failed"
        else:
            status = status_of(finished, reason)
        summary: dict[str, Any] = {"message": error or message or (finished.message if finished else "")}
        if finished is not None:
            summary |= {
                "test_acc": finished.test_acc,
                "test_loss": finished.test_loss,
                "steps": finished.step,
                "seconds": round(finished.train_s, 1),
            }
        evals = [e for e in self.events if isinstance(e, training.EvalEvent)]
        if evals:
            summary["val_acc"] = evals[-1].val_acc
        has_model = self.record.has_model
        if status in ("finished", "stopped", "interrupted"):
            has_model = self.save_model() or has_model
        self.save(status=status, summary=summary, has_model=has_model)
