"""The Experiments page's figures: runs' curves overlaid, an experiment's train/held-out gap, and the
batch-norm and dropout explainers. Pure functions returning plotly figures; no ``st.*``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.palette import DIVERGING, FIRST, SECOND, series_colour

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
_MARGIN = dict(l=10, r=10, t=10, b=10)
# Sizes set here, not left to the theme: Streamlit's theme writes unset ones into the figure relative to the
# page's font (15 px in presentation mode), where app.plots.for_projector cannot scale them to 18 px.
_FONT = {"size": 12}
_LEGEND = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": _FONT}  # on top: the x ticks stay clear
_AXIS = {"tickfont": _FONT, "title_font": _FONT}


def _style(i: int) -> tuple[str, str, str]:
    """Colour, dash and marker of the i-th run: never colour alone."""
    return series_colour(i), DASHES[i % len(DASHES)], SYMBOLS[i % len(SYMBOLS)]


def runs_overlay(
    labels: Sequence[str], xs: Sequence[Sequence[float]], ys: Sequence[Sequence[float]], *, y_title: str,
    percent: bool = False,
) -> go.Figure:  # fmt: skip
    """One line per run against epochs (each its own colour, dash and marker)."""
    fig = go.Figure()
    for i, (label, x, y) in enumerate(zip(labels, xs, ys, strict=True)):
        colour, dash, symbol = _style(i)
        values = [100 * v for v in y] if percent else list(y)
        fig.add_trace(go.Scatter(x=list(x), y=values, name=label, mode="lines+markers",
                                 line={"color": colour, "dash": dash}, marker={"symbol": symbol, "size": 6}))  # fmt: skip
    fig.update_xaxes(title_text="epochs", rangemode="tozero", **_AXIS)
    fig.update_yaxes(title_text=y_title, **_AXIS, **({"range": [0, 100.5]} if percent else {"rangemode": "tozero"}))
    fig.update_layout(height=380, margin=_MARGIN, legend=_LEGEND)
    return fig


def arm_curves(
    names: Sequence[str], xs: Sequence[Sequence[float]], train: Sequence[Sequence[float]],
    held_out: Sequence[Sequence[float]],
) -> go.Figure:  # fmt: skip
    """Each arm's training accuracy (top) and held-out accuracy (below) against epochs, in %: stacked, each
    panel the chart's full width (side by side, the panels' titles ran out of a half-width chart)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)
    for i, (name, x, tr, ho) in enumerate(zip(names, xs, train, held_out, strict=True)):
        colour, dash, symbol = _style(i)
        style = {"line": {"color": colour, "dash": dash}, "marker": {"symbol": symbol, "size": 5}}
        fig.add_trace(go.Scatter(x=list(x), y=[100 * v for v in tr], name=name, legendgroup=name, mode="lines+markers",
                                 **style), row=1, col=1)  # fmt: skip
        fig.add_trace(go.Scatter(x=list(x), y=[100 * v for v in ho], name=name, legendgroup=name, showlegend=False,
                                 mode="lines+markers", **style), row=2, col=1)  # fmt: skip
    fig.update_xaxes(rangemode="tozero", **_AXIS)
    fig.update_xaxes(title_text="epochs", row=2, col=1)
    fig.update_yaxes(range=[0, 100.5], **_AXIS)
    fig.update_yaxes(title_text="training, %", row=1, col=1)
    fig.update_yaxes(title_text="held-out, %", row=2, col=1)
    fig.update_layout(height=460, margin=_MARGIN, legend=_LEGEND)
    return fig


