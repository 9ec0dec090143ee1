"""The network's architecture as the usual textbook figure: feature-map volumes from input to output,
with an inception module's branches drawn side by side and a residual block's shortcut as an arc; and
a unit's receptive field drawn on a picture, layer by layer.

The architecture figure is an SVG of its boxes and lines under HTML texts (:class:`Diagram`, one
``st.html``), not a plotly chart: every Load of a network redrew the plotly chart in the browser, some
130 ms of script, and the page's first visit loaded plotly.js for it (issue #15). The receptive-field
picture, drawn only while its expander is open, stays a plotly figure.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

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
LEFT_MARGIN = -0.6  # the figure's left edge, in units (the first map starts at 0)
PART = 6  # maps per figure of a long network (diagram_parts): more side by side and their labels ran together
DIAGRAM_CLASS = "an-dg"  # the figure's box; its texts are .an-dg-label (under a map) and .an-dg-note (in the plot)
Block = tuple  # (label, kind, shape) or (label, kind, shape, branches): branches = ((label, shape), ...)


@dataclass(frozen=True)
class Shape:
    """One thing drawn in the plot, in the diagram's units (y up): a box's faces or a bar (``polygons``, each
    with its face), or a line; ``title`` is what pointing at it says."""

    polygons: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()
    colour: str = palette.BLACK
    line: tuple[tuple[float, float], ...] = ()
    arc: bool = False
    title: str = ""


@dataclass(frozen=True)
class Text:
    """A text at ``(x, y)``: a map's label (``row`` >= 0: under the plot, in that row of the strip, its first line
    bold) or a note inside the plot (``row`` = -1). ``anchor``: which of its sides stands at ``x``."""

    x: float
    y: float
    lines: tuple[str, ...]
    row: int = -1
    anchor: str = "center"
    bottom: bool = False  # a note standing on its point, not centred on it
    fit: float = 0.0  # a note this many units wide at most (its bar's width), smaller type if need be


@dataclass
class Diagram:
    """One figure: its shapes and texts, the range of units it shows and its size in pixels at full width.

    The plot is :attr:`height` px high and as wide as its units allow (one unit as many pixels across as up);
    in a narrower column the plot shrinks with its width, the texts keep their size (:attr:`font` px), as in
    plotly's ``constrain="domain"``. The map labels stand in a strip under the plot, in rows
    :attr:`row_px` apart, so two neighbours never overlap however narrow the screen.
    """

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    height: int
    rows: int
    row_px: int
    font: float
    shapes: list[Shape] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)

    @property
    def labels(self) -> list[Text]:
        return [t for t in self.texts if t.row >= 0]

    @property
    def titles(self) -> list[str]:
        return [s.title for s in self.shapes if s.title]

    @property
    def width(self) -> int:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return round(self.height * (x1 - x0) / (y1 - y0))

    def polygon(self, colour: str, faces: list[tuple[str, tuple[list[float], list[float]]]], title: str) -> None:
        self.shapes.append(Shape(tuple((f, tuple(zip(*xy, strict=True))) for f, xy in faces), colour, title=title))

    def line(self, xs, ys, *, arc: bool = False, title: str = "") -> None:
        self.shapes.append(Shape(line=tuple(zip(map(float, xs), map(float, ys), strict=True)), arc=arc, title=title))

    def _note_px(self, t: Text) -> float:
        """A note's type size at full width: the diagram's, or less where its text would run out of its bar
        (a character is about 0.45 em wide)."""
        if not t.fit:
            return self.font
        px_per_unit = self.height / (self.y_range[1] - self.y_range[0])
        return round(min(self.font, t.fit * px_per_unit / (0.45 * len(t.lines[0]))), 1)

    def html(self) -> str:
        """The figure as HTML: the shapes as an SVG picture, under a box per titled shape (its ``title`` is the
        tooltip) and the notes, then the labels' strip. (``st.html`` keeps no inline ``<svg>``: a picture it does.)"""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        w, h = x1 - x0, y1 - y0
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.3f} {-y1:.3f} {w:.3f} {h:.3f}">'
               + "".join(_svg(s) for s in self.shapes) + "</svg>")  # fmt: skip
        src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()

        def at(px: float, py: float) -> tuple[float, float]:
            return 100 * (px - x0) / w, 100 * (y1 - py) / h

        tips = "".join(_tip_html(s, at) for s in self.shapes if s.title)
        notes = "".join(_note_html(t, *at(t.x, t.y), self._note_px(t), self.width) for t in self.texts if t.row < 0)
        labels = "".join(_label_html(t, at(t.x, t.y)[0], self.row_px, self.font) for t in self.labels)
        names = "; ".join(" ".join(t.lines) for t in self.labels)
        return (
            f'<figure class="{DIAGRAM_CLASS}" style="max-width: {self.width}px; margin: 0 0 0.5rem; padding: 0 10px">'
            f'<div style="position: relative; container-type: inline-size">'
            f'<img src="{src}" alt="{html.escape("The maps, in order: " + names)}" style="display: block; width: 100%">'
            f"{tips}{notes}</div>"
            f'<div style="position: relative; height: {self.rows * self.row_px + 4}px" aria-hidden="true">{labels}</div>'
            "</figure>"
        )


