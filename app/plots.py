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
    return f"{v:.4g}"


def matrix_heatmap(
    values: np.ndarray,
    *,
    title: str = "",
    hatched: np.ndarray | None = None,
    diverging: bool = True,
    pixels: bool = False,
    cell_px: int = 44,
) -> go.Figure:
    """A small matrix drawn as a grid with every value written in its cell.

    ``hatched`` marks cells (e.g. padding) with a dotted pattern so they differ without colour.
    ``pixels`` draws 0-255 pixel values as the grey they are (black 0, white 255), so a patch
    of 22s and 24s looks as flat as it is in the photo.
    """
    v = np.asarray(values, dtype=float)
    text = [[_fmt(x) for x in row] for row in v]
    top = float(np.abs(v).max()) or 1.0
    traces: list = [
        go.Heatmap(
            z=v,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 14 if max(v.shape) <= 7 else 11},
            colorscale=[[0, "black"], [1, "white"]] if pixels else DIVERGING if diverging else SEQUENTIAL,
            zmin=0 if pixels else -top if diverging else None,
            zmax=255 if pixels else top if diverging else None,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>",
        )
    ]
    if hatched is not None and np.asarray(hatched).any():
        ys, xs = np.nonzero(hatched)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"symbol": "x-thin-open", "size": cell_px * 0.7, "color": "#777"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    hidden = {"showticklabels": False, "ticks": "", "showgrid": False, "zeroline": False}
    # One constructor call with the whole layout: plotly's update_* methods cost ~10x more.
    return go.Figure(
        traces,
        layout={
            "yaxis": {"autorange": "reversed", "scaleanchor": "x", "constrain": "domain", **hidden},
            "xaxis": {"constrain": "domain", **hidden},
            "title": {"text": title, "font": {"size": 14}},
            "margin": {"l": 4, "r": 4, "t": 32 if title else 4, "b": 4},
            "height": min(60 + cell_px * max(v.shape), 480),
            "plot_bgcolor": "white",
        },
    )


# --- Architecture ---------------------------------------------------------------------------------

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


# --- Arithmetic page -------------------------------------------------------------------------

AR_PAD_FILL = "#D9D9D9"  # padding / inserted-zero cells: grey, and hatched in the corners
AR_DROP_COLOUR = "#D55E00"  # Okabe-Ito vermillion, always with its own hatch and a label


def _ar_text(v: float) -> str:
    if np.isnan(v):
        return ""
    if np.isinf(v):
        return "-∞" if v < 0 else "∞"
    r = round(float(v), 3)
    return str(int(r)) if r == int(r) else f"{r:g}"


def _corner_hatch(cells: list[tuple[int, int]], direction: int) -> tuple[list, list]:
    """Short diagonal strokes in two corners of each cell, leaving the number in the middle readable."""
    xs: list = []
    ys: list = []
    for r, c in cells:
        for corner in (-1, 1):
            if direction > 0:  # "/" strokes, top-left and bottom-right corners
                x0, y0 = c + corner * 0.5, r + corner * 0.18
                x1, y1 = c + corner * 0.18, r + corner * 0.5
            else:  # "\" strokes, top-right and bottom-left corners
                x0, y0 = c - corner * 0.5, r + corner * 0.18
                x1, y1 = c - corner * 0.18, r + corner * 0.5
            xs += [x0, x1, None]
            ys += [y0, y1, None]
    return xs, ys


def _grid_axis(n: int, labels: list[str] | None, **extra: object) -> dict:
    """One axis of an arithmetic grid: a tick per cell, labelled 1..n unless ``labels`` are given."""
    return {
        "tickmode": "array",
        "tickvals": list(range(n)),
        "ticktext": labels or [str(i + 1) for i in range(n)],
        "showgrid": False,
        "zeroline": False,
        "fixedrange": True,
        "constrain": "domain",
        **extra,
    }


