"""Pictures for the pages: the colours every chart and picture shares, and every still picture (PNG).

Plot builders (:mod:`app.plots`) draw interactive figures in the palettes and colour scales
defined here; this module turns the same arrays into still pictures for ``st.image`` and
downloads: colour-mapped maps, enlarged pixels, heat-map overlays, kernel grids and the
confusion matrix as a table. :func:`png_bytes` is the one PNG encoder.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import plotly.colors
from PIL import Image, ImageDraw

from app.palette import DIVERGING, OKABE_ITO, SEQUENTIAL  # noqa: F401 (OKABE_ITO: pictures' public name)
from cnn_core import images

if TYPE_CHECKING:  # only a type here: pages without a model never import torch through this module
    from cnn_core.inspection import Tiled



def png_bytes(picture: np.ndarray | Image.Image, compress_level: int = 6) -> bytes:
    """A uint8 array (H, W) or (H, W, 3|4), or a PIL image, as PNG bytes (level 1 is fast, 9 small)."""
    buf = io.BytesIO()
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    image.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


# --- colour scales -------------------------------------------------------------------------------


def _lut(name: str) -> np.ndarray:
    """(256, 3) uint8: a plotly colour scale sampled at 256 even steps, as the charts draw it."""
    cols = plotly.colors.sample_colorscale(name, list(np.linspace(0, 1, 256)))
    return np.array([plotly.colors.unlabel_rgb(c) for c in cols], dtype=np.float64).round().astype(np.uint8)


LUTS = {"seq": _lut(SEQUENTIAL), "div": _lut(DIVERGING)}


@dataclass(frozen=True)
class ColourScale:
    """How values map to colour: the range spanned and whether it is the diverging scale."""

    zrange: tuple[float, float]
    diverging: bool  # symmetric around 0 in DIVERGING; else 0..top in SEQUENTIAL


def colour_scale(values: np.ndarray, *, per_map: bool = False) -> ColourScale:
    """The scale for maps: diverging around 0 when any value is negative, else from 0 to the largest.

    ``per_map``: the maps were each divided by their own largest magnitude, so the range is
    [-1, 1] or [0, 1].
    """
    top = float(np.nanmax(np.abs(values))) if values.size else 0.0
    top = top or 1.0
    diverging = bool(np.nanmin(values) < 0)
    if per_map:
        top = 1.0
    return ColourScale((-top, top) if diverging else (0.0, top), diverging)


def colourise(values: np.ndarray, *, diverging: bool, zrange: tuple[float, float]) -> np.ndarray:
    """(h, w) floats (NaN = gap) -> (h, w, 3) uint8 in the charts' colour scale; gaps white."""
    lo, hi = zrange
    t = (np.nan_to_num(values, nan=lo) - lo) / (hi - lo if hi > lo else 1.0)
    rgb = LUTS["div" if diverging else "seq"][np.clip(np.rint(t * 255), 0, 255).astype(int)]
    rgb[np.isnan(values)] = 255
    return rgb


# --- pictures ------------------------------------------------------------------------------------


def picture_u8(picture: np.ndarray) -> np.ndarray:
    """Float [0, 1] (H, W) or (H, W, 3) -> uint8."""
    return images.to_uint8(np.clip(picture, 0, 1))


def enlarge(img: np.ndarray, side: int = 168) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor so the longer side is about ``side`` px (pixels stay square)."""
    f = max(1, side // max(img.shape[:2]))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1)


def overlay(picture: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """A heat map in [0, 1] laid over the picture; the stronger the heat, the more it covers."""
    base = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=2)
    colour = LUTS["seq"][np.clip(np.rint(heat * 255), 0, 255).astype(int)] / 255.0
    a = alpha * np.clip(heat, 0, 1)[..., None]
    return picture_u8((1 - a) * (0.3 + 0.7 * base) + a * colour)


def heat_pictures(picture: np.ndarray, heat: np.ndarray, side: int = 168) -> tuple[np.ndarray, np.ndarray]:
    """A heat map in [0, 1] in the sequential scale, and laid over ``picture``; both enlarged to ``side``."""
    return enlarge(colourise(heat, diverging=False, zrange=(0, 1)), side), enlarge(overlay(picture, heat), side)


def maps_png(tiled: Tiled, scale: ColourScale, side: int = 56) -> bytes:
    """Tiled maps (NaN gaps) as a PNG in ``scale``, each map enlarged by a whole factor to about ``side`` px."""
    f = max(1, side // max(tiled.tile_shape))
    rgb = colourise(tiled.values, diverging=scale.diverging, zrange=scale.zrange)
    return png_bytes(np.kron(rgb, np.ones((f, f, 1), np.uint8)))


def colour_tiles(tiles: Sequence[Tiled], factor: int = 12) -> np.ndarray:
    """The red, green and blue channels of tiled maps in [0, 1] as one uint8 picture, white in the
    gaps, enlarged ``factor`` times (colour kernels, each stretched to its own range)."""
    img = np.stack([np.nan_to_num(t.values, nan=1.0) for t in tiles], axis=-1)
    return picture_u8(np.kron(img, np.ones((factor, factor, 1))))


def confusion_png(counts: np.ndarray, share: np.ndarray, classes: Sequence[str]) -> bytes:
    """The confusion matrix as a PNG table: ``counts`` in cells shaded by ``share`` (of each true class,
    :func:`cnn_core.inspection.row_normalise`), class names on the edges."""
    k, cell, margin = len(classes), 44, 110
    img = Image.new("RGB", (margin + k * cell + 10, margin + k * cell + 10), "white")
    d = ImageDraw.Draw(img)
    d.text((margin, 8), "predicted class ->", fill="black")
    d.text((8, margin - 16), "true class", fill="black")
    for j, name in enumerate(classes):
        d.text((margin + j * cell + 4, margin - 32), str(name)[:7], fill="black")
        d.text((8, margin + j * cell + 16), str(name)[:14], fill="black")
    for t in range(k):
        for p in range(k):
            rgb = tuple(int(v) for v in LUTS["seq"][int(round(share[t, p] * 255))])
            x0, y0 = margin + p * cell, margin + t * cell
            d.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=rgb)
            ink = "black" if share[t, p] > 0.5 else "white"
            d.text((x0 + 6, y0 + 16), str(int(counts[t, p])), fill=ink)
    return png_bytes(img)
