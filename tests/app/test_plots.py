"""The plot builders and still pictures shared by the pages: one options object for the arithmetic
grid, one number formatter in the cells, one colour scale for charts and PNGs."""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from app import pictures, plots
from cnn_core import inspection
from cnn_core.numbers import format_number


def test_the_grid_takes_its_marks_as_one_object_and_the_keyword_form_draws_the_same():
    v = np.array([[1.0, -2.5, np.nan], [0.125, 3.0, -np.inf]])
    pad = np.array([[True, False, False], [False, False, False]])
    marks = plots.GridMarks(padding=pad, window=((0, 1), (1, 2)), current=(1, 1), kept=[(0, 1)], clickable=True)
    fig = plots.grid(v, marks, title="Input")
    assert fig.to_plotly_json() == plots.arithmetic_grid(v, title="Input", padding=pad, window=((0, 1), (1, 2)),
                                                         current=(1, 1), kept=[(0, 1)], clickable=True).to_plotly_json()  # fmt: skip
    heat = fig.data[0]
    assert [list(r) for r in heat.text] == [["1", "-2.5", ""], ["0.125", "3", "-∞"]]  # NaN: not computed yet
    assert fig.layout.clickmode == "event+select" and fig.data[-1].name == "cells"
    assert len(fig.layout.shapes) == 2 * 2  # the window and the current cell, each a black and a white outline
    quiz = plots.grid(v, plots.GridMarks(text=[["?"] * 3, ["?"] * 3]))
    assert all(t == "?" for row in quiz.data[0].text for t in row)


def test_matrix_cells_are_written_by_the_one_number_formatter():
    k = np.array([[1, 4, 6], [4, 16, 24]]) / 256
    fig = plots.matrix_heatmap(k, title="Kernel")
    assert [list(r) for r in fig.data[0].text] == [[format_number(x) for x in row] for row in k]
    assert fig.data[0].text[1][1] == "0.0625" and fig.data[0].zmin == -fig.data[0].zmax


def test_charts_and_pictures_share_one_colour_scale():
    assert plots.SEQUENTIAL is pictures.SEQUENTIAL and plots.DIVERGING is pictures.DIVERGING
    fig = plots.tiled_maps(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2), int), diverging=False, zrange=(0, 1))
    chart = [c for _, c in fig.data[0].colorscale]
    hexes = ["#" + "".join(f"{int(c):02x}" for c in rgb) for rgb in pictures.LUTS["seq"]]
    assert (chart[0], chart[-1]) == (hexes[0], hexes[-1])
    assert pictures.colour_scale(np.array([[-1.0, 3.0]])) == pictures.ColourScale((-3.0, 3.0), True)
    assert pictures.colour_scale(np.array([[0.0, 2.0]])) == pictures.ColourScale((0.0, 2.0), False)
    assert pictures.colour_scale(np.array([[-0.5, 0.2]]), per_map=True) == pictures.ColourScale((-1.0, 1.0), True)


def test_maps_png_enlarges_each_map_and_leaves_the_gaps_white():
    t = inspection.tile(np.stack([np.eye(4), np.zeros((4, 4))]).astype(np.float32))
    img = np.asarray(Image.open(io.BytesIO(pictures.maps_png(t, pictures.colour_scale(t.values)))))
    assert img.shape == (4 * 14, 9 * 14, 3)  # 56 // 4 = 14 times; two maps and a one-cell gap
    assert (img[:, 4 * 14 : 5 * 14] == 255).all()
    assert tuple(img[0, 0]) == tuple(pictures.LUTS["seq"][-1]) and tuple(img[0, 14]) == tuple(pictures.LUTS["seq"][0])


def test_presentation_mode_scales_every_text_of_a_copy_and_grows_a_grid_to_fit_its_numbers():
    grid = plots.matrix_heatmap(np.arange(9.0).reshape(3, 3), title="Kernel")
    big = plots.for_projector(grid, 1.5)
    assert grid.data[0].textfont.size == 14 and big.data[0].textfont.size == 21  # the numbers in the cells
    assert big.layout.font.size == 18  # plotly's 12 px default, which ticks and labels are drawn from
    assert big.layout.height == round(1.5 * grid.layout.height)  # the cells keep room for bigger numbers
    assert big.layout.xaxis.tickfont.size == 18 and big.layout.title.font.size == 1.5 * grid.layout.title.font.size
    assert grid.layout.font.size is None  # the original (shared by sessions when cached) is untouched
    t = inspection.tile(np.random.default_rng(0).random((4, 5, 5)).astype(np.float32), cols=2)
    maps = plots.tiled_maps(t.values, t.values, t.index, diverging=False, zrange=(0, 1))
    assert plots.for_projector(maps).layout.height == maps.layout.height  # a picture keeps its size
    titled = plots.for_projector(plots.matrix_heatmap(np.eye(2), title="Kernel"))
    assert titled.layout.title.font.size == 21  # a size the builder set (14) is scaled where it is


def test_the_projector_copy_keeps_the_figures_template():
    grid = plots.matrix_heatmap(np.arange(4.0).reshape(2, 2))
    assert plots.for_projector(grid).layout.template == grid.layout.template  # the default, taken by the copy
    dark = go.Figure(grid, layout_template="plotly_dark")
    kept = plots.for_projector(dark)
    assert kept.layout.template == dark.layout.template and kept.layout.template != grid.layout.template


def test_titles_and_top_margins_leave_room_for_the_toolbar_shown_on_hover():
    assert plots.accuracy_over_time(["a", "b"], [0.5, 0.9], 1).layout.margin.t >= 32
    assert plots.training_curves([], []).layout.margin.t >= 60  # subplot titles sit below the toolbar's strip