def arithmetic_grid(
    values: np.ndarray,
    *,
    title: str = "",
    padding: np.ndarray | None = None,
    dropped: np.ndarray | None = None,
    window: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    current: tuple[int, int] | None = None,
    kept: list[tuple[int, int]] | None = None,
    text: list[list[str]] | None = None,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    zrange: tuple[float, float] | None = None,
    clickable: bool = False,
    max_px: int = 380,
) -> go.Figure:
    """One grid of the Arithmetic page, every value written in its cell.

    Parameters
    ----------
    values : (H, W) array; NaN cells are drawn empty (an output cell not computed yet).
    padding : (H, W) bool, cells that are padding (or zeros inserted by a transposed
        convolution): grey, hatched "/" in two corners, and labelled "pad" on hover.
    dropped : (H, W) bool, input cells no window reaches: hatched "\\" in vermillion, labelled.
    window : (rows, cols) of the kernel taps: each tap gets a thick double outline (black and
        white, so it shows on light and dark cells) and the whole span a dashed frame.
    current : the output cell being computed: thick double outline.
    kept : cells a max/min pooling kept: circled.
    text : overrides the written value of each cell (e.g. "?" in quiz mode, "✓ 11").
    clickable : add an invisible marker per cell so a click selects it (heatmaps alone do not
        report clicks to Streamlit); ``customdata`` is ``[row, col]``.
    """
    v = np.asarray(values, dtype=float)
    h, w = v.shape
    cell = int(max(22, min(52, max_px // max(h, w, 1))))
    pad = np.zeros_like(v, dtype=bool) if padding is None else np.asarray(padding, dtype=bool)
    finite = v[np.isfinite(v) & ~pad]
    if zrange is None:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    else:
        lo, hi = zrange
    signed = lo < 0 < hi
    top = max(abs(lo), abs(hi)) or 1.0
    labels = text if text is not None else [[_ar_text(x) for x in row] for row in v]
    shown = np.where(pad | ~np.isfinite(v), np.nan, v)
    hover = [
        [
            f"row {r + 1}, column {c + 1}: {labels[r][c] or 'not computed yet'}" + (" (padding)" if pad[r, c] else "")
            for c in range(w)
        ]
        for r in range(h)
    ]
    traces: list = [
        go.Heatmap(
            z=shown,
            text=labels,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            textfont={"size": 15 if cell >= 40 else 12 if cell >= 28 else 10},
            colorscale=DIVERGING if signed else "Blues",
            zmin=-top if signed else min(lo, 0.0),
            zmax=top if signed else (hi if hi > min(lo, 0.0) else min(lo, 0.0) + 1),
            showscale=False,
            hoverongaps=False,
        )
    ]
    if pad.any():
        traces.append(
            go.Heatmap(
                z=np.where(pad, 1.0, np.nan),
                text=[[labels[r][c] if pad[r, c] else "" for c in range(w)] for r in range(h)],
                texttemplate="%{text}",
                textfont={"size": 12 if cell >= 28 else 9, "color": "#555"},
                colorscale=[[0, AR_PAD_FILL], [1, AR_PAD_FILL]],
                showscale=False,
                hoverinfo="skip",
            )
        )
        xs, ys = _corner_hatch([(int(r), int(c)) for r, c in zip(*np.nonzero(pad), strict=True)], 1)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#7F7F7F", "width": 1.5}, hoverinfo="skip"))
    if dropped is not None and np.asarray(dropped).any():
        cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(dropped), strict=True)]
        xs, ys = _corner_hatch(cells, -1)
        traces.append(
            go.Scatter(x=xs, y=ys, mode="lines", line={"color": AR_DROP_COLOUR, "width": 2.5}, hoverinfo="skip")
        )
    # grid lines, so empty cells still read as cells
    gx: list = []
    gy: list = []
    for r in range(h + 1):
        gx += [-0.5, w - 0.5, None]
        gy += [r - 0.5, r - 0.5, None]
    for c in range(w + 1):
        gx += [c - 0.5, c - 0.5, None]
        gy += [-0.5, h - 0.5, None]
    traces.append(go.Scatter(x=gx, y=gy, mode="lines", line={"color": "#9E9E9E", "width": 1}, hoverinfo="skip"))

    shapes: list[dict] = []

    def outline(r0: float, c0: float, r1: float, c1: float, *, dash: str | None = None) -> None:
        box = {"type": "rect", "x0": c0 - 0.5, "x1": c1 + 0.5, "y0": r0 - 0.5, "y1": r1 + 0.5}
        shapes.append({**box, "line": {"color": "black", "width": 5, "dash": dash}})
        if dash is None:
            shapes.append({**box, "line": {"color": "white", "width": 1.5}})

    if window is not None:
        rows, cols = window
        spread = (len(rows) > 1 and rows[1] - rows[0] > 1) or (len(cols) > 1 and cols[1] - cols[0] > 1)
        if spread:
            for r in rows:
                for c in cols:
                    outline(r, c, r, c)
            outline(min(rows), min(cols), max(rows), max(cols), dash="dot")
        else:
            outline(min(rows), min(cols), max(rows), max(cols))
    if current is not None:
        outline(current[0], current[1], current[0], current[1])
    if kept:
        traces.append(
            go.Scatter(
                x=[c for _, c in kept], y=[r for r, _ in kept], mode="markers", hoverinfo="skip",
                marker={"symbol": "circle-open", "size": cell * 0.8, "color": "black", "line": {"width": 2.5}},
            )
        )
    if clickable:
        rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        traces.append(
            go.Scatter(
                x=cc.ravel(), y=rr.ravel(), customdata=np.stack([rr.ravel(), cc.ravel()], axis=1), mode="markers",
                marker={"symbol": "square", "size": cell * 0.9, "color": "black", "opacity": 0.01},
                selected={"marker": {"opacity": 0.01}}, unselected={"marker": {"opacity": 0.01}},
                hovertemplate="click to jump to this cell<extra></extra>",
                name="cells",
            )
        )
    top_margin = 56 if title else 24
    # One constructor call with the whole layout: plotly's update_* / add_shape cost ~10x more.
    return go.Figure(
        traces,
        layout={
            "xaxis": _grid_axis(w, col_labels, range=[-0.5, w - 0.5], side="top"),
            "yaxis": _grid_axis(h, row_labels, range=[h - 0.5, -0.5], scaleanchor="x"),
            "shapes": shapes,
            "title": {"text": title, "font": {"size": 14}, "y": 0.99, "yanchor": "top"},
            "width": cell * w + 50,
            "height": cell * h + top_margin + 10,
            "margin": {"l": 34, "r": 8, "t": top_margin, "b": 4},
            "plot_bgcolor": "white",
            "showlegend": False,
            "dragmode": False,
            "clickmode": "event+select" if clickable else "event",
        },
    )


def series_plot(x: np.ndarray, y: np.ndarray, *, x_start: np.ndarray | None = None, title: str = "") -> go.Figure:
    """A 1-D input series and the convolution output as two lines with distinct markers and dashes.

    ``x_start`` gives, for each output value, the time step its window starts at (so outputs
    sit under the inputs they came from).
    """
    t_out = np.arange(len(y)) if x_start is None else np.asarray(x_start)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.arange(len(x)) + 1, y=x, name="input x", mode="lines+markers",
                             line={"color": OKABE_ITO[4]}, marker={"symbol": "circle", "size": 8}))
    fig.add_trace(go.Scatter(x=t_out + 1, y=y, name="output y", mode="lines+markers",
                             line={"color": OKABE_ITO[5], "dash": "dash"}, marker={"symbol": "diamond", "size": 9}))
    fig.update_layout(title=title, height=260, margin=dict(l=10, r=10, t=40, b=30), xaxis_title="time step",
                      legend={"orientation": "h", "y": -0.3})
    return fig