def _points(pts) -> str:
    return " ".join(f"{x:.3f},{-y:.3f}" for x, y in pts)


def _svg(s: Shape) -> str:
    if s.polygons:
        return "".join(
            f'<polygon points="{_points(pts)}" fill="{s.colour}" fill-opacity="{FACES[face]}" stroke="{palette.BLACK}"'
            f' stroke-width="1" vector-effect="non-scaling-stroke"/>'
            for face, pts in s.polygons
        )
    colour, dash, width = (palette.BLACK, ' stroke-dasharray="2 3"', 1.5) if s.arc else (palette.CROSS, "", 1)
    return (f'<polyline points="{_points(s.line)}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}'
            f' vector-effect="non-scaling-stroke"/>')  # fmt: skip


def _tip_html(s: Shape, at) -> str:
    """A box over a shape (for a shortcut's arc, a small one at its top) whose ``title`` says what it is."""
    pts = [p for _, poly in s.polygons for p in poly]
    if not pts:  # an arc: the middle of its top
        mid = s.line[len(s.line) // 2]
        pts = [(mid[0] - 0.4, mid[1] - 0.3), (mid[0] + 0.4, mid[1] + 0.3)]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    (left, top), (right, bottom) = at(min(xs), max(ys)), at(max(xs), min(ys))
    return (
        f'<span title="{html.escape(s.title)}" style="position: absolute; left: {left:.3f}%; top: {top:.3f}%;'
        f' width: {right - left:.3f}%; height: {bottom - top:.3f}%"></span>'
    )


_SHIFT = {"left": "0", "center": "-50%", "right": "-100%"}


def _label_html(t: Text, left: float, row_px: int, font: float) -> str:
    first, *more = (html.escape(line) for line in t.lines)
    return (
        f'<span class="{DIAGRAM_CLASS}-label" style="position: absolute; left: {left:.3f}%;'
        f" top: {4 + row_px * t.row}px; transform: translateX({_SHIFT[t.anchor]}); white-space: nowrap;"
        f' font-size: {font:g}px; line-height: 1.25; text-align: center"><b>{first}</b>'
        + "".join(f"<br>{m}" for m in more)
        + "</span>"
    )


def _note_html(t: Text, left: float, top: float, font: float, full_width: int) -> str:
    """A note in the plot; one inside a bar shrinks as the plot does (``cqw``), so it stays inside its bar."""
    size = f"min({font:g}px, {100 * font / full_width:.3f}cqw)" if t.fit else f"{font:g}px"
    return (
        f'<span class="{DIAGRAM_CLASS}-note" style="position: absolute; left: {left:.3f}%; top: {top:.3f}%;'
        f" transform: translate(-50%, {'-100%' if t.bottom else '-50%'}); white-space: nowrap; font-size: {size};"
        f' line-height: 1.2; pointer-events: none">{html.escape(" ".join(t.lines))}</span>'
    )


def _rect(x0: float, x1: float, y0: float, y1: float) -> tuple[list[float], list[float]]:
    return [x0, x1, x1, x0], [y0, y0, y1, y1]


def _branches(d: Diagram, x: float, x_prev: float, branches: tuple, colour: str, compact: bool) -> float:
    """An inception module's branches as a column of bars joined to the maps before and after; labelled
    unless ``compact`` (many modules, or a projector: the labels are in the bars' titles instead); one line
    each, so that the labels of neighbouring branches never overlap."""
    n, width = len(branches), 0.7 if compact else BRANCH_W
    for j, (label, shape) in enumerate(branches):
        y = 1.9 - 3.8 * j / max(n - 1, 1)
        d.polygon(colour, [("front", _rect(x, x + width, y - 0.4, y + 0.4))],
                  f"branch {label}: {'×'.join(map(str, shape))}")  # fmt: skip
        if not compact:
            d.texts.append(Text(x + width / 2, y, (f"{label}: {shape[0]} ch",), fit=width - 0.2))
        d.line([x_prev, x], [0, y])
        d.line([x + width, x + width + 0.6], [y, 0])
    return x + width + 0.6


def _shortcut(d: Diagram, x0: float | None, x1: float, top: float, label: str, named: bool) -> None:
    """A residual block's shortcut: an arc over the block from the map before it to the sum after it, named
    ("+ x", "+ 1×1") unless ``named`` is False (many blocks side by side: their names would run together).

    ``x0`` None: the map before ends the part above (a long network's part that starts with a residual block),
    so the arc comes in over the part's left edge, as the second half of an arc whose top stands on that edge.
    """
    if x0 is None:
        t = np.linspace(np.pi / 2, np.pi, 13)
        x0, title = 2 * LEFT_MARGIN - x1, f"shortcut: {label}, from the last map of the part above"
    else:
        t, title = np.linspace(0, np.pi, 25), f"shortcut: {label}"
    d.line(x0 + (x1 - x0) * (1 - np.cos(t)) / 2, top + 0.9 * np.sin(t), arc=True, title=title)
    if named:
        short = "1×1" if "projection" in label else label
        d.texts.append(Text((x0 + x1) / 2, top + 0.9, (f"+ {short}",), bottom=True))


def _extent(blocks: list[Block]) -> tuple[int, int, int, int]:
    maps = [b[2] for b in blocks if len(b[2]) == 3]
    return (
        max((s[1] for s in maps), default=1),
        max((s[2] for s in maps), default=1),
        max((s[0] for s in maps), default=1),
        max((b[2][0] for b in blocks if len(b[2]) == 1), default=1),
    )


def diagram_parts(blocks: list[Block], scale: float = 1.0) -> list[Diagram]:
    """A network's diagram as one figure, or, beyond ``PART + 3`` maps, as figures of at most :data:`PART` maps,
    drawn to one scale and read one under the other: GoogLeNet's 19 maps in one row left each label less room
    than its text on a projector or a phone, however the labels were set."""
    if len(blocks) <= PART + 3:
        return [architecture_diagram(blocks, scale)]
    extent, n = _extent(blocks), -(-len(blocks) // PART)  # parts of nearly equal length: 19 maps as 5, 5, 4, 5
    cuts = [round(i * len(blocks) / n) for i in range(n + 1)]
    parts = [architecture_diagram(blocks[a:b], scale, extent=extent) for a, b in zip(cuts, cuts[1:], strict=False)]
    top = max(p.y_range[1] for p in parts)  # one range up and down, so one unit is as many pixels in every part
    for p in parts:
        p.y_range = (p.y_range[0], top)
    return parts


def architecture_diagram(blocks: list[Block], scale: float = 1.0, *,
                         extent: tuple[int, int, int, int] | None = None) -> Diagram:  # fmt: skip
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
    """
    font = FONT * scale
    h_max, w_max, c_max, n_max = extent or _extent(blocks)
    rows = 2 if len(blocks) <= 3 else 3 if len(blocks) <= 12 else 4  # label rows under the maps
    if extent is not None and len(blocks) <= 4:  # a short part, often ending in thin bars: a row for each label
        rows = len(blocks)  # ("16. Inception" ran into "19. Dense" on a phone, "9. Residual" into "12. Dense")
    d = Diagram((0.0, 0.0), (0.0, 0.0), round((220 if extent else 300) * scale) - 50, rows, round(2.9 * font), font)
    x = 0.0
    tallest = 1.0
    x_prev, top_prev = 0.0, 0.0  # the middle and top of the map before
    n_inception = sum(b[1] == "inception" for b in blocks)
    n_residual = sum(b[1] == "residual" for b in blocks)
    for i, (label, kind, shape, *rest) in enumerate(blocks):
        branches = tuple(rest[0]) if rest else ()
        colour = _ARCH_COLOURS.get(kind, OKABE_ITO[6])
        if kind == "inception" and branches:
            compact = n_inception > 3 or scale > 1 or extent is not None  # big projector labels; a long net: small bars
            x = _branches(d, x, x_prev, branches, colour, compact=compact)
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
        faces = [("front", _rect(x, x + thick, bot, top))]
        if dep > 0:
            faces.append(("top", ([x, x + thick, x + thick + dx, x + dx], [top, top, top + dy, top + dy])))
            faces.append(
                ("side", ([x + thick, x + thick + dx, x + thick + dx, x + thick], [bot, bot + dy, top + dy, top]))
            )
        d.polygon(colour, faces, f"{label}\n{'C×H×W' if len(shape) == 3 else 'values'}: {size_text}")
        if kind == "residual" and branches:
            _shortcut(d, None if i == 0 else x_prev, x + (thick + dx) / 2, max(top_prev, top + dy), branches[0][0],
                      named=n_residual <= 4 and extent is None)  # a part's arcs are close: titles name them  # fmt: skip
            tallest = max(tallest, max(top_prev, top + dy) + 1.5)
        x_prev, top_prev = x + (thick + dx) / 2, top + dy
        tallest = max(tallest, top + dy)
        ends = {0: ("left", x), len(blocks) - 1: ("right", x + thick + dx)}  # the first and last stay inside
        anchor, at = ends.get(i, ("center", x + (thick + dx) / 2))
        d.texts.append(Text(float(at), 0.0, (label, size_text), row=i % rows, anchor=anchor))
        x += max(thick + dx, 1.2) + 0.9  # a thin bar takes room too: its label needs it ("11. GAP", "12. Dense")
    # A part is as wide as a part of PART maps, so that a short last part is not squeezed into the middle of
    # the figure (its height bounds its width: the labels of ResNet-18's last four maps ran together there).
    d.x_range = (LEFT_MARGIN, float(max(x, 3.0 * PART if extent else 4.0)))
    d.y_range = (-2.8, float(max(tallest, 3.0) + 0.3))
    return d


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
