"""Colour-blind-safe colours throughout (issue #13): every categorical palette the plots use stays
distinguishable for deuteranopia, protanopia and tritanopia, and no figure builder of :mod:`app.plots`
draws with a colour that is not in :mod:`app.palette`.

Colour vision deficiency is simulated with Machado, Oliveira & Fernandes (2009), severity 1.0, on linear
sRGB; distances are CIEDE2000 in CIELAB (D65). Two colours count as distinguishable at ΔE00 ≥ 10 (about
twice the difference people name at a glance on a chart; the full Okabe-Ito set keeps 10.9 at worst).
"""

from __future__ import annotations

import base64
import itertools
import re
from types import SimpleNamespace

import numpy as np
import plotly.colors
import pytest

from app import palette, pictures, plots
from app.plots import classroom, curves, diagram

MACHADO = {  # linear RGB -> linear RGB, severity 1.0 (Machado et al. 2009, table 1)
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
DISTINCT = 10.0  # ΔE00 every pair keeps under each simulation


def _rgb(colour: str) -> np.ndarray:
    colour = _normal(colour)
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _linear(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ linear / np.array([0.95047, 1.0, 1.08883])  # fmt: skip
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(colour: str, vision: str) -> np.ndarray:
    """The CIELAB colour a person with ``vision`` ("normal" or a key of MACHADO) sees."""
    lin = _linear(_rgb(colour))
    if vision != "normal":
        lin = np.clip(np.array(MACHADO[vision]) @ lin, 0, 1)
    return _lab(lin)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))  # fmt: skip
    rc = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    rt = -np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))) * rc
    sl = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    sc, sh = 1 + 0.045 * cp_bar, 1 + 0.015 * cp_bar * t
    dl, dc = (l2 - l1) / sl, (c2p - c1p) / sc
    return float(np.sqrt(dl**2 + dc**2 + (d_h / sh) ** 2 + rt * dc * (d_h / sh)))


def closest(colours, vision: str) -> tuple[float, str, str]:
    return min((delta_e2000(seen(a, vision), seen(b, vision)), a, b) for a, b in itertools.combinations(colours, 2))


def test_ciede2000_matches_sharmas_published_pairs():
    # Sharma, Wu & Dalal (2005), table 1, pairs 1, 7 and 17
    assert delta_e2000(np.array([50, 2.6772, -79.7751]), np.array([50, 0, -82.7485])) == pytest.approx(2.0425, abs=1e-4)
    assert delta_e2000(np.array([50, 0, 0]), np.array([50, -1, 2])) == pytest.approx(2.3669, abs=1e-4)
    assert delta_e2000(np.array([50, 2.5, 0]), np.array([73, 25, -18])) == pytest.approx(27.1492, abs=1e-4)


def test_the_simulation_confuses_what_colour_blind_people_confuse():
    # matplotlib's default red and green, and its orange and green: the pairs this test exists to catch
    assert closest(["#D62728", "#2CA02C"], "deuteranopia")[0] < 6
    assert closest(["#FF7F0E", "#2CA02C"], "protanopia")[0] < 3
    assert closest(["#D62728", "#2CA02C"], "normal")[0] > 60  # while normal vision tells them apart easily


CATEGORICAL = {  # the sets of colours that appear together on one chart
    "series (runs, arms, stages, lines)": palette.LINES,
    "a pair (training and validation, input and output)": (palette.FIRST, palette.SECOND),
    "the top class against the rest": (palette.HIGHLIGHT, palette.REST),
    "the right answer against the others": (palette.RIGHT, palette.OTHER),
    "padding against a dropped cell": (palette.PAD_FILL, plots.AR_DROP_COLOUR),  # each also its own hatch
}


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
@pytest.mark.parametrize("name", list(CATEGORICAL))
def test_every_pair_of_a_charts_colours_stays_apart_for_each_kind_of_colour_blindness(name: str, vision: str):
    worst, a, b = closest(CATEGORICAL[name], vision)
    assert worst >= DISTINCT, f"{name}: {a} and {b} are only ΔE00 {worst:.1f} apart for {vision}"


