"""The Arithmetic page's glue, one module per part:

- :mod:`~app.arithmetic.config`: the page's typed config, its URL form, example and exercise configs;
- :mod:`~app.arithmetic.problem`: the config computed by :mod:`cnn_core` into what the page draws;
- :mod:`~app.arithmetic.widgets`: the settings and quiz sidebars and their callbacks;
- :mod:`~app.arithmetic.view`: Play, the step controls, the grids and tables of the current step;
- :mod:`~app.arithmetic.stepper_payload`: every step of a setting as the browser stepper's JSON;
- :mod:`~app.arithmetic.stepper_component`: the browser stepper (Components v2) that steps without a rerun;
- :mod:`~app.arithmetic.quiz_view`: the quiz's answer boxes and marks;
- :mod:`~app.arithmetic.progress`: the quiz progress kept in the learner's workspace;
- :mod:`~app.arithmetic.panels`: the example note, output size, pooling comparison, scatter view, series;
- :mod:`~app.arithmetic.modes`: the backward pass, 1x1 and 3-D convolution, conv -> ReLU -> pool computed;
- :mod:`~app.arithmetic.mode_panels`: those modes' panels (gradient terms, the chain's stages, the mix).

The page (``app_pages/arithmetic.py``) uses the names re-exported here.
"""

from __future__ import annotations

from app.arithmetic import modes  # noqa: F401 (registers the later modes with build_problem)
from app.arithmetic.config import DEFAULT_CONFIG, INDEXING, ArithmeticConfig
from app.arithmetic.mode_panels import chain_panel
from app.arithmetic.panels import example_note, output_size, pooling_compare, series, transposed_scatter
from app.arithmetic.problem import Problem, ProblemError, build_problem
from app.arithmetic.quiz_view import quiz_panel
from app.arithmetic.view import problem_for, stepper
from app.arithmetic.widgets import current, quiz_controls, settings, sync_url

__all__ = [
    "DEFAULT_CONFIG",
    "INDEXING",
    "ArithmeticConfig",
    "Problem",
    "ProblemError",
    "build_problem",
    "chain_panel",
    "current",
    "example_note",
    "output_size",
    "pooling_compare",
    "problem_for",
    "quiz_controls",
    "quiz_panel",
    "series",
    "settings",
    "stepper",
    "sync_url",
    "transposed_scatter",
]
