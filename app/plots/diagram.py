"""The network's architecture as the usual textbook figure: feature-map volumes from input to output,
with an inception module's branches drawn side by side and a residual block's shortcut as an arc; and
a unit's receptive field drawn on a picture, layer by layer."""

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
    "residual": OKABE_ITO[1],
    "inception": OKABE_ITO[3],
}
BRANCH_W = 2.6  # width of an inception branch's bar, room for "pool 3x3, 1x1→128"
FONT = 11  # px of every text in the diagram at scale 1 (x 1.5 on a projector: 16.5 px)
Block = tuple  # (label, kind, shape) or (label, kind, shape, branches): branches = ((label, shape), ...)


def _rgba(hex_colour: str, alpha: float, shade: float = 1.0) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({int(r * shade)},{int(g * shade)},{int(b * shade)},{alpha})"


def _branches(fig: go.Figure, x: float, x_prev: float, branches: tuple, colour: str, compact: bool,
              font: float) -> float:  # fmt: skip
    """An inception module's branches as a column of bars joined to the maps before and after; labelled
    unless ``compact`` (many modules, or a projector: the labels are in the bars' hover text); one line each,
    so that the labels of neighbouring branches never overlap."""
    n, width = len(branches), 0.7 if compact else BRANCH_W
    for j, (label, shape) in enumerate(branches):
        y = 1.9 - 3.8 * j / max(n - 1, 1)
        fig.add_trace(
            go.Scatter(
                x=[x, x + width, x + width, x, x], y=[y - 0.4, y - 0.4, y + 0.4, y + 0.4, y - 0.4], fill="toself",
                mode="lines", line=dict(color="#333333", width=1), fillcolor=_rgba(colour, 0.45), hoverinfo="text",
                hovertext=f"branch {label}: {'×'.join(map(str, shape))}", showlegend=False,
            )
        )  # fmt: skip
        if not compact:
            fig.add_annotation(
                x=x + width / 2, y=y, text=f"{label}: {shape[0]} ch", showarrow=False, font=dict(size=font)
            )
        for x0, x1 in ((x_prev, x), (x + width, x + width + 0.6)):
            fig.add_trace(
                go.Scatter(x=[x0, x1], y=[0 if x1 == x else y, y if x1 == x else 0], mode="lines",
                           line=dict(color="#777777", width=1), hoverinfo="skip", showlegend=False)
            )  # fmt: skip
    return x + width + 0.6


def _shortcut(fig: go.Figure, x0: float, x1: float, top: float, label: str, font: float) -> None:
    """A residual block's shortcut: an arc over the block from the map before it to the sum after it."""
    t = np.linspace(0, np.pi, 25)
    xs = x0 + (x1 - x0) * (1 - np.cos(t)) / 2
    fig.add_trace(
        go.Scatter(x=xs, y=top + 0.9 * np.sin(t), mode="lines", line=dict(color="#333333", width=1.5, dash="dot"),
                   hoverinfo="text", hovertext=f"shortcut: {label}", showlegend=False)
    )  # fmt: skip
    fig.add_annotation(x=(x0 + x1) / 2, y=top + 0.9, text=f"+ {label}", showarrow=False, yanchor="bottom",
                       font=dict(size=font))  # fmt: skip


