"""The browser stepper's data (app.arithmetic.stepper_payload): every step's numbers and words are the Problem's,
computed once per setting; the page mounts it where quiz mode is off and keeps the server stepper in quiz mode."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from app.arithmetic import stepper_component
from app.arithmetic.config import DEFAULT_CONFIG, config_from_example, starter
from app.arithmetic.problem import build_problem
from app.arithmetic.stepper_payload import payload
from cnn_core.numbers import format_number
from cnn_core.worked_examples import EXAMPLES
from tests.app.test_arithmetic_page import _app, _stepper, report_step

SIX = "\n".join(" ".join(str((3 * i + j) % 7) for j in range(6)) for i in range(6))


def _check_against_problem(cfg):
    problem = build_problem(cfg)
    data = json.loads(json.dumps(payload(problem)))  # what travels to the browser
    assert data["n"] == problem.steps == len(data["steps"])
    for k, s in enumerate(data["steps"]):
        m, r, c = problem.locate(k)
        step = problem.traces[m].step_at(r, c)
        assert (s["m"], s["r"], s["c"]) == (m, r, c)
        assert (s["rows"], s["cols"]) == (list(step.rows), list(step.cols))
        assert s["work"] == problem.equation(k)
        assert s["line"].endswith(f"= {format_number(problem.out[m, r, c])}")
        assert [tuple(p) for p in s["circ"]] == (problem.circled(k) or [])
    for m, mp in enumerate(data["maps"]):
        np.testing.assert_array_equal(np.array(mp["out"], dtype=float), problem.out[m])
        assert mp["start"] == problem.index(m, 0, 0)
    return problem, data


def test_the_notes_example_step_by_step():
    cfg = config_from_example(EXAMPLES["6x6 vertical edge, stride 1"])
    problem, data = _check_against_problem(cfg)
    first, last = data["steps"][0], data["steps"][15]
    assert first["line"] == "Step 1 of 16: output cell row 0, column 0 = -14"
    assert first["work"] == ["1×1 + 2×0 + 3×(-1) + 2×1 + 2×0 + 5×(-1) + 0×1 + 6×0 + 9×(-1) = -14"]
    assert (first["rows"], first["cols"]) == ([0, 1, 2], [0, 1, 2])
    assert last["line"] == "Step 16 of 16: output cell row 3, column 3 = 11"
    assert last["warn"] == "The notes print 10 here; the correct value is 11."
    assert [s["warn"] for s in data["steps"][:15]] == [None] * 15
    assert data["maps"][0]["inputs"][0]["cells"][0] == ["1", "2", "3", "1", "3", "5"]
    assert data["maps"][0]["kernels"][0] == {"title": "Kernel", "cells": [["1", "0", "-1"]] * 3}
    assert data["maps"][0]["kernel_note"] == "bias = 0"
    assert data["legend"][0].startswith("Thick black-and-white outline")


def test_padding_stride_and_dropped_cells_are_marked():
    cfg = replace(DEFAULT_CONFIG, x=SIX, padding="custom", pad=(1, 1, 1, 1), stride=(2, 2))
    _, data = _check_against_problem(cfg)
    assert data["row_labels"] == ["p", "0", "1", "2", "3", "4", "5", "p"]
    assert data["pad"][0] == [1] * 8 and data["pad"][1][0] == 1 and data["pad"][1][1] == 0
    assert data["dropped"][7] == [1] * 8 and [row[7] for row in data["dropped"]] == [1] * 8  # (8 - 3) / 2 leaves 1
    assert data["dropped"][0] == [0] * 7 + [1]
    assert data["steps"][1]["cols"] == [2, 3, 4]  # stride 2: the window moved two columns


def test_max_pooling_circles_the_kept_value_and_names_its_padding():
    cfg = replace(DEFAULT_CONFIG, op="pool", x=SIX, pool="max", pool_size=(2, 2), stride=(2, 2), padding="same")
    problem, data = _check_against_problem(cfg)
    assert all(len(s["circ"]) == 1 for s in data["steps"])
    assert data["maps"][0]["kernels"] == []
    if problem.padding_mask.any():
        assert data["pool_note"] == "Padding counts as -∞ in max pooling, so it never wins."


def test_two_kernels_two_maps_and_every_later_mode():
    cfg = replace(DEFAULT_CONFIG, x=SIX, kernels=("1 0\n0 1", "0 1\n1 0"), biases=(0.5, -1.0))
    _, data = _check_against_problem(cfg)
    assert [mp["out_title"] for mp in data["maps"]] == ["Feature map 0", "Feature map 1"]
    assert data["maps"][1]["kernels"][0]["title"] == "Kernel 1" and data["maps"][1]["kernel_note"] == "bias = -1"
    assert data["steps"][25]["line"].startswith("Step 26 of 50: output cell row 0, column 0 of feature map 1 = ")
    for op in ("backward", "conv1x1", "conv3d", "chain"):
        _check_against_problem(starter(op))
    _check_against_problem(replace(starter("backward"), wrt="w"))
    _check_against_problem(replace(starter("chain"), stage="pool"))
    _, mix = _check_against_problem(starter("conv1x1"))
    assert mix["maps"][1]["kernels"][0]["win"] == [[1], [0, 1, 2]]  # row 1 of the weight matrix outlined
    _, vol = _check_against_problem(starter("conv3d"))
    assert vol["maps"][0]["inputs"][0]["title"].startswith("Input")


def test_dilation_spreads_the_window():
    cfg = replace(DEFAULT_CONFIG, x=SIX, dilation=(2, 2))
    _, data = _check_against_problem(cfg)
    assert data["steps"][0]["rows"] == [0, 2, 4]


def test_the_payload_is_built_once_per_setting(monkeypatch):
    calls = []
    original = stepper_component.payload
    monkeypatch.setattr(stepper_component, "payload", lambda p: calls.append(p.cfg.cell) or original(p))
    stepper_component._CACHE.clear()
    at = _app(op="backward")
    for k in (1, 2, 7):
        report_step(at, k)  # each report reruns the step's fragment
    assert _stepper(at)["step"] == 7 and at.query_params["cell"] == "7"
    assert len(calls) == 1  # one payload, every step
    at.text_area(key="ar_w_grad").input("1 1\n1 1").run()
    assert len(calls) == 2  # new numbers: a new payload


@pytest.mark.parametrize("mode", ["cells", "size"])
def test_quiz_mode_keeps_the_server_stepper(mode):
    at = _app(quiz=mode)
    assert _stepper(at) is None
    at = _app()
    assert _stepper(at) is not None and _stepper(at)["sig"]
