"""The network's architecture as the usual textbook figure: feature-map volumes from input to output,
with an inception module's branches drawn side by side and a residual block's shortcut as an arc; and
a unit's receptive field drawn on a picture, layer by layer."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app import palette
from app.palette import OKABE_ITO


def _base_layout(fig: go.Figure, *, height: int | None = None) -> go.Figure:
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), height=height)
    return fig


_ARCH_COLOURS = {  # Okabe-Ito; every box is also labelled with its layer type
    "input": palette.GRID_LINE,
    "conv": OKABE_ITO[4],
    "pool": OKABE_ITO[0],
    "flatten": OKABE_ITO[2],
    "gap": OKABE_ITO[2],
    "dense": OKABE_ITO[5],
    "residual": OKABE_ITO[1],
    "inception": OKABE_ITO[3],
}
FACES = {"front": 0.85, "top": 0.4, "side": 0.65}  # opacity of a box's faces: lit from the top left
BRANCH_W = 2.6  # width of an inception branch's bar, room for "pool 3x3, 1x1→128"
FONT = 11  # px of every text in the diagram at scale 1 (x 1.5 on a projector: 16.5 px)
PART = 6  # maps per figure of a long network (diagram_parts): more side by side and their labels ran together
Block = tuple  # (label, kind, shape) or (label, kind, shape, branches): branches = ((label, shape), ...)


class _Drawing:
    """The diagram's pieces, gathered so that the figure has a few traces: one per colour and face (each
    box's polygon in it, separated by None), one of invisible points carrying the hover text, one of lines."""

    def __init__(self) -> None:
        self.polygons: dict[tuple[str, str], tuple[list, list]] = {}
        self.hover: tuple[list, list, list] = ([], [], [])
        self.lines: tuple[list, list] = ([], [])
        self.arcs: tuple[list, list] = ([], [])
        self.notes: list[dict] = []

    def polygon(self, colour: str, face: str, xs: list[float], ys: list[float]) -> None:
        px, py = self.polygons.setdefault((colour, face), ([], []))
        px += [*xs, None]
        py += [*ys, None]

    def point(self, x: float, y: float, text: str) -> None:
        for values, v in zip(self.hover, (x, y, text), strict=True):
            values.append(v)

    def line(self, xs, ys, *, arc: bool = False) -> None:
        px, py = self.arcs if arc else self.lines
        px += [*xs, None]
        py += [*ys, None]

    def traces(self) -> list[go.Scatter]:
        out = [
            go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line=dict(color=palette.BLACK, width=1),
                       fillcolor=colour, opacity=FACES[face], hoverinfo="skip", showlegend=False)
            for (colour, face), (xs, ys) in self.polygons.items()
        ]  # fmt: skip
        out.append(go.Scatter(x=self.lines[0], y=self.lines[1], mode="lines", line=dict(color=palette.CROSS, width=1),
                              hoverinfo="skip", showlegend=False))  # fmt: skip
        out.append(go.Scatter(x=self.arcs[0], y=self.arcs[1], mode="lines", hoverinfo="skip", showlegend=False,
                              line=dict(color=palette.BLACK, width=1.5, dash="dot")))  # fmt: skip
        out.append(go.Scatter(x=self.hover[0], y=self.hover[1], hovertext=self.hover[2], hoverinfo="text",
                              mode="markers", marker=dict(size=18, color=palette.TRANSPARENT), showlegend=False))  # fmt: skip
        return out


def _rect(x0: float, x1: float, y0: float, y1: float) -> tuple[list[float], list[float]]:
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _branches(d: _Drawing, x: float, x_prev: float, branches: tuple, colour: str, compact: bool,
              font: float) -> float:  # fmt: skip
    """An inception module's branches as a column of bars joined to the maps before and after; labelled
    unless ``compact`` (many modules, or a projector: the labels are in the bars' hover text); one line each,
    so that the labels of neighbouring branches never overlap."""
    n, width = len(branches), 0.7 if compact else BRANCH_W
    for j, (label, shape) in enumerate(branches):
        y = 1.9 - 3.8 * j / max(n - 1, 1)
        d.polygon(colour, "front", *_rect(x, x + width, y - 0.4, y + 0.4))
        d.point(x + width / 2, y, f"branch {label}: {'×'.join(map(str, shape))}")
        if not compact:
            d.notes.append(dict(x=x + width / 2, y=y, text=f"{label}: {shape[0]} ch", showarrow=False,
                                font=dict(size=font)))  # fmt: skip
        d.line([x_prev, x], [0, y])
        d.line([x + width, x + width + 0.6], [y, 0])
    return x + width + 0.6


def _shortcut(d: _Drawing, x0: float, x1: float, top: float, label: str, font: float, named: bool) -> None:
    """A residual block's shortcut: an arc over the block from the map before it to the sum after it, named
    ("+ x", "+ 1×1") unless ``named`` is False (many blocks side by side: their names would run together)."""
    t = np.linspace(0, np.pi, 25)
    d.line(list(x0 + (x1 - x0) * (1 - np.cos(t)) / 2), list(top + 0.9 * np.sin(t)), arc=True)
    d.point((x0 + x1) / 2, top + 0.9, f"shortcut: {label}")
    if named:
        short = "1×1" if "projection" in label else label
        d.notes.append(dict(x=(x0 + x1) / 2, y=top + 0.9, text=f"+ {short}", showarrow=False, yanchor="bottom",
                            font=dict(size=font)))  # fmt: skip