def architecture_diagram(blocks: list[Block], scale: float = 1.0) -> go.Figure:
    """Feature-map volumes from input to output, as in the usual textbook figure.

    Parameters
    ----------
    blocks : list of (label, kind, shape) or (label, kind, shape, branches)
        ``kind`` is ``"input"``, ``"conv"``, ``"pool"``, ``"flatten"``, ``"gap"``, ``"dense"``,
        ``"residual"`` or ``"inception"``; ``shape`` is ``(C, H, W)`` (drawn as a box: height ~ H,
        depth ~ W, thickness ~ channels) or ``(N,)`` (drawn as a thin bar whose height grows with log N).
        Sizes are compressed (square root for H and W, logarithm for C and N) so that a 227-pixel input
        and a 6-pixel map both fit. ``branches``: for an inception module, ``(label, shape)`` of each
        branch, drawn side by side before the concatenated map; for a residual block, one
        ``(label, shape)`` for its shortcut (``"x"``, ``"1x1 projection"``), drawn as an arc over the
        block, or none for a plain block.
    scale : float
        Every text, the figure's height and the strip of labels under it grow by this factor (1.5 on a
        projector). The labels stand in that strip in rows a fixed number of pixels apart, so two
        neighbours never overlap however wide the screen; the boxes keep their proportions.
    """
    font = FONT * scale
    fig = go.Figure()
    maps = [b[2] for b in blocks if len(b[2]) == 3]
    h_max = max((s[1] for s in maps), default=1)
    w_max = max((s[2] for s in maps), default=1)
    c_max = max((s[0] for s in maps), default=1)
    n_max = max((b[2][0] for b in blocks if len(b[2]) == 1), default=1)
    x = 0.0
    tallest = 1.0
    x_prev, top_prev = 0.0, 0.0  # the middle and top of the map before
    n_inception = sum(b[1] == "inception" for b in blocks)
    rows = 2 if len(blocks) <= 5 else 3 if len(blocks) <= 12 else 4  # label rows under the maps
    row_px = round(2.9 * font)  # two lines of text and a gap
    for i, (label, kind, shape, *rest) in enumerate(blocks):
        branches = tuple(rest[0]) if rest else ()
        colour = _ARCH_COLOURS.get(kind, OKABE_ITO[6])
        if kind == "inception" and branches:
            compact = n_inception > 3 or scale > 1  # a projector's large labels would run over the bars and maps
            x = _branches(fig, x, x_prev, branches, colour, compact=compact, font=font)
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
        if kind == "residual" and branches:
            _shortcut(fig, x_prev, x + (thick + dx) / 2, max(top_prev, top + dy), branches[0][0], font)
            tallest = max(tallest, max(top_prev, top + dy) + 1.5)
        x_prev, top_prev = x + (thick + dx) / 2, top + dy
        tallest = max(tallest, top + dy)
        ends = {0: ("left", x), len(blocks) - 1: ("right", x + thick + dx)}  # the first and last stay inside
        anchor, at = ends.get(i, ("center", x + (thick + dx) / 2))
        fig.add_annotation(
            x=at, xanchor=anchor, y=0, yref="y domain", yanchor="top", yshift=-4 - row_px * (i % rows),
            text=f"<b>{label}</b><br>{size_text}", showarrow=False, font=dict(size=font),
        )  # fmt: skip
        x += thick + dx + 0.9
    fig.update_xaxes(visible=False, range=[-0.6, max(x, 4.0)])
    fig.update_yaxes(visible=False, range=[-2.8, max(tallest, 3.0) + 0.3], scaleanchor="x", scaleratio=1,
                     constrain="domain")  # fmt: skip
    fig.update_layout(plot_bgcolor="white", hovermode="closest")
    _base_layout(fig, height=round(300 * scale) + rows * row_px)
    fig.update_layout(margin=dict(b=10 + rows * row_px))
    return fig


def receptive_field_picture(picture: np.ndarray, boxes: list[tuple[str, int, int, int, int]]) -> go.Figure:
    """A picture with one rectangle per layer: the input pixels the unit at the centre of its map sees.

    Parameters
    ----------
    picture : np.ndarray
        ``(H, W, 3)`` uint8, the network's input size.
    boxes : list of (label, top, bottom, left, right)
        Inclusive pixel rows and columns, already clipped to the picture, innermost (first layer) first.
    """
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    colours = [OKABE_ITO[(i % (len(OKABE_ITO) - 1)) + 1] for i in range(len(boxes))]
    for (label, top, bottom, left, right), colour in zip(boxes, colours, strict=True):
        fig.add_shape(type="rect", x0=left - 0.5, x1=right + 0.5, y0=top - 0.5, y1=bottom + 0.5,
                      line=dict(color=colour, width=2))  # fmt: skip
        fig.add_trace(
            go.Scatter(x=[left - 0.5, right + 0.5, right + 0.5, left - 0.5, left - 0.5],
                       y=[top - 0.5, top - 0.5, bottom + 0.5, bottom + 0.5, top - 0.5], mode="lines",
                       line=dict(color=colour, width=2), name=label, hoverinfo="name")
        )  # fmt: skip
    h, w = picture.shape[:2]
    fig.update_xaxes(visible=False, range=[-0.5, w - 0.5])
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], scaleanchor="x")
    fig.update_layout(  # under the picture, wrapping into rows: beside it, it ran out of a narrow chart
        legend=dict(
            title=dict(text="Layer: its field", font=dict(size=11)),
            font=dict(size=11),
            orientation="h",
            y=-0.02,
            yanchor="top",
        ),
        plot_bgcolor="white",
    )
    return _base_layout(fig, height=420)
