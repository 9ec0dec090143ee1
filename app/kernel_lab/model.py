"""The Kernel Lab's model: its typed settings (what a shareable link holds), the filter spec that
keys the shared caches, and the page's choices and limits. No Streamlit here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Literal

import numpy as np

from app.html_grids import as_cells
from cnn_core import geometry, images, kernels

WORKING_SIDE = 640  # the page filters a copy at most this many pixels on its longer side
TALLEST = 0.45  # the pictures are at most this many times as tall as the page is wide (both fit a 1280x800 screen)
# seconds: shared pictures of photos nobody has looked at for this long are dropped (memory after a lesson)
CACHE_TTL = 20 * 60
PADDING_CHOICES = ("same", "valid", "custom")
PADDING_MODES = ("zeros", "reflect", "replicate")
DISPLAY_CHOICES: dict[str, str] = {
    "auto": "Automatic",
    "clip": "Clip to 0–255",
    "abs": "Absolute value",
    "stretch": "Stretch min–max",
    "signed": "Signed colours",
}
DISPLAY_WHY = {
    "clip": "Values below 0 show black and above 255 show white: right for blurs and sharpening, "
    "whose weights sum to 1 and keep the brightness.",
    "abs": "The strength of the response whatever its sign: an edge from dark to light and one from "
    "light to dark both look bright.",
    "stretch": "The smallest output value becomes black and the largest white, so even faint responses become visible.",
    "signed": "Zero is white, negative values red and positive values blue (both darker the "
    "stronger), as in the kernel grids: the sign of the response stays visible.",
}
CUSTOM = "Custom…"


@dataclass(frozen=True)
class KernelLabConfig:
    """Everything that decides what the Kernel Lab shows (and what its shareable link holds)."""

    sample: str = "Cameraman"  # bundled photo, when no upload or camera picture is used
    preset: str = "Sobel x"  # a name from cnn_core.kernels.PRESETS, or CUSTOM
    color: Literal["gray", "rgb"] = "gray"  # filter the luminance or each RGB channel
    stride: int = 1
    padding: str = "same"  # "same", "valid" or "custom"
    custom_padding: int = 1  # cells on every side when padding == "custom"
    padding_mode: str = "zeros"  # what the padding cells hold
    dilation: int = 1
    display: str = "auto"  # how negative / out-of-range output values are shown

    @property
    def padding_spec(self) -> str | int:
        return self.custom_padding if self.padding == "custom" else self.padding

    def to_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v != getattr(KernelLabConfig, k)}

    @classmethod
    def from_query(cls, params: dict[str, str]) -> KernelLabConfig:
        """Read a config from URL parameters, ignoring anything malformed."""
        cfg = cls()
        for name, cast, ok in (
            ("sample", str, lambda v: v in images.SAMPLES),
            ("preset", str, lambda v: v in kernels.PRESETS or v == CUSTOM),
            ("color", str, lambda v: v in ("gray", "rgb")),
            ("stride", int, lambda v: 1 <= v <= 8),
            ("padding", str, lambda v: v in PADDING_CHOICES),
            ("custom_padding", int, lambda v: 0 <= v <= 10),
            ("padding_mode", str, lambda v: v in PADDING_MODES),
            ("dilation", int, lambda v: 1 <= v <= 5),
            ("display", str, lambda v: v in DISPLAY_CHOICES),
        ):
            if name in params:
                try:
                    value = cast(params[name])
                except ValueError:
                    continue
                if ok(value):
                    cfg = replace(cfg, **{name: value})
        return cfg

    def output_sizes(self, shape: tuple[int, ...], kernel_shape: tuple[int, int]) -> list[geometry.OutputSizeWorking]:
        """The output-size working for (height, width) of a photo of ``shape``; ValueError if it does not fit."""
        return [
            geometry.explain_output_size(
                n,
                k,
                stride=self.stride,
                dilation=self.dilation,
                padding=geometry.resolve_padding(self.padding_spec, n, k, stride=self.stride, dilation=self.dilation),
            )
            for n, k in zip(shape[:2], kernel_shape, strict=True)
        ]


def picture_layout(in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[list[float], float, float]:
    """How to draw the input and its feature map side by side at one scale.

    Returns the column weights (input, feature map, and an empty spacer when the photo is tall),
    and the share of its column each picture fills. The two picture columns are as wide as the
    wider of the two pictures needs, so they are (nearly) equal, and a picture narrower than that
    fills only its share: a stride-2 map fills half its column, so a pixel of either takes the same
    room on screen, whatever the window's width, side by side or stacked on a phone (columns of
    unequal width would meet Streamlit's minimum column width and lose the scale). The spacer
    keeps a tall photo from being drawn taller than :data:`TALLEST` times the row's width.
    """
    w_in, w_out = float(in_shape[1]), float(out_shape[1])
    wide = max(w_in, w_out)
    tallest = float(max(in_shape[0], out_shape[0]))
    spacer = max(0.0, tallest / TALLEST - 2 * wide)
    return [wide, wide] + ([spacer] if spacer > 0 else []), w_in / wide, w_out / wide


as_key = as_cells  # a kernel as nested tuples of floats: hashable, so it can key the caches


@dataclass(frozen=True)
class FilterSpec:
    """What the filter does to a photo; hashable, so it keys the shared caches."""

    kernel: tuple[tuple[float, ...], ...]
    partner: tuple[tuple[float, ...], ...] | None  # Sobel y, combined with the kernel as sqrt(x² + y²)
    stride: int
    padding: str | int  # "same", "valid" or cells per side
    padding_mode: str
    dilation: int

    @classmethod
    def of(cls, kernel: np.ndarray, partner: np.ndarray | None, cfg: KernelLabConfig) -> FilterSpec:
        return cls(
            as_key(kernel),
            None if partner is None else as_key(partner),
            cfg.stride,
            cfg.padding_spec,
            cfg.padding_mode,
            cfg.dilation,
        )


# --- the custom kernel and the inspected pixel as link text ------------------------------------

KERNEL_PARAM = "kernel"  # the custom kernel in a link: rows separated by ";", cells by ","
PIXEL_PARAM = "pixel"  # the inspected output pixel in a link: "row,col"
MAX_KERNEL_TEXT = 2000  # characters of kernel text read from a link


def cell_text(v: float) -> str:
    """One kernel weight as text that reads back exactly (the link, the editor's cells)."""
    # Exact and short: "2", "0.25", "1/9" (a fraction when the decimal would be long), else the
    # shortest decimal that reads back as the same float.
    v = float(v)
    if v.is_integer():
        return str(int(v))
    frac = Fraction(v).limit_denominator(1000)
    if len(repr(v)) > 6 and float(frac) == v:
        return f"{frac.numerator}/{frac.denominator}"
    return repr(v)


def kernel_text(kernel: np.ndarray) -> str:
    """A kernel as compact text, e.g. ``"1,0,-1;2,0,-2;1,0,-1"`` or ``"1/9,1/9;1/9,1/9"``."""
    return ";".join(",".join(cell_text(v) for v in row) for row in np.asarray(kernel, dtype=float))


def kernel_from_text(text: str) -> np.ndarray:
    """Inverse of :func:`kernel_text` (cells may be any number :func:`cnn_core.numbers.parse_number`
    reads); ``ValueError`` with a sentence when the text is not a kernel."""
    text = str(text).strip()
    if len(text) > MAX_KERNEL_TEXT:
        raise ValueError(
            f"The kernel in the link is {len(text):,} characters long; ConvLab reads up to {MAX_KERNEL_TEXT:,}."
        )
    return kernels.parse_kernel([row.split(",") for row in text.split(";")] if text else [])


def pixel_text(row: int, col: int) -> str:
    return f"{int(row)},{int(col)}"


def pixel_from_text(text: str) -> tuple[int, int]:
    """``"12,40"`` -> (12, 40); ``ValueError`` with a sentence for anything else."""
    parts = str(text).split(",")
    try:
        row, col = (int(p.strip()) for p in parts)
    except ValueError:
        raise ValueError(f"The pixel {text!r} in the link should be a row and a column, such as 12,40.") from None
    if row < 0 or col < 0:
        raise ValueError(f"The pixel {text!r} in the link has a negative row or column.")
    return row, col