def training_curves(steps: list, evals: list, *, total_epochs: float | None = None) -> go.Figure:
    """Loss (left) and accuracy (right) against epochs, for training and validation.

    ``steps`` are ``cnn_core.training.StepEvent``; ``evals`` are ``EvalEvent``. Training loss is
    drawn from every logged step, the rest at each evaluation; lines differ by dash as well as colour.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)", "Accuracy (higher is better)"))
    train_c, val_c = OKABE_ITO[4], OKABE_ITO[5]
    fig.add_trace(
        go.Scatter(x=[s.epoch_fraction for s in steps], y=[s.loss for s in steps], name="training loss",
                   line={"color": train_c}, legendgroup="train"),
        row=1, col=1,
    )
    fig.add_trace(
        go.Scatter(x=[e.epoch_fraction for e in evals], y=[e.val_loss for e in evals], name="validation loss",
                   mode="lines+markers", line={"color": val_c, "dash": "dash"}, marker={"symbol": "square"},
                   legendgroup="val"),
        row=1, col=1,
    )
    fig.add_trace(
        go.Scatter(x=[e.epoch_fraction for e in evals], y=[100 * e.train_acc for e in evals],
                   name="training accuracy", mode="lines+markers", line={"color": train_c},
                   marker={"symbol": "circle"}, legendgroup="train"),
        row=1, col=2,
    )
    fig.add_trace(
        go.Scatter(x=[e.epoch_fraction for e in evals], y=[100 * e.val_acc for e in evals],
                   name="validation accuracy", mode="lines+markers", line={"color": val_c, "dash": "dash"},
                   marker={"symbol": "square"}, legendgroup="val"),
        row=1, col=2,
    )
    xr = [0, total_epochs] if total_epochs else None
    fig.update_xaxes(title_text="epochs", range=xr)
    fig.update_yaxes(title_text="cross-entropy", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="% correct", range=[0, 100.5], row=1, col=2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), legend={"orientation": "h", "y": -0.25})
    return fig


# --- Inside the model -----------------------------------------------------------------------------


def tiled_maps(
    values: np.ndarray,
    raw: np.ndarray,
    index: np.ndarray,
    *,
    diverging: bool,
    zrange: tuple[float, float],
    colourbar: str = "value",
    names: list[str] | None = None,
    max_width_px: int = 1100,
    max_cell_px: float = 16,
) -> go.Figure:
    """Many small maps tiled in one heatmap (NaN gaps between them); hover names the map and its raw value.

    ``values`` is what is coloured (possibly scaled per map), ``raw`` the true numbers shown on hover,
    ``index`` which map each cell belongs to (-1 in the gaps), ``names`` what to call each map on
    hover (default "map 1", "map 2", ...).
    """
    h, w = values.shape
    n = int(index.max()) + 1 if index.size else 0
    labels = np.array([*(names or [f"map {i + 1}" for i in range(n)]), ""], dtype=object)
    custom = np.empty((h, w, 2), dtype=object)  # (h, w, 2): map name, raw value
    custom[..., 0] = labels[index]  # index -1 picks the trailing "" for the gaps
    custom[..., 1] = np.round(np.nan_to_num(raw), 4)
    fig = go.Figure(
        go.Heatmap(
            z=values,
            customdata=custom,
            colorscale=DIVERGING if diverging else SEQUENTIAL,
            zmin=zrange[0],
            zmax=zrange[1],
            hovertemplate="%{customdata[0]}<br>value %{customdata[1]:.3g}<extra></extra>",
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
        plot_bgcolor="white",
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
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=names,
            y=names,
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=zmax,
            showscale=True,
            colorbar={"title": {"text": "share of row" if normalised else "images"}, "thickness": 12},
            xgap=1,
            ygap=1,
            hoverinfo="skip",
        )
    )
    tt, pp = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    row_tot = np.maximum(counts.sum(axis=1), 1)
    hover = [
        f"true {names[t]}, predicted {names[p]}: {int(counts[t, p])} images ({100 * counts[t, p] / row_tot[t]:.1f}% of {names[t]})"
        for t, p in zip(tt.ravel(), pp.ravel(), strict=True)
    ]
    flat_v, flat_c = values[tt, pp].ravel(), counts[tt, pp].ravel()
    # Cell text as a scatter trace so each number can be black on light cells and white on dark ones.
    text = [
        ("" if c == 0 else f"{100 * v:.0f}%") if normalised else str(int(c))
        for v, c in zip(flat_v, flat_c, strict=True)
    ]
    ink = ["black" if v / zmax > 0.55 else "white" for v in flat_v]
    fig.add_trace(
        go.Scatter(
            x=[names[p] for p in pp.ravel()],
            y=[names[t] for t in tt.ravel()],
            mode="markers+text",
            text=text,
            textfont={"size": 12 if k <= 10 else 9, "color": ink},
            marker={"size": 28 if k <= 10 else 16, "opacity": 0, "symbol": "square"},
            hovertext=hover,
            hoverinfo="text",
            customdata=np.stack([tt.ravel(), pp.ravel()], axis=1),
            showlegend=False,
        )
    )
    if selected is not None:
        t, p = selected
        for colour, width in (("black", 6), ("white", 2)):  # visible on dark and on light cells
            fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5,
                          line={"color": colour, "width": width}, fillcolor="rgba(0,0,0,0)")  # fmt: skip
    fig.update_yaxes(autorange="reversed", title_text="true class", type="category", scaleanchor="x", showgrid=False)
    fig.update_xaxes(title_text="predicted class", type="category", side="top", showgrid=False)
    fig.update_layout(height=140 + 40 * min(k, 15), margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="white",
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
            marker={"color": [OKABE_ITO[4]] + [OKABE_ITO[1]] * (len(order) - 1)},
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 115], title_text="probability (%)")
    fig.update_layout(title={"text": title, "font": {"size": 14}}, height=60 + 28 * len(order),
                      margin=dict(l=10, r=10, t=36 if title else 10, b=10))  # fmt: skip
    return fig


def accuracy_over_time(labels: list[str], accs: list[float], selected: int) -> go.Figure:
    """Accuracy at each training snapshot, with the one being shown marked by a large diamond."""
    fig = go.Figure(
        go.Scatter(
            x=labels,
            y=[100 * a for a in accs],
            mode="lines+markers",
            name="accuracy",
            line={"color": OKABE_ITO[4]},
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[labels[selected]],
            y=[100 * accs[selected]],
            mode="markers",
            name="shown",
            marker={"symbol": "diamond", "size": 16, "color": OKABE_ITO[5]},
            hoverinfo="skip",
        )
    )
    fig.update_yaxes(title_text="% correct", range=[0, 100.5])
    fig.update_xaxes(type="category")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=20, b=10), showlegend=False)
    return fig