def _scale_colour(name: str, at: float) -> str:
    r, g, b = plotly.colors.unlabel_rgb(plotly.colors.sample_colorscale(name, [at])[0])
    return f"#{round(r):02X}{round(g):02X}{round(b):02X}"


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_signed_values_of_the_same_size_keep_apart_and_apart_from_zero(vision: str):
    for lo, hi in ((0.0, 1.0), (0.25, 0.75), (0.35, 0.65)):  # -v against +v, from the ends to near zero
        a, b = _scale_colour(palette.DIVERGING, lo), _scale_colour(palette.DIVERGING, hi)
        assert delta_e2000(seen(a, vision), seen(b, vision)) >= 2 * DISTINCT, (lo, hi)
    zero = _scale_colour(palette.DIVERGING, 0.5)
    for end in (0.0, 1.0):
        assert delta_e2000(seen(_scale_colour(palette.DIVERGING, end), vision), seen(zero, vision)) >= 5 * DISTINCT
    for lo, hi in ((0.0, 1.0), (0.25, 0.75)):  # magnitudes: cividis stays ordered by lightness for everyone
        a, b = seen(_scale_colour(palette.SEQUENTIAL, lo), vision), seen(_scale_colour(palette.SEQUENTIAL, hi), vision)
        assert b[0] - a[0] > 20 and delta_e2000(a, b) >= 2 * DISTINCT


def _luminance(colour: str) -> float:
    r, g, b = _linear(_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_first_five_series_colours_keep_3_to_1_contrast_with_the_white_chart():
    # WCAG 1.4.11: a line a learner must see; an experiment has at most five arms
    for colour in palette.LINES[:5]:
        assert 1.05 / (_luminance(colour) + 0.05) >= 3.0, colour
    assert palette.YELLOW not in palette.LINES  # 1.1:1 on white


def test_charts_and_still_pictures_draw_in_the_same_palette_and_scales():
    assert palette.OKABE_ITO == pictures.OKABE_ITO  # diagram.py and pictures index into the same list
    assert (palette.DIVERGING, palette.SEQUENTIAL) == (pictures.DIVERGING, pictures.SEQUENTIAL)


# --- no builder draws outside the palette ---------------------------------------------------------------

NAMED = {"black": "#000000", "white": "#FFFFFF"}
COLOUR_KEYS = {"color", "fillcolor", "bgcolor", "plot_bgcolor", "paper_bgcolor", "bordercolor", "outlinecolor"}


def _normal(colour: str) -> str:
    """A colour as #RRGGBB (rgba with alpha 0 as the palette's TRANSPARENT)."""
    c = str(colour).strip()
    c = NAMED.get(c.lower(), c)
    if re.fullmatch(r"#[0-9a-fA-F]{3}", c):
        c = "#" + "".join(ch * 2 for ch in c[1:])
    m = re.fullmatch(r"rgba?\(([^)]*)\)", c.replace(" ", ""))
    if m:
        parts = [float(p) for p in m.group(1).split(",")]
        if len(parts) == 4 and parts[3] == 0:
            return palette.TRANSPARENT
        c = "#" + "".join(f"{round(p):02X}" for p in parts[:3])
    return c.upper()


ALLOWED = {_normal(c) for c in palette.ALLOWED}


def _stops(scale) -> list[tuple[float, str]]:
    return [(round(float(at), 6), _normal(colour)) for at, colour in scale]


SCALES = {name: _stops(plotly.colors.get_colorscale(name)) for name in palette.ALLOWED_SCALES}


def colours_of(fig) -> tuple[set[str], list]:
    """Every colour a figure draws with (its template aside: Streamlit's theme replaces it), and its scales."""
    found: set[str] = set()
    scales: list = []

    def walk(node, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "template":
                    continue
                if k == "colorscale":
                    scales.append(v)
                elif k in COLOUR_KEYS and isinstance(v, str):
                    found.add(_normal(v))
                elif k in COLOUR_KEYS and isinstance(v, list | tuple | np.ndarray):
                    found.update(_normal(c) for c in v if isinstance(c, str))
                else:
                    walk(v, k)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v, key)

    walk({"data": [t.to_plotly_json() for t in fig.data], "layout": fig.layout.to_plotly_json()})
    return found, scales


EVALS = [SimpleNamespace(epoch_fraction=1.0, val_loss=1.6, train_acc=0.5, val_acc=0.4, step=10)]
STEPS = [SimpleNamespace(epoch_fraction=0.5, loss=2.0)]
V = np.array([[1.0, -2.5, 0.0], [0.125, 3.0, -1.0]])
ONE_SIGN = np.abs(V)
PAD = np.array([[True, False, False], [False, False, False]])
BUILDERS = {  # every builder of app.plots (diagram.py's below), with small inputs; arms and stages x 7
    "series_plot": lambda: plots.series_plot(np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0])),
    "training_curves": lambda: plots.training_curves(STEPS, EVALS),
    "comparison_curves": lambda: curves.comparison_curves({f"run {i}": EVALS for i in range(7)}),
    "runs_overlay": lambda: plots.runs_overlay(
        [f"r{i}" for i in range(7)], [[1, 2]] * 7, [[0.1, 0.2]] * 7, y_title="accuracy", percent=True
    ),  # fmt: skip
    "arm_curves": lambda: plots.arm_curves([f"a{i}" for i in range(7)], [[1]] * 7, [[0.1]] * 7, [[0.2]] * 7),
    "gap_bars": lambda: plots.gap_bars(["a", "b"], [0.5, None], [0.4, 0.3]),
    "batch_norm_bars": lambda: plots.batch_norm_bars(["c1", "c2"], [np.ones(2)] * 3, [np.ones(2)] * 3, ["x", "y", "z"]),
    "dropout_strip": lambda: plots.dropout_strip(np.ones(3), np.array([1, 0, 1], bool), np.ones(3), np.ones(3)),
    "tiled_maps": lambda: plots.tiled_maps(V, V, np.zeros(V.shape, int), diverging=True, zrange=(-3, 3)),
    "tiled_maps (magnitudes)": lambda: plots.tiled_maps(
        ONE_SIGN, ONE_SIGN, np.zeros(V.shape, int), diverging=False, zrange=(0, 3)
    ),  # fmt: skip
    "accuracy_over_time": lambda: plots.accuracy_over_time(["s", "e"], [0.1, 0.9], 1),
    "matrix_heatmap": lambda: plots.matrix_heatmap(V, hatched=PAD),
    "matrix_heatmap (pixels)": lambda: plots.matrix_heatmap(ONE_SIGN * 80, pixels=True),
    "matrix_heatmap (magnitudes)": lambda: plots.matrix_heatmap(ONE_SIGN, diverging=False),
    "grid": lambda: plots.grid(
        V,
        plots.GridMarks(
            padding=PAD, dropped=~PAD, window=((0, 1), (0, 1)), current=(0, 0), kept=[(0, 1)], clickable=True
        ),
    ),  # fmt: skip
    "grid (one sign)": lambda: plots.grid(ONE_SIGN),
    "poll_histogram": lambda: classroom.poll_histogram({"3": 2, "4": 1}, right="4"),
}


