"""Every chart's numbers as a table (issue #13): :func:`app.plots.table.figure_table` on each builder of
:mod:`app.plots`, and ``layout.chart``'s collapsed "Numbers as a table" expander under a chart."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from app import plots
from app.plots import classroom, curves, table

STEPS = [SimpleNamespace(epoch_fraction=0.5, loss=2.0), SimpleNamespace(epoch_fraction=1.0, loss=1.5)]
EVALS = [SimpleNamespace(epoch_fraction=1.0, val_loss=1.6, train_acc=0.5, val_acc=0.4, step=10)]


def test_training_curves_give_a_column_per_series_and_a_row_per_epoch_with_gaps_where_a_series_has_none():
    fig = plots.training_curves(STEPS, EVALS)
    t = plots.figure_table(fig)
    assert list(t.columns) == ["training loss", "validation loss", "training accuracy", "validation accuracy"]
    assert list(t.index) == [0.5, 1.0] and t.index.name == "epochs"
    assert t.loc[1.0].tolist() == [1.5, 1.6, 50.0, 40.0]  # accuracies in % as the chart draws them
    assert math.isnan(t.loc[0.5, "validation loss"])  # evaluated only at the epoch's end
    assert plots.chart_name(fig) == "Loss and Accuracy"


def test_series_of_the_same_name_in_two_panels_are_told_apart_by_their_panel():
    fig = plots.arm_curves(["plain", "res"], [[1, 2], [1, 2]], [[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]])
    t = plots.figure_table(fig)
    assert list(t.columns) == ["plain: training, %", "plain: held-out, %", "res: training, %", "res: held-out, %"]
    assert t.loc[2.0, "res: held-out, %"] == 80.0 and t.index.name == "epochs"
    bn = plots.batch_norm_bars(["Sobel x", "Blur"], [np.array([1.0, 2.0])] * 2, [np.array([0.1, 0.2])] * 2,
                               ["before", "after"])  # fmt: skip
    assert list(plots.figure_table(bn).columns) == ["before: mean", "before: spread (SD)", "after: mean",
                                                    "after: spread (SD)"]  # fmt: skip


def test_bars_on_their_side_are_rows_by_category_and_a_missing_bar_is_a_gap():
    t = plots.figure_table(plots.gap_bars(["plain", "res"], [0.5, None], [0.4, 0.3]))
    assert list(t.index) == ["plain", "res"] and t.loc["plain", "held-out"] == 40.0
    assert math.isnan(t.loc["res", "training (all images, evaluation mode)"])
    assert t.attrs["values"] == "% correct"  # the caption says what the numbers measure
    poll = plots.figure_table(classroom.poll_histogram({"3": 2, "4": 1}, right="4"))
    assert poll["answers"].to_dict() == {"3": 2.0, "4 ✓": 1.0}


def test_a_decoration_is_left_out_and_a_line_of_steps_keeps_its_runs_apart():
    acc = plots.figure_table(plots.accuracy_over_time(["start", "end"], [0.1, 0.9], 1))
    assert list(acc.columns) == ["accuracy"]  # the "shown" diamond marks a point, it is no series
    runs = plots.figure_table(curves.comparison_curves({"from scratch": EVALS, "fine-tuned": EVALS}))
    assert list(runs.columns) == ["from scratch", "fine-tuned"] and runs.index.name == "steps"


def test_a_grid_is_its_cells_as_written_with_the_charts_own_row_and_column_labels():
    v = np.array([[1.0, -2.5, np.nan], [0.125, 3.0, -np.inf]])
    pad = np.array([[True, False, False], [False, False, False]])
    t = plots.figure_table(plots.grid(v, plots.GridMarks(padding=pad, row_labels=["r0", "r1"], clickable=True)))
    assert t.shape == (2, 3) and list(t.index) == ["r0", "r1"] and list(t.columns) == ["0", "1", "2"]
    assert t.loc["r0"].tolist()[:2] == ["1", "-2.5"] and t.loc["r1"].tolist() == ["0.125", "3", "-∞"]
    assert math.isnan(t.loc["r0", "2"])  # not computed yet
    quiz = plots.figure_table(plots.grid(v, plots.GridMarks(text=[["?"] * 3, ["?"] * 3])))
    assert (quiz == "?").all().all()  # the table reveals nothing the quiz hides
    small = plots.figure_table(plots.matrix_heatmap(np.eye(2) / 3))
    assert small.values.tolist() == [["0.3333", "0"], ["0", "0.3333"]]


def test_a_heatmap_drawn_bottom_up_lists_its_top_row_first():
    t = plots.figure_table(plots.dropout_strip(np.array([1.0, 2.0]), np.array([True, False]),
                                               np.array([2.0, 0.0]), np.array([1.0, 2.0])))  # fmt: skip
    assert list(t.index) == ["input x", "mask (1 = kept)", "training: x · mask / (1 − p)", "evaluation: x"]
    assert t.loc["mask (1 = kept)"].tolist() == ["1", "0"] and list(t.columns) == ["1", "2"]


def test_pictures_are_named_as_pictures_not_listed_pixel_by_pixel():
    maps = plots.tiled_maps(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2), int), diverging=False, zrange=(0, 1))
    assert plots.is_picture(maps) and plots.figure_table(maps) == table.NOT_TABULATED
    assert not plots.is_picture(plots.matrix_heatmap(np.eye(2)))
    # a figure's JSON dict (typed arrays encoded) reads the same as the figure
    fig = plots.series_plot(np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0]))
    assert plots.figure_table(fig.to_dict()).equals(plots.figure_table(fig))


CHART_APP = """
import numpy as np
import pandas as pd
from app import layout, plots

layout.chart(plots.series_plot(np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0])), key="t_series")
layout.chart(plots.matrix_heatmap(np.eye(2)), key="t_matrix", name="The kernel")
layout.chart(plots.gap_bars(["plain", "res"], [0.5, None], [0.4, 0.3]))
layout.chart(plots.matrix_heatmap(np.eye(3)), key="t_own", table=pd.DataFrame({"own": [7.0]}))
layout.chart(plots.matrix_heatmap(np.eye(4)), key="t_none", table=False)
layout.chart(plots.tiled_maps(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2), int), diverging=False,
                              zrange=(0, 1)), key="t_maps")
"""


def test_every_chart_but_a_picture_or_an_opt_out_has_a_closed_table_built_only_once_opened():
    at = AppTest.from_string(CHART_APP, default_timeout=60).run()
    assert not at.exception
    assert [e.label for e in at.main.expander] == ["Numbers as a table"] * 4  # not t_none, not the maps
    assert len(at.table) == 1  # only the key-less chart's: the others wait until opened
    assert at.caption[0].value == (  # the unit the bars measure, from the figure
        "The numbers of the chart “training (all images, evaluation mode) and held-out”, in % correct."
    )
    for key in ("t_series_table", "t_matrix_table", "t_own_table"):
        at.session_state[key] = True
    at.run()
    assert not at.exception and len(at.table) == 4
    captions = [c.value for c in at.caption]
    assert "The numbers of the chart “input x and output y”." in captions  # two axes: no one unit
    assert "The numbers of the chart “The kernel”." in captions
    shown = [t.value for t in at.table]
    series = next(t for t in shown if "input x" in t.columns)
    assert series["output y"].tolist()[:2] == [0.5, 1.0]
    assert any(list(t.columns) == ["own"] for t in shown)  # the caller's own table, not the figure's
    assert all(isinstance(t, pd.DataFrame) for t in shown)
