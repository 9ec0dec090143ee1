"""The network's architecture as the usual textbook figure: feature-map volumes from input to output."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.pictures import OKABE_ITO


def _base_layout(fig: go.Figure, *, height: int | None = None) -> go.Figure:
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), height=height)
    return fig


_ARCH_COLOURS = {  # Okabe-Ito; every box is also labelled with its layer type
    "input": "#999999",
    "conv": OKABE_ITO[4],
    "pool": OKABE_ITO[0],
    "flatten": OKABE_ITO[2],
    "gap": OKABE_ITO[2],
    "dense": OKABE_ITO[5],
}


def _rgba(hex_colour: str, alpha: float, shade: float = 1.0) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({int(r * shade)},{int(g * shade)},{int(b * shade)},{alpha})"


def architecture_diagram(blocks: list[tuple[str, str, tuple[int, ...]]]) -> go.Figure:
    """Feature-map volumes from input to output, as in the usual textbook figure.

    Parameters
    ----------
    blocks : list of (label, kind, shape)
        ``kind`` is ``"input"``, ``"conv"``, ``"pool"``, ``"flatten"``, ``"gap"`` or ``"dense"``;
        ``shape`` is ``(C, H, W)`` (drawn as a box: height ~ H, depth ~ W, thickness ~ channels) or
        ``(N,)`` (drawn as a thin bar whose height grows with log N). Sizes are compressed (square
        root for H and W, logarithm for C and N) so that a 227-pixel input and a 6-pixel map both fit.
    """
    fig = go.Figure()
    maps = [s for _, _, s in blocks if len(s) == 3]
    h_max = max((s[1] for s in maps), default=1)
    w_max = max((s[2] for s in maps), default=1)
    c_max = max((s[0] for s in maps), default=1)
    n_max = max((s[0] for _, _, s in blocks if len(s) == 1), default=1)
    x = 0.0
    tallest = 1.0
    for i, (label, kind, shape) in enumerate(blocks):
        colour = _ARCH_COLOURS.get(kind, OKABE_ITO[6])
        size_text = "×".join(str(v) for v in shape)
        if len(shape) == 3:
            c, h, w = shape
            hgt = 0.8 + 4.2 * np.sqrt(h / h_max)
            dep = (0.8 + 4.2 * np.sqrt(w / w_max)) * 0.45
            thick = 0.15 + 1.2 * np.log2(c + 1) / np.log2(c_max + 1)
        else:
            hgt = 0.8 + 4.2 * np.log10(shape[0] + 1) / np.log10(n_max + 1)
            dep, thick = 0.0, 0.25
        bot, top = -hgt / 2, hgt / 2
        dx = dy = dep * 0.6
        faces = [
            ([x, x + thick, x + thick, x, x], [bot, bot, top, top, bot], 0.85, 1.0),  # front
            ([x, x + thick, x + thick + dx, x + dx, x], [top, top, top + dy, top + dy, top], 0.55, 1.0),  # top
            ([x + thick, x + thick + dx, x + thick + dx, x + thick, x + thick], [bot, bot + dy, top + dy, top, bot],
             0.85, 0.7),  # side
        ]  # fmt: skip
        hover = f"{label}<br>{'C×H×W' if len(shape) == 3 else 'values'}: {size_text}"
        for fx, fy, alpha, shade in faces if dep > 0 else faces[:1]:
            fig.add_trace(
                go.Scatter(
                    x=fx, y=fy, fill="toself", mode="lines", line=dict(color="#333333", width=1),
                    fillcolor=_rgba(colour, alpha, shade), hoverinfo="text", hovertext=hover, showlegend=False,
                )
            )  # fmt: skip
        tallest = max(tallest, top + dy)
        fig.add_annotation(
            x=x + (thick + dx) / 2, y=-3.0 - 0.9 * (i % 2), text=f"<b>{label}</b><br>{size_text}",
            showarrow=False, font=dict(size=11), yanchor="top",
        )  # fmt: skip
        x += thick + dx + 0.9
    fig.update_xaxes(visible=False, range=[-0.6, max(x, 4.0)])
    fig.update_yaxes(visible=False, range=[-5.4, max(tallest, 3.0) + 0.3], scaleanchor="x", scaleratio=1)
    fig.update_layout(plot_bgcolor="white", hovermode="closest")
    return _base_layout(fig, height=380)
