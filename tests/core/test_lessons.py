"""The lesson files and cnn_core.lessons: every file loads, every answer is the core's, bad files and bad predictions get sentences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnn_core import geometry, lessons, models
from cnn_core import lesson_answers as la
from cnn_core.training import transfer
from cnn_core.worked_examples import EXAMPLES, compute, discrepancies

ALL = lessons.load_lessons()
STEPS = [(ls.id, i, s) for ls in ALL.values() for i, s in enumerate(ls.steps)]


def test_the_course_topics_have_lessons_of_three_to_five_steps():
    assert len(ALL) >= 8
    assert all(3 <= len(ls.steps) <= 5 for ls in ALL.values()), {ls.id: len(ls.steps) for ls in ALL.values()}
    titles = " ".join(ls.title.lower() for ls in ALL.values())
    for topic in ("kernel", "stride", "pooling", "parameter", "receptive", "network", "overfitting", "sees",
                  "skip", "inception", "backward", "transfer"):  # fmt: skip
        assert topic in titles, topic


@pytest.mark.parametrize(("lesson", "index", "step"), STEPS, ids=[f"{a}-{b + 1}" for a, b, _ in STEPS])
def test_every_step_answer_is_computed_and_its_right_prediction_counts(lesson, index, step):
    ans = lessons.answer(step)
    typed = ans.value if step.kind == "choice" else repr(ans.value)
    assert lessons.check_prediction(step, typed).right
    assert "{" not in step.explain(ans), step.explain(ans)
    if step.kind == "number":
        assert not lessons.check_prediction(step, repr(ans.value + 1)).right
    else:
        wrong = next(c for c in step.choices if c != ans.value)
        assert not lessons.check_prediction(step, wrong).right


def test_answers_equal_the_core_formulas():
    cell = la.example_cell("6x6 vertical edge, stride 1", 3, 3)  # counted from 0, as on the page
    assert cell.value == compute(EXAMPLES["6x6 vertical edge, stride 1"])[0, 3, 3] == 11
    assert cell.notes == 10 and cell.notes_differ  # the notes' misprint, read from worked_examples
    assert la.output_size(7, 3, 2, 1).value == geometry.output_size(7, 3, stride=2, padding=1) == 4
    assert la.output_size(5, 3, 1, "same").value == 5
    assert la.receptive_field([[3, 1], [3, 1]]).value == 5
    plan = models.plan(models.PRESETS["Course MNIST CNN (Keras notes)"])
    assert la.network("Course MNIST CNN (Keras notes)", "params").value == plan.total_params == 93_322
    assert la.network("Course MNIST CNN (Keras notes)", "height", 1).value == 26
    assert la.conv_params(3, 3, 2).value == geometry.conv_params(3, 3, 3, 2) == 56
    assert la.kernel_finds(["Sobel x", "Sobel y"], [[9, 9, 9], [5, 5, 5], [0, 0, 0]]).value == "Sobel y"
    assert la.steps_per_epoch(10_000, 64).value == 156
    assert la.backward_example("Backward pass, 5x5 input, 3x3 kernel, stride 2", "x", 2, 2).value == -1.5
    assert la.network_difference("ResNet-8 (28x28)", "Plain-8 (28x28)", 2).value == 0  # identity: nothing learned
    saving = models.bottleneck_saving(models.PRESETS["Small inception net (28x28)"].layers[2], 32)
    assert la.bottleneck("Small inception net (28x28)", 3).value == saving.with_reduce
    assert la.bottleneck("Small inception net (28x28)", 3, without=True).value == saving.without_reduce
    assert la.transfer_trainable(3, "frozen").value == geometry.dense_params(128, 3)  # the new head alone
    assert (
        la.transfer_trainable(3, "all").value
        == models.plan(models.with_num_classes(transfer.backbone_config(), 3)).total_params
    )


def test_every_misprint_the_lessons_quote_is_one_worked_examples_knows():
    quoted = [(s, lessons.answer(s)) for _, _, s in STEPS if "{notes}" in s.explanation]
    wrong = [(s, a) for s, a in quoted if a.notes_differ]
    assert len(wrong) >= 2  # the lessons say where the notes are wrong
    for step, ans in wrong:
        ex = EXAMPLES[step.params["example"]]
        cells = {tuple(d.cell[-2:]): d for d in discrepancies(ex)}
        d = cells[(step.params["row"], step.params["col"])]
        assert (d.printed, d.correct) == (ans.notes, ans.value)
        assert "notes print" in step.explain(ans)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "empty"),
        ("seven", "not a number"),
        ("nan", "not a finite"),
        ("1e6", "cannot be the answer"),
        ("-3", "between"),
    ],
)
def test_a_prediction_that_is_no_number_or_out_of_range_gets_a_sentence(typed, words):
    step = ALL["02_stride_padding"].steps[0]  # output rows, range 1..6
    verdict = lessons.check_prediction(step, typed)
    assert not verdict.right and verdict.problem and words in verdict.problem, verdict


def test_a_choice_step_without_a_pick_gets_a_sentence():
    step = next(s for _, _, s in STEPS if s.kind == "choice")
    assert lessons.check_prediction(step, None).problem == "Pick one of the choices first."


GOOD = """
title = "T"
summary = "S"
[[steps]]
title = "a"
page = "arithmetic"
question = "q"
kind = "number"
answer = "output_size"
params = { n = 6, kernel = 3 }
explanation = "{answer}"
"""


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('page = "arithmetic"', 'page = "nowhere"', "is not one of"),
        ('answer = "output_size"', 'answer = "guess"', "no answer function"),
        ("kernel = 3 }", "kernel = 9 }", "cannot be computed"),
        ('kind = "number"', 'kind = "choice"\nchoices = ["a", "b"]', "computed answer among them"),
        ('explanation = "{answer}"', 'explanation = "{notes}"', "quotes the notes"),
        ('title = "a"', 'title = "a"\ncolour = "red"', "unknown field"),
        ('summary = "S"', "", "'summary' is missing"),
        ("[[steps]]", "[[steps", "cannot be read"),
    ],
)
def test_a_broken_lesson_file_names_the_file_and_the_problem(tmp_path: Path, old, new, words):
    assert lessons.load_lesson(_write(tmp_path, GOOD)).steps[0].title == "a"
    with pytest.raises(lessons.LessonError, match=words) as err:
        lessons.load_lesson(_write(tmp_path, GOOD.replace(old, new, 1)))
    assert "x.toml" in str(err.value)


def _write(folder: Path, text: str) -> Path:
    path = folder / "x.toml"
    path.write_text(text, encoding="utf-8")
    return path


_WORKING = re.compile(r"(?<![\w)])([(0-9][0-9 .+\-x()/]*[0-9)])\s*=\s*\{answer\}")


def _evaluate(expr: str) -> float | None:
    """The value of an explanation's working such as "(1 x 3 x 3 + 1) x 32"; None when it is not whole."""
    if expr.count("(") != expr.count(")"):
        return None
    return float(eval(expr.replace(" x ", " * "), {"__builtins__": {}}))  # digits and + - * / ( ) only


