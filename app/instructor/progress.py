"""A training job's progress in words: what a student's sidebar, their presence and the console say.

Read from the job's own :meth:`~app.jobs.Job.progress` and the registry's queue; no Streamlit.
"""

from __future__ import annotations

import time

from app.jobs import Job, JobRegistry


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def finish_text(job: Job, now: float | None = None) -> str:
    """ "in 3 min (about 14:32)", or "" when the run has no estimate yet."""
    p = job.progress()
    if p is None or p.expected_finish is None or job.status != "running":
        return ""
    now = time.time() if now is None else now
    left = max(p.expected_finish - now, 0.0)
    return f"in {_duration(left)} (about {time.strftime('%H:%M', time.localtime(p.expected_finish))})"


def wait_text(job: Job, registry: JobRegistry) -> str:
    """ "#2 in the queue, about 4 min" for a queued run."""
    position = registry.queue_position(job)
    wait = registry.wait_estimate(job)
    where = f"#{position} in the queue" if position else "in the queue"
    return where if wait is None else f"{where}, about {_duration(wait)}"


def status_text(job: Job | None, registry: JobRegistry) -> str | None:
    """ "running 45% (epoch 2/5)", "queued #2", "starting"; None when there is no active run."""
    if job is None or not job.active:
        return None
    if job.status == "queued":
        position = registry.queue_position(job)
        return f"queued #{position}" if position else "queued"
    p = job.progress()
    if p is None or p.step == 0:
        return "starting"
    return f"running {p.fraction:.0%} (epoch {p.epoch}/{p.epochs})"