def _outside(fig) -> list[str]:
    found, scales = colours_of(fig)
    problems = sorted(found - ALLOWED)
    for scale in scales:
        if isinstance(scale, str):
            ok = scale in palette.ALLOWED_SCALES
        else:
            stops = _stops(scale)
            ok = stops in SCALES.values() or {c for _, c in stops} <= ALLOWED
        if not ok:
            problems.append(f"colour scale {scale!r}")
    return problems


@pytest.mark.parametrize("name", list(BUILDERS))
def test_no_figure_builder_draws_a_colour_outside_the_palette_module(name: str):
    fig = BUILDERS[name]()
    found, scales = colours_of(fig)
    assert found or scales, "the walk found no colour at all: it would pass anything"
    assert not _outside(fig), f"{name} draws with {_outside(fig)}, which app.palette does not hold"


def test_the_colour_check_catches_a_colour_from_outside_the_palette():
    fig = plots.series_plot(np.array([1.0, 2.0]), np.array([1.0]))
    fig.data[0].line.color = "#FF0000"
    fig.data[1].marker.color = "green"
    assert set(_outside(fig)) == {"#FF0000", "GREEN"}
    fig = plots.matrix_heatmap(V)
    fig.data[0].colorscale = "RdYlGn"
    assert _outside(fig) and "RdYlGn" not in palette.ALLOWED_SCALES


def test_the_architecture_diagram_draws_in_the_palette_too():
    # the diagram is an SVG picture (app.plots.diagram.Diagram); the receptive field a plotly figure
    blocks = [("input", "input", (1, 28, 28)), ("conv 3x3", "conv", (8, 26, 26)), ("dense", "dense", (10,)),
              ("res", "residual", (8, 26, 26), (("x", (8, 26, 26)),))]  # fmt: skip
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", diagram.architecture_diagram(blocks).html()).group(1)).decode()
    drawn = set(re.findall(r'(?:fill|stroke)="([^"]+)"', svg)) - {"none"}
    assert {palette.BLUE, palette.BLACK} <= drawn and drawn <= ALLOWED, sorted(drawn - ALLOWED)
    picture = np.zeros((8, 8, 3), np.uint8)
    fig = diagram.receptive_field_picture(picture, [("conv", 1, 3, 1, 3)])
    assert not _outside(fig), _outside(fig)
