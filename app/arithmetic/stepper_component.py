"""The Arithmetic page's client-side stepper: a Streamlit Components v2 component (mounted in the page,
no iframe) that gets every step of the current setting at once and steps through them in the browser.

The html/js/css live beside this module (``stepper.js``, ``stepper.css``) and are read once at import.
The component reports the step it rests on (state ``step``, debounced in the browser), and
:func:`mount` turns that into ``go_to``; the payload (:func:`app.arithmetic.stepper_payload.payload`)
is built once per setting and kept, so the run a report causes only picks the step.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import astuple, replace

import streamlit as st

from app import components, layout, state
from app.arithmetic.problem import Problem
from app.arithmetic.stepper_payload import payload
from app.arithmetic.widgets import go_to

_COMPONENT = components.register("convlab_arithmetic_stepper", __file__, "stepper")

_CACHE: OrderedDict[tuple, dict] = OrderedDict()  # setting (config without the step) -> payload, newest last
_CACHE_SIZE = 32


def cached_payload(problem: Problem) -> dict:
    """:func:`payload` of ``problem``, computed once per setting (the current step is not part of the key)."""
    key = astuple(replace(problem.cfg, cell=0))
    found = _CACHE.get(key)
    if found is None:
        found = payload(problem)
        found["sig"] = hashlib.sha1(json.dumps(key, default=str).encode()).hexdigest()[:16]
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return found


def _on_step() -> None:
    """The browser rested on a step: make it the page's step (the URL and the panels follow)."""
    reported = (st.session_state.get(state.AR_STEPPER) or {}).get("step")  # [step, a counter]
    if isinstance(reported, list) and reported:
        go_to(int(reported[0]))


def mount(problem: Problem, k: int) -> None:
    """Draw the stepper at step ``k``; the browser then steps on its own."""
    ss = st.session_state
    ss[state.AR_STEPPER_RUNS] = ss.get(state.AR_STEPPER_RUNS, 0) + 1
    data = {
        **cached_payload(problem),
        "step": int(k),
        "presenting": layout.presenting(),
        "runs": ss[state.AR_STEPPER_RUNS],
    }
    _COMPONENT(key=state.AR_STEPPER, data=data, on_step_change=_on_step)
