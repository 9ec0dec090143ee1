"""Plot builders: one pure function per figure, each returning a plotly ``Figure``; no ``st.*`` here.

Colours come from colour-blind-safe palettes (Okabe-Ito for categories, cividis / a
blue-orange diverging scale for values), and no figure relies on colour alone: values are
also written in the cells or shown on hover.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
DIVERGING = "RdBu"  # red-blue reads for red-green colour blindness; zero is white
SEQUENTIAL = "cividis"


def _base_layout(fig: go.Figure, *, height: int | None = None) -> go.Figure:
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), height=height)
    return fig


def _fmt(v: float) -> str:
    """Short number for a grid cell: integers plainly, others with up to 3 significant digits."""
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.3g}"


def matrix_heatmap(
    values: np.ndarray,
    *,
    title: str = "",
    hatched: np.ndarray | None = None,
    diverging: bool = True,
    cell_px: int = 44,
) -> go.Figure:
    """A small matrix drawn as a grid with every value written in its cell.

    ``hatched`` marks cells (e.g. padding) with a dotted pattern so they differ without colour.
    """
    v = np.asarray(values, dtype=float)
    text = [[_fmt(x) for x in row] for row in v]
    top = float(np.abs(v).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=v,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 14 if max(v.shape) <= 7 else 11},
            colorscale=DIVERGING if diverging else SEQUENTIAL,
            zmin=-top if diverging else None,
            zmax=top if diverging else None,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>",
        )
    )
    if hatched is not None and np.asarray(hatched).any():
        ys, xs = np.nonzero(hatched)
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers", marker={"symbol": "x-thin-open", "size": cell_px * 0.7, "color": "#777"},
                hoverinfo="skip", showlegend=False,
            )
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(showticklabels=False, constrain="domain")
    side = max(v.shape)
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        margin=dict(l=4, r=4, t=32 if title else 4, b=4),
        height=min(60 + cell_px * side, 480),
        plot_bgcolor="white",
    )
    return fig
