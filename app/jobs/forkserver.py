"""The fork server that training processes start from: torch imported once, no server threads.

Children are forked from a ``forkserver`` that has imported torch and the core once, so a run
reaches its first step in 1-2 seconds (not the ~4 s a fresh interpreter needs) and never
inherits the web server's threads. Where there is no forkserver (not Linux), ``spawn`` is used.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.context import BaseContext

# torch._dynamo is imported by the first optimizer a process makes (about 2 s): do it once, in the server.
PRELOAD = [
    "torch",
    "torch._dynamo",
    "torch.optim",
    "cnn_core.training",
    "cnn_core.inspection",
    "cnn_core.models",
    "cnn_core.data",
    "app.jobs.child",
]
_LOCK = threading.Lock()
_CONTEXT: BaseContext | None = None


def context() -> BaseContext:
    """The forkserver context, made once per process with torch and the core preloaded."""
    global _CONTEXT
    with _LOCK:
        if _CONTEXT is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if ctx.get_start_method() == "forkserver":
                ctx.set_forkserver_preload(PRELOAD)
            _CONTEXT = ctx
        return _CONTEXT


def warm_up() -> None:
    """Start the fork server now (it imports torch: a few seconds), so the first run starts fast."""
    if context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