def test_the_working_an_explanation_writes_out_equals_the_computed_answer():
    """An explanation's hand-written "a + b = {answer}" must still hold when the core or a preset changes."""
    checked = 0
    for _, _, step in STEPS:
        for match in _WORKING.finditer(step.explanation):
            value = _evaluate(match.group(1))
            if value is None:
                continue
            assert value == pytest.approx(float(lessons.answer(step).value)), (step.title, match.group(1))
            checked += 1
    assert checked >= 15, checked  # most explanations write their working out


def test_the_rows_the_floor_drops_are_named_counting_from_0_as_the_arithmetic_page_counts():
    """Lesson 02's "what the floor drops" names the window starts and the unread rows from 0 (the Arithmetic
    page's grids count from 0): with 1-based rows a student looking at the page would find no row 6."""
    step = next(s for s in ALL["02_stride_padding"].steps if s.answer == "dropped_cells")
    n, k, s = (int(step.params[key]) for key in ("n", "kernel", "stride"))
    starts = list(range(0, n - k + 1, s))
    text = step.explain(lessons.answer(step))
    assert f"start at rows {' and '.join(map(str, starts))}" in text
    assert f"cover rows 0-{starts[-1] + k - 1}" in text
    unread = list(range(starts[-1] + k, n))
    assert len(unread) == lessons.answer(step).value and f"Row {unread[0]} is never read" in text