def gap_bars(names: Sequence[str], train: Sequence[float | None], held_out: Sequence[float | None]) -> go.Figure:
    """Training against held-out accuracy per arm, as pairs of bars with their values written on them.

    The bars lie on their side, an arm's name on the left of its pair: five names under upright bars
    ran into one another on a phone and at 1024x768 in presentation mode ("augmentation", "batch norm").
    """
    fig = go.Figure()
    for label, values, colour, pattern in (("training (all images, evaluation mode)", train, FIRST, ""),
                                           ("held-out", held_out, SECOND, "/")):  # fmt: skip
        x = [None if v is None else 100 * v for v in values]
        fig.add_trace(go.Bar(y=list(names), x=x, name=label, orientation="h",
                             marker={"color": colour, "pattern": {"shape": pattern}},
                             text=["–" if v is None else f"{v:.1f}%" for v in x], textposition="outside",
                             textfont=_FONT, cliponaxis=False))  # fmt: skip
    fig.update_xaxes(title_text="% correct", range=[0, 118], **_AXIS)
    fig.update_yaxes(autorange="reversed", **_AXIS)  # the first arm on top, as in the table
    fig.update_layout(barmode="group", height=150 + 60 * len(names), margin=_MARGIN, legend=_LEGEND)
    return fig


def batch_norm_bars(
    channels: Sequence[str], means: Sequence[np.ndarray], stds: Sequence[np.ndarray], stages: Sequence[str]
) -> go.Figure:
    """Per-channel mean (top) and spread (below) at each stage (before the layer, training, evaluation mode).

    The two panels are stacked, each the chart's full width, and the bars carry no numbers (twelve bars
    to a panel leave no room for them on a projector or a phone: the table under the chart has them,
    and hovering a bar shows its value). A channel's name breaks onto two lines at its first space.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12)
    for i, (stage, mean, std) in enumerate(zip(stages, means, stds, strict=True)):
        colour = series_colour(i)
        pattern = ("", "/", ".", "x")[i % 4]
        for row, values, what in ((1, mean, "mean"), (2, std, "spread")):
            fig.add_trace(
                go.Bar(x=list(channels), y=[float(v) for v in values], name=stage, legendgroup=stage,
                       showlegend=row == 1, marker={"color": colour, "pattern": {"shape": pattern}},
                       hovertemplate=f"%{{x}}, {stage}: {what} %{{y:.3f}}<extra></extra>"),
                row=row, col=1,
            )  # fmt: skip
    fig.update_xaxes(**_AXIS)
    fig.update_yaxes(**_AXIS)
    fig.update_xaxes(tickvals=list(channels), ticktext=[c.replace(" ", "<br>", 1) for c in channels], row=2, col=1,
                     automargin=True)  # fmt: skip
    # l=40, r=40: the first and last channels' names ("Laplacian", "Sharpen") are centred on their groups and ran out
    # of a tablet-wide chart
    fig.update_yaxes(title_text="mean", row=1, col=1)
    fig.update_yaxes(title_text="spread (SD)", rangemode="tozero", row=2, col=1)
    fig.update_layout(
        barmode="group", height=440, margin=dict(l=40, r=40, t=10, b=10),
        legend=_LEGEND,
    )  # fmt: skip
    return fig


def dropout_strip(x: np.ndarray, keep: np.ndarray, train_out: np.ndarray, eval_out: np.ndarray) -> go.Figure:
    """Four rows of values: the input, the random mask, the output while training and in evaluation mode."""
    rows = ["input x", "mask (1 = kept)", "training: x · mask / (1 − p)", "evaluation: x"]
    z = np.vstack([x, keep.astype(float), train_out, eval_out])  # (4, N)
    text = [[f"{v:.2f}" for v in x], ["1" if k else "0" for k in keep], [f"{v:.2f}" for v in train_out],
            [f"{v:.2f}" for v in eval_out]]  # fmt: skip
    top = float(np.abs(z).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z[::-1],
            y=rows[::-1],
            x=[str(i + 1) for i in range(z.shape[1])],
            text=text[::-1],
            texttemplate="%{text}",
            colorscale=DIVERGING,
            zmin=-top,
            zmax=top,
            showscale=False,
            hovertemplate="%{y}, value %{x}: %{text}<extra></extra>",
            xgap=2,
            ygap=2,
        )  # fmt: skip
    )
    fig.update_xaxes(title_text="value number", side="top", **_AXIS)
    fig.update_yaxes(**_AXIS)
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=50, b=10))
    return fig
