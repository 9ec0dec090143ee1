"""The class around the students, kept in the workspace database so every server process sees it.

The CONTRACT below is what the pages and the instructor console code against; the bodies are
being written now. Everything is stored in the same SQLite file as :mod:`app.workspace.store`
(``WorkspaceStore.database``), so the instructor's settings, banners, pushed links and polls reach
every student whichever process serves them, and survive a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Banner", "ClassSettings", "Classroom", "Poll", "Presence", "PushedLink"]

PAGE_NAMES = ("Kernel Lab", "Arithmetic", "Architecture", "Training", "Inside the model")


@dataclass(frozen=True)
class ClassSettings:
    """What the instructor allows; takes effect at once in every process."""

    uploads: bool = True  # photo and model uploads
    camera: bool = True
    own_datasets: bool = True  # a learner's zip of class folders
    full_datasets: bool = True  # full MNIST / Fashion-MNIST / CIFAR-10
    pages: tuple[str, ...] = PAGE_NAMES  # the pages students see (Home always)
    max_epochs: int = 50
    max_minutes: float = 30.0  # a run is stopped with a sentence after this long


@dataclass(frozen=True)
class Presence:
    """One open session as the instructor sees it (anonymous unless the student chose a nickname)."""

    session: str  # the session's id (not the workspace id)
    label: str  # "Student 3" or the nickname
    page: str
    last_seen: float
    training: str | None  # e.g. "running 45% (epoch 2/5)", "queued #2", None


@dataclass(frozen=True)
class Banner:
    text: str
    posted: float
    until: float  # time.time() after which it is no longer shown


@dataclass(frozen=True)
class PushedLink:
    url: str  # a path with query, e.g. "/kernel_lab?kernel=Sobel+y"
    label: str
    posted: float


@dataclass(frozen=True)
class Poll:
    poll_id: int
    question: str
    kind: str  # "number" or "choice"
    choices: tuple[str, ...]  # for "choice"
    answer: str | None  # the right answer as text, None if none
    revealed: bool
    opened: float


class Classroom:
    """Class-wide state over the workspace database (thread- and process-safe)."""

    def __init__(self, database: Path) -> None:
        raise NotImplementedError

    # settings
    def settings(self) -> ClassSettings:
        raise NotImplementedError

    def put_settings(self, settings: ClassSettings) -> None:
        raise NotImplementedError

    # presence: every open page beats about every 5 s
    def beat(self, session: str, *, page: str, nickname: str | None = None, training: str | None = None) -> None:
        raise NotImplementedError

    def sessions(self, within_s: float = 30.0) -> list[Presence]:
        raise NotImplementedError

    # broadcasts
    def post_banner(self, text: str, *, seconds: float = 600.0) -> None:
        raise NotImplementedError

    def banner(self) -> Banner | None:
        raise NotImplementedError

    def clear_banner(self) -> None:
        raise NotImplementedError

    def push_link(self, url: str, label: str) -> None:
        raise NotImplementedError

    def pushed_link(self) -> PushedLink | None:
        raise NotImplementedError

    def clear_link(self) -> None:
        raise NotImplementedError

    # live polls: one open at a time; one answer per workspace (a new answer replaces the old)
    def open_poll(self, question: str, *, kind: str = "number", choices: tuple[str, ...] = (), answer: str | None = None) -> Poll:
        raise NotImplementedError

    def current_poll(self) -> Poll | None:
        raise NotImplementedError

    def answer_poll(self, poll_id: int, workspace: str, answer: str) -> None:
        raise NotImplementedError

    def poll_answers(self, poll_id: int) -> dict[str, int]:
        """answer text -> how many workspaces gave it."""
        raise NotImplementedError

    def my_answer(self, poll_id: int, workspace: str) -> str | None:
        raise NotImplementedError

    def reveal_poll(self, poll_id: int) -> None:
        raise NotImplementedError

    def close_poll(self) -> None:
        raise NotImplementedError

    # run cancellation across processes: the console asks, the process running the run obeys
    def request_cancel(self, run_id: str) -> None:
        raise NotImplementedError

    def cancel_requested(self, run_id: str) -> bool:
        raise NotImplementedError

    # instructor key attempts, for rate limiting (by client address or session)
    def record_key_attempt(self, client: str, ok: bool) -> None:
        raise NotImplementedError

    def failed_key_attempts(self, client: str, within_s: float = 300.0) -> int:
        raise NotImplementedError
