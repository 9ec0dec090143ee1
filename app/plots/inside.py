"""Figures of "Inside the model": tiled feature maps and kernels, the confusion matrix, class
probabilities and accuracy over a run's snapshots."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.palette import BLACK, DIVERGING, FIRST, HIGHLIGHT, REST, SECOND, SEQUENTIAL, TRANSPARENT, WHITE
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


def confusion_heatmap(
    values: np.ndarray,
    counts: np.ndarray,
    classes: tuple[str, ...] | list[str],
    *,
    normalised: bool,
    selected: tuple[int, int] | None = None,
) -> go.Figure:
    """Confusion matrix: rows = true class, columns = predicted class, every cell written out.

    An invisible marker sits on every cell so that a click on it can be reported (heatmaps alone
    do not report selections); the selected cell gets a thick outline, not only a colour.
    """
    k = len(classes)
    names = [str(c) for c in classes]
    zmax = 1.0 if normalised else float(max(1, int(counts.max())))
    row_tot = np.maximum(counts.sum(axis=1), 1)
    # What a cell says, for its table (app.plots.table): the heatmap does not draw it, the markers below do.
    said = [[f"{100 * counts[t, p] / row_tot[t]:.0f}% ({int(counts[t, p])})" if normalised else str(int(counts[t, p]))
             for p in range(k)] for t in range(k)]  # fmt: skip
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=names,
            y=names,
            text=said,
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=zmax,
            showscale=True,
            colorbar={
                "title": {"text": "% of the true class" if normalised else "images", "side": "right"},
                "thickness": 12,
            },
            xgap=1,
            ygap=1,
            hoverinfo="skip",
        )
    )
    tt, pp = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    hover = [
        f"true {names[t]}, predicted {names[p]}: {int(counts[t, p])} images ({100 * counts[t, p] / row_tot[t]:.1f}% of {names[t]})"
        for t, p in zip(tt.ravel(), pp.ravel(), strict=True)
    ]
    flat_v, flat_c = values[tt, pp].ravel(), counts[tt, pp].ravel()
    # Cell text as a scatter trace so each number can be black on light cells and white on dark ones.
    # Shares are written as percent numbers without the sign (the colour bar says "% of the true class"):
    # "100%" spilled out of the cells of the small matrices beside each other on "Over time".
    text = [
        ("" if c == 0 else f"{100 * v:.0f}") if normalised else str(int(c)) for v, c in zip(flat_v, flat_c, strict=True)
    ]
    ink = [BLACK if v / zmax > 0.55 else WHITE for v in flat_v]
    fig.add_trace(
        go.Scatter(
            x=[names[p] for p in pp.ravel()],
            y=[names[t] for t in tt.ravel()],
            mode="markers+text",
            text=text,
            textfont={"size": 11 if k <= 10 else 9, "color": ink},
            marker={"size": 28 if k <= 10 else 16, "opacity": 0, "symbol": "square"},
            hovertext=hover,
            hoverinfo="text",
            customdata=np.stack([tt.ravel(), pp.ravel()], axis=1),
            showlegend=False,
        )
    )
    if selected is not None:
        t, p = selected
        for colour, width in ((BLACK, 6), (WHITE, 2)):  # visible on dark and on light cells
            fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5,
                          line={"color": colour, "width": width}, fillcolor=TRANSPARENT)  # fmt: skip
    fig.update_yaxes(autorange="reversed", title_text="true class", type="category", scaleanchor="x", showgrid=False)
    fig.update_xaxes(title_text="predicted class", type="category", side="top", showgrid=False)
    fig.update_layout(height=140 + 40 * min(k, 15), margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor=WHITE,
                      dragmode=False, clickmode="event+select")  # fmt: skip
    return fig


def probability_bars(names: list[str], probs: np.ndarray, *, title: str = "") -> go.Figure:
    """Horizontal bars of class probabilities, largest on top, each labelled with its percentage."""
    order = np.argsort(-np.asarray(probs))
    fig = go.Figure(
        go.Bar(
            x=[100 * float(probs[i]) for i in order],
            y=[str(names[i]) for i in order],
            orientation="h",
            text=[f"{100 * float(probs[i]):.1f}%" for i in order],
            textposition="outside",
            marker={"color": [HIGHLIGHT] + [REST] * (len(order) - 1)},
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 115], title_text="probability (%)")
    # The title at the left and a 36 px top margin: plotly's toolbar, shown at the top right on hover, covers nothing.
    fig.update_layout(title={"text": title, "font": {"size": 14}, "x": 0, "xanchor": "left"}, height=86 + 28 * len(order),
                      margin=dict(l=10, r=10, t=36, b=10))  # fmt: skip
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
