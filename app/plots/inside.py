"""Figures of "Inside the model": tiled feature maps and kernels, and accuracy over a run's snapshots
(the confusion matrix and the class probabilities are HTML, in :mod:`app.inside`)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.palette import DIVERGING, FIRST, SECOND, SEQUENTIAL, WHITE
from app.plots.table import PICTURE


def tiled_maps(
    values: np.ndarray,
    raw: np.ndarray,
    index: np.ndarray,
    *,
    diverging: bool,
    zrange: tuple[float, float],
    colourbar: str = "value",
    name: str = "map",
    grid: tuple[str, str, int] | None = None,
    max_width_px: int = 1100,
    max_cell_px: float = 16,
) -> go.Figure:
    """Many small maps tiled in one heatmap (NaN gaps between them); hover names the map and its raw value.

    ``values`` is what is coloured (possibly scaled per map), ``raw`` the true numbers shown on hover,
    ``index`` which map each cell belongs to (-1 in the gaps). Hover calls map ``n`` "``name`` n+1"
    ("map 1", "channel 3"); with ``grid = (row word, column word, columns)`` maps laid out in a grid of
    that many columns are named by their row and column instead ("output 2, input 5").

    Everything sent is numbers (the map's number, the raw value only where it differs from the colour),
    so the figure goes to the browser as compact typed arrays, not as a string for every pixel.
    """
    h, w = values.shape
    number = index.astype(np.int32) + 1  # (h, w): 0 in the gaps, which hover skips
    if grid is None:
        ids, who = [number], f"{name} %{{customdata[0]}}"
    else:
        row_word, col_word, cols = grid
        ids = [np.where(index >= 0, index // cols + 1, 0), np.where(index >= 0, index % cols + 1, 0)]
        who = f"{row_word} %{{customdata[0]}}, {col_word} %{{customdata[1]}}"
    if np.array_equal(raw, values, equal_nan=True):  # the colours are the numbers: hover reads z
        custom = np.stack(ids, axis=-1).astype(np.int16)  # (h, w, 1 or 2)
        value = "%{z:.3g}"
    else:
        custom = np.stack([*ids, np.round(np.nan_to_num(raw), 4)], axis=-1).astype(np.float32)  # (h, w, 2 or 3)
        value = f"%{{customdata[{len(ids)}]:.3g}}"
    fig = go.Figure(
        go.Heatmap(
            z=values.astype(np.float32),  # 4 bytes a cell: hover shows 3 significant digits
            customdata=custom,
            colorscale=DIVERGING if diverging else SEQUENTIAL,
            zmin=zrange[0],
            zmax=zrange[1],
            hovertemplate=f"{who}<br>value {value}<extra></extra>",
            hoverongaps=False,
            colorbar={"title": {"text": colourbar, "side": "right"}, "thickness": 12},
        )
    )
    px = float(np.clip(max_width_px / max(w, 1), 1.5, max_cell_px))
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x", constrain="domain", showgrid=False)
    fig.update_xaxes(showticklabels=False, constrain="domain", showgrid=False)
    fig.update_layout(
        margin=dict(l=4, r=4, t=4, b=4),
        height=int(min(max(h * px, 120), 900)) + 8,  # at least tall enough for a readable colour bar
        width=int(min(w * px, max_width_px)) + 90,
        plot_bgcolor=WHITE,
        meta={"table": PICTURE},  # a picture: app.plots.table notes it, it does not list its pixels
    )
    return fig


def accuracy_over_time(labels: list[str], accs: list[float], selected: int) -> go.Figure:
    """Accuracy at each training snapshot, with the one being shown marked by a large diamond."""
    fig = go.Figure(
        go.Scatter(
            x=labels,
            y=[100 * a for a in accs],
            mode="lines+markers",
            name="accuracy",
            line={"color": FIRST},
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[labels[selected]],
            y=[100 * accs[selected]],
            mode="markers",
            name="shown",
            marker={"symbol": "diamond", "size": 16, "color": SECOND},
            hoverinfo="skip",
        )
    )
    fig.update_yaxes(title_text="% correct", range=[0, 100.5])
    fig.update_xaxes(type="category", tickangle=-40, automargin=True)  # slanted: level moments' names ran together
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=36, b=10), showlegend=False)  # t: room for the toolbar
    return fig
