"""The Arithmetic quiz's progress, kept in the learner's workspace: which exercises were checked and
how many answers were right, one ``"quiz"`` item per exercise (the latest check of it counts).

Read once per session (so a reload, a second tab or a restart shows it), updated on every Check.
A store that cannot be read or written costs a sentence (once) and the page goes on with what the
session has.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import streamlit as st

from app import state
from app.arithmetic.config import ArithmeticConfig
from app.workspace import identity

KIND = "quiz"


_tell = identity.tell_once
_with_store = identity.with_store


def exercise_key(cfg: ArithmeticConfig) -> str:
    """Names one exercise: its numbers, settings and quiz mode (not the step being looked at)."""
    query = {k: v for k, v in cfg.to_query().items() if k not in ("cell", "example")}
    return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:20]


def _readable(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and all(isinstance(value.get(k), int) for k in ("right", "total"))
        and 0 <= value["right"] <= value["total"]
    )


def progress() -> dict[str, dict[str, Any]]:
    """Exercise key -> its latest check ``{"right", "total", "mode", "checked"}``."""
    ss = st.session_state
    if state.AR_PROGRESS not in ss:
        kept = _with_store(lambda s, ws: s.items(ws, KIND), {})
        ss[state.AR_PROGRESS] = {k: v for k, v in kept.items() if _readable(v)}
    return ss[state.AR_PROGRESS]


def record(cfg: ArithmeticConfig, right: int, total: int) -> None:
    """One check of the exercise ``cfg``: kept in the session and saved to the workspace."""
    key = exercise_key(cfg)
    value = {"right": int(right), "total": int(total), "mode": cfg.quiz, "checked": time.time()}
    progress()[key] = value
    _with_store(lambda s, ws: s.put_item(ws, KIND, key, value), None)


def summary_text(done: dict[str, dict[str, Any]]) -> str | None:
    """"You have done 3 exercises, 17 of 20 cells right." (None before the first check)."""
    if not done:
        return None
    right = sum(v["right"] for v in done.values())
    total = sum(v["total"] for v in done.values())
    n = len(done)
    return f"You have done {n} exercise{'s' * (n != 1)}, {right} of {total} cells right."
