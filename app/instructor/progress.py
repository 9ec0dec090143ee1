"""A training job's progress in words: what a student's sidebar, their presence and the console say.

Read from the job's events (:meth:`app.jobs.Job.events`) and the registry's queue; no Streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.jobs import Job, JobRegistry
from cnn_core import training


@dataclass(frozen=True)
class Progress:
    """How far one run has got."""

    fraction: float | None  # 0-1 of its steps, None before its first step
    epoch: int | None
    epochs: int | None
    eta_s: float | None  # seconds left by the run's own estimate
    queue_position: int | None  # 1 for the next to start, when queued

    def finish_text(self, now: float | None = None) -> str:
        """ "in 3 min (about 14:32)", or "" when there is no estimate yet."""
        if self.eta_s is None:
            return ""
        at = time.strftime("%H:%M", time.localtime((now or time.time()) + self.eta_s))
        minutes = self.eta_s / 60
        left = f"{self.eta_s:.0f} s" if minutes < 1 else f"{minutes:.0f} min"
        return f"in {left} (about {at})"


def progress(job: Job, registry: JobRegistry) -> Progress:
    """The run's progress from its events so far."""
    events = job.events()
    started = next((e for e in events if isinstance(e, training.RunStarted)), None)
    last = next((e for e in reversed(events) if isinstance(e, training.StepEvent)), None)
    fraction = None
    if started is not None and last is not None and started.total_steps > 0:
        fraction = min(last.step / started.total_steps, 1.0)
    return Progress(
        fraction=fraction,
        epoch=last.epoch if last is not None else None,
        epochs=started.epochs if started is not None else None,
        eta_s=last.eta_s if last is not None and job.status == "running" else None,
        queue_position=registry.queue_position(job) if job.status == "queued" else None,
    )


def status_text(job: Job | None, registry: JobRegistry) -> str | None:
    """ "running 45% (epoch 2/5)", "queued #2", "starting"; None when there is no active run."""
    if job is None or not job.active:
        return None
    p = progress(job, registry)
    if job.status == "queued":
        return f"queued #{p.queue_position}" if p.queue_position else "queued"
    if p.fraction is None:
        return "starting"
    return f"running {p.fraction:.0%} (epoch {p.epoch}/{p.epochs})"