def _extent(blocks: list[Block]) -> tuple[int, int, int, int]:
    maps = [b[2] for b in blocks if len(b[2]) == 3]
    return (
        max((s[1] for s in maps), default=1),
        max((s[2] for s in maps), default=1),
        max((s[0] for s in maps), default=1),
        max((b[2][0] for b in blocks if len(b[2]) == 1), default=1),
    )


def diagram_parts(blocks: list[Block], scale: float = 1.0) -> list[go.Figure]:
    """A network's diagram as one figure, or, beyond ``PART + 3`` maps, as figures of at most :data:`PART` maps,
    drawn to one scale and read one under the other: GoogLeNet's 19 maps in one row left each label less room
    than its text on a projector or a phone, however the labels were set."""
    if len(blocks) <= PART + 3:
        return [architecture_diagram(blocks, scale)]
    extent, n = _extent(blocks), -(-len(blocks) // PART)  # parts of nearly equal length: 19 maps as 5, 5, 4, 5
    cuts = [round(i * len(blocks) / n) for i in range(n + 1)]
    return [architecture_diagram(blocks[a:b], scale, extent=extent) for a, b in zip(cuts, cuts[1:], strict=False)]


def architecture_diagram(blocks: list[Block], scale: float = 1.0, *,
                         extent: tuple[int, int, int, int] | None = None) -> go.Figure:  # fmt: skip
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
    extent : (H, W, C, N), optional
        The largest height, width, channels and flat length the sizes are relative to (default: those of
        ``blocks``); :func:`diagram_parts` gives every part the whole network's.

    The figure has a handful of traces (one per colour and face, the lines, the hover points) however many
    layers it draws: GoogLeNet's 161 traces took the browser long to draw.
    """
    font = FONT * scale
    d = _Drawing()
    h_max, w_max, c_max, n_max = extent or _extent(blocks)
    x = 0.0
    tallest = 1.0
    x_prev, top_prev = 0.0, 0.0  # the middle and top of the map before
    n_inception = sum(b[1] == "inception" for b in blocks)
    n_residual = sum(b[1] == "residual" for b in blocks)
    rows = 2 if len(blocks) <= 3 else 3 if len(blocks) <= 12 else 4  # label rows under the maps
    if extent is not None and len(blocks) <= 4:  # a short part, often ending in thin bars: a row for each label
        rows = len(blocks)  # ("16. Inception" ran into "19. Dense" on a phone, "9. Residual" into "12. Dense")
    row_px = round(2.9 * font)  # two lines of text and a gap
    for i, (label, kind, shape, *rest) in enumerate(blocks):
        branches = tuple(rest[0]) if rest else ()
        colour = _ARCH_COLOURS.get(kind, OKABE_ITO[6])
        if kind == "inception" and branches:
            compact = n_inception > 3 or scale > 1  # a projector's large labels would run over the bars and maps
            x = _branches(d, x, x_prev, branches, colour, compact=compact, font=font)
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
        d.polygon(colour, "front", *_rect(x, x + thick, bot, top))
        if dep > 0:
            d.polygon(colour, "top", [x, x + thick, x + thick + dx, x + dx, x], [top, top, top + dy, top + dy, top])
            d.polygon(colour, "side", [x + thick, x + thick + dx, x + thick + dx, x + thick, x + thick],
                      [bot, bot + dy, top + dy, top, bot])  # fmt: skip
        d.point(x + (thick + dx) / 2, dy / 2, f"{label}<br>{'C×H×W' if len(shape) == 3 else 'values'}: {size_text}")
        if kind == "residual" and branches:
            _shortcut(d, x_prev, x + (thick + dx) / 2, max(top_prev, top + dy), branches[0][0], font,
                      named=n_residual <= 4 and extent is None)  # a part's arcs are close: hover names them  # fmt: skip
            tallest = max(tallest, max(top_prev, top + dy) + 1.5)
        x_prev, top_prev = x + (thick + dx) / 2, top + dy
        tallest = max(tallest, top + dy)
        ends = {0: ("left", x), len(blocks) - 1: ("right", x + thick + dx)}  # the first and last stay inside
        anchor, at = ends.get(i, ("center", x + (thick + dx) / 2))
        d.notes.append(dict(x=at, xanchor=anchor, y=0, yref="y domain", yanchor="top",
                            yshift=-4 - row_px * (i % rows), text=f"<b>{label}</b><br>{size_text}",
                            showarrow=False, font=dict(size=font)))  # fmt: skip
        x += max(thick + dx, 1.2) + 0.9  # a thin bar takes room too: its label needs it ("11. GAP", "12. Dense")
    strip = rows * row_px
    fig = go.Figure(data=d.traces(), layout=dict(annotations=d.notes))
    # A part is as wide as a part of PART maps, so that a short last part is not squeezed into the middle of
    # the figure (its height bounds its width: the labels of ResNet-18's last four maps ran together there).
    fig.update_xaxes(visible=False, range=[-0.6, max(x, 3.0 * PART if extent else 4.0)])
    fig.update_yaxes(visible=False, range=[-2.8, max(tallest, 3.0) + 0.3], scaleanchor="x", scaleratio=1,
                     constrain="domain")  # fmt: skip
    fig.update_layout(plot_bgcolor=palette.WHITE, hovermode="closest")
    _base_layout(fig, height=round((220 if extent else 300) * scale) + strip)  # a part is wide and low
    fig.update_layout(margin=dict(b=10 + strip))
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
        plot_bgcolor=palette.WHITE,
    )
    return _base_layout(fig, height=420)
