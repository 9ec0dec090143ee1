"""Small grids (and class probabilities as bars) as HTML tables: the Kernel Lab's kernel, a pixel's neighbourhood and their products, and on
Inside the model a learned kernel beside its nearest preset.

Every value is written in its cell and coloured as the charts elsewhere colour a matrix
(:func:`app.pictures.colourise`: red-white-blue, zero white, symmetric about zero), pixel values as
their own grey (0 black, 255 white, so a flat patch looks flat), and padding cells are hatched. A
table is plain HTML in the browser: the Kernel Lab loads no plotly.js and lays out no chart, which
had made its reloads and kernel changes several times slower than a bare Streamlit page's (and two
kernel charts made a visit to Inside's Learned kernels tab some 200 ms slower). Each grid's
HTML is made once per grid (values, padding, kind), and the grids drawn side by side go out as one
``st.html`` element: a pandas Styler in ``st.table`` cost tens of milliseconds per grid on every
rerun, and a caption and a table per grid were six elements for the browser to lay out (issue #15).
"""

from __future__ import annotations

import functools
import html

import numpy as np

from app.palette import HIGHLIGHT, REST
from app.pictures import colourise
from cnn_core.numbers import format_number

HATCH = "repeating-linear-gradient(45deg, rgba(0, 0, 0, 0.35) 0 2px, transparent 2px 7px)"  # padding cells


def grid_colours(values: np.ndarray, *, pixels: bool = False) -> np.ndarray:
    """(h, w) values -> (h, w, 3) uint8 cell colours: greys for pixels, else the signed scale."""
    v = np.asarray(values, dtype=float)
    if pixels:
        grey = np.clip(np.rint(v), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    top = float(np.abs(v).max()) or 1.0
    return colourise(v, diverging=True, zrange=(-top, top))


def _cell_css(rgb: np.ndarray, hatched: bool) -> str:
    r, g, b = (int(c) for c in rgb)
    ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"  # legible on light and dark cells
    css = f"background-color: rgb({r}, {g}, {b}); color: {ink}; text-align: center; min-width: 3.2em"
    return css + (f"; background-image: {HATCH}" if hatched else "")


def _cells(values: tuple, hatched: tuple | None, pixels: bool) -> tuple[list[list[str]], list[list[str]]]:
    v = np.array(values, dtype=float)
    mask = np.zeros(v.shape, bool) if hatched is None else np.array(hatched, dtype=bool)
    rgb = grid_colours(v, pixels=pixels)
    text = [[format_number(x) for x in row] for row in v]
    css = [[_cell_css(rgb[i, j], bool(mask[i, j])) for j in range(v.shape[1])] for i in range(v.shape[0])]
    return text, css


def as_cells(values: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """A matrix as nested tuples of floats: what the grids take, and hashable (it keys their caches and the
    Kernel Lab's, :func:`app.kernel_lab.model.as_key`)."""
    return tuple(tuple(float(v) for v in row) for row in np.asarray(values))


GRID_CLASS = "kl-grid"  # every grid's <table>: the browser tests find the grids by it
_TABLE_CSS = "border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0 0 0.5rem 0"
_TD_CSS = "border: 1px solid rgba(49, 51, 63, 0.2); padding: 0.25em 0.5em"


@functools.lru_cache(maxsize=512)  # tiny strings; Python's own tuple hash, not st.cache_resource's hasher
def grid_html(values: tuple, hatched: tuple | None = None, *, pixels: bool = False) -> str:
    """A grid as an HTML table (text and colours in its cells), made once per grid.

    ``values`` and ``hatched`` are nested tuples (hashable: :func:`app.kernel_lab.model.as_key`). The
    table has no accessible label of its own (the caption above names it): a table labelled "Kernel"
    was what the Kernel selectbox's label found first, and a test's click opened no list.
    """
    text, css = _cells(values, hatched, pixels)
    rows = "".join(
        "<tr>"
        + "".join(f'<td style="{_TD_CSS}; {c}">{html.escape(t)}</td>' for t, c in zip(tr, cr, strict=True))
        + "</tr>"
        for tr, cr in zip(text, css, strict=True)
    )
    return f'<table class="{GRID_CLASS}" style="{_TABLE_CSS}"><tbody>{rows}</tbody></table>'


GRID_TITLE_CLASS = "kl-grid-title"  # each grid's title (bold, caption-sized), just above its table
_ROW_CSS = "display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: flex-start"  # wraps on a narrow page
# as the captions they replaced look (app.layout: dark enough for WCAG AA; 1rem on a projector)
_TITLE_CSS = "font-weight: 600; margin: 0 0 0.25rem 0; color: rgba(47, 45, 43, 0.8); font-size: "


@functools.lru_cache(maxsize=512)
def titled_grid_html(
    title: str, values: tuple, hatched: tuple | None = None, *, pixels: bool = False, big: bool = False
) -> str:
    """One grid under its title, as HTML (made once per title and grid); ``big``: the projector's size."""
    style = _TITLE_CSS + ("1rem" if big else "0.875rem")
    return f'<div><p class="{GRID_TITLE_CLASS}" style="{style}">{html.escape(title)}</p>{grid_html(values, hatched, pixels=pixels)}</div>'


def show_grids(where, *grids: tuple, big: bool = False) -> None:
    """Draw titled grids side by side (wrapping where they do not fit) as one ``st.html`` element in
    ``where`` (a container or ``st``). Each grid is ``(title, values, hatched, pixels)``; one element, not
    a caption and a table per grid, so a rerun sends and lays out one thing (issue #15). ``big``: titles
    at the projector's caption size (presentation mode)."""
    body = "".join(titled_grid_html(t, values, hatched, pixels=pixels, big=big) for t, values, hatched, pixels in grids)
    where.html(f'<div style="{_ROW_CSS}">{body}</div>', width="stretch")


BARS_CLASS = "cl-bars"  # the probability bars' <table>
_BAR_TRACK = "display: block; background: rgba(49, 51, 63, 0.08); border-radius: 2px; min-width: 6rem"


def probability_html(names: list[str], probs: np.ndarray, *, title: str = "") -> str:
    """Class probabilities as HTML bars, largest on top, each with its percentage written beside it; the top
    class in :data:`~app.palette.HIGHLIGHT`, the rest in :data:`~app.palette.REST` (a plotly bar chart cost the
    browser a chart's drawing on every visit to a tab that shows one, issue #15)."""
    p = np.asarray(probs, dtype=float)
    order = np.argsort(-p, kind="stable")
    rows = []
    for rank, i in enumerate(order):
        share = 100 * float(p[i])
        colour = HIGHLIGHT if rank == 0 else REST
        bar = f'<span style="display: block; height: 1.1rem; width: {share:.2f}%; background: {colour}"></span>'
        rows.append(
            f'<tr><th scope="row" style="text-align: right; padding: 0.1rem 0.5rem; font-weight: 600">'
            f"{html.escape(str(names[i]))}</th>"
            f'<td style="width: 100%; padding: 0.1rem 0"><span style="{_BAR_TRACK}">{bar}</span></td>'
            f'<td style="padding: 0.1rem 0.5rem; text-align: right; white-space: nowrap">{share:.1f}%</td></tr>'
        )
    caption = (
        f'<caption style="text-align: left; font-weight: 600; padding-bottom: 0.25rem">{html.escape(title)}</caption>'
        if title
        else ""
    )
    return (
        f'<table class="{BARS_CLASS}" style="border-collapse: collapse; width: 100%; max-width: 34rem; '
        f'font-variant-numeric: tabular-nums">{caption}<tbody>{"".join(rows)}</tbody></table>'
    )
