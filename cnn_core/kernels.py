"""Kernels: the preset registry, reading a kernel a person typed, and the numbers that rescale one.

Kernels are applied as cross-correlation (not flipped), like every deep-learning library, so
"Sobel x" below responds positively where brightness *increases* from left to right.
A preset with a ``partner`` is a pair whose two responses are combined as a gradient
magnitude ``sqrt(a**2 + b**2)`` (Sobel magnitude).

Besides the presets: :func:`parse_kernel` (a grid of typed cells, each read by
:func:`cnn_core.numbers.parse_number`), :func:`normalise`, :func:`resize_kernel` and
:func:`auto_display` (how a filtered photo is best shown, from what the kernel does to brightness).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cnn_core.numbers import FROM_ZERO, parse_number

__all__ = [
    "MAX_KERNEL_SIDE",
    "PRESETS",
    "Preset",
    "auto_display",
    "normalise",
    "parse_kernel",
    "resize_kernel",
    "sums_to_zero",
]


@dataclass(frozen=True)
class Preset:
    """A named kernel. ``kernel`` is (kh, kw) float64; ``partner`` the second kernel of a pair."""

    name: str
    kernel: np.ndarray
    description: str
    partner: np.ndarray | None = field(default=None)

    @property
    def shape(self) -> tuple[int, int]:
        return self.kernel.shape  # type: ignore[return-value]


def _k(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    k = np.array(rows, dtype=np.float64) * scale
    k.setflags(write=False)
    return k


_SOBEL_X = _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
_SOBEL_Y = _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
_BINOMIAL5 = np.array([1, 4, 6, 4, 1], dtype=np.float64)
_LINE7 = np.zeros((7, 7))
_LINE7[:, 3] = 1


def _presets() -> dict[str, Preset]:
    items = [
        Preset(
            "Identity",
            _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
            "Copies each pixel unchanged: the one kernel that does nothing.",
        ),
        Preset(
            "Box blur",
            _k([[1] * 3] * 3, 1 / 9),
            "Replaces each pixel by the plain average of its 3x3 neighbourhood, softening detail.",
        ),
        Preset(
            "Gaussian blur 3x3",
            _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
            "A weighted average that trusts the centre most, so it blurs more smoothly than the box.",
        ),
        Preset(
            "Gaussian blur 5x5",
            _k(np.outer(_BINOMIAL5, _BINOMIAL5).tolist(), 1 / 256),
            "A wider Gaussian: a stronger, smoother blur over a 5x5 neighbourhood.",
        ),
        Preset(
            "Sharpen",
            _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
            "Adds the difference from the neighbours back to each pixel, making edges crisper.",
        ),
        Preset("Sobel x", _SOBEL_X, "Responds to brightness changing from left to right: it finds vertical edges."),
        Preset("Sobel y", _SOBEL_Y, "Responds to brightness changing from top to bottom: it finds horizontal edges."),
        Preset(
            "Sobel magnitude",
            _SOBEL_X,
            "Combines Sobel x and Sobel y as sqrt(x² + y²): edge strength in every direction.",
            partner=_SOBEL_Y,
        ),
        Preset(
            "Prewitt x",
            _k([[-1, 0, 1]] * 3),
            "Like Sobel x without the extra weight on the middle row: vertical edges.",
        ),
        Preset(
            "Prewitt y",
            _k([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
            "Like Sobel y without the extra weight on the middle column: horizontal edges.",
        ),
        Preset(
            "Laplacian (4-neighbour)",
            _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
            "Second derivative: zero on flat areas and smooth ramps, large on fine detail and edges.",
        ),
        Preset(
            "Laplacian (8-neighbour)",
            _k([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
            "The Laplacian including diagonals: picks up detail in all eight directions.",
        ),
        Preset(
            "Outline",
            _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
            "Keeps only where a pixel differs from all its neighbours, drawing outlines.",
        ),
        Preset(
            "Emboss",
            _k([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
            "Lights the picture from the top left, so edges look raised or pressed in.",
        ),
        Preset(
            "Vertical edge (course notes)",
            _k([[1, 0, -1]] * 3),
            "The course notes' 3x3 edge detector: bright-to-dark from left to right gives a positive response.",
        ),
        Preset(
            "Horizontal edge (course notes)",
            _k([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
            "The same edge detector turned on its side: bright-to-dark from top to bottom.",
        ),
        Preset(
            "Vertical line 7x7",
            _k(_LINE7.tolist()),
            "Sums a 7-pixel vertical strip: vertical lines add up and stand out, the rest blurs.",
        ),
        Preset(
            "Horizontal line 7x7",
            _k(_LINE7.T.tolist()),
            "Sums a 7-pixel horizontal strip: horizontal lines stand out, the rest blurs.",
        ),
    ]
    return {p.name: p for p in items}


PRESETS: dict[str, Preset] = _presets()
"""Preset name -> :class:`Preset`, in the order the app lists them."""

MAX_KERNEL_SIDE = 9


def parse_kernel(cells: list[list[object]] | np.ndarray) -> np.ndarray:
    """Turn a grid of cells typed by a person into a finite float kernel.

    Accepts numbers or strings such as ``"-1"``, ``"0.25"`` or ``"1/9"``. Raises ``ValueError``
    naming the first bad cell (row and column counted from 1) when a cell is empty, not a number,
    NaN or infinite, or when the grid is empty, ragged or larger than 9x9.
    """
    rows = [list(r) for r in (cells.tolist() if isinstance(cells, np.ndarray) else cells)]
    if not rows or not rows[0]:
        raise ValueError("The kernel is empty: it needs at least one cell.")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("Every row of the kernel must have the same number of cells.")
    if len(rows) > MAX_KERNEL_SIDE or width > MAX_KERNEL_SIDE:
        raise ValueError(f"Kernels can be at most {MAX_KERNEL_SIDE}x{MAX_KERNEL_SIDE}, got {len(rows)}x{width}.")
    out = np.empty((len(rows), width), dtype=np.float64)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            out[i, j] = _parse_cell(cell, i, j)
    return out


def _parse_cell(cell: object, row: int, col: int) -> float:
    where = f"row {row}, column {col} {FROM_ZERO}"
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise ValueError(f"The kernel cell at {where} is empty: type a number (0 for nothing).")
    if isinstance(cell, bool):
        raise ValueError(f"The kernel cell at {where} is not a number.")
    try:
        value = float(cell) if isinstance(cell, int | float | np.number) else parse_number(str(cell))
    except ValueError:
        value = _non_finite(str(cell))  # parse_number refuses NaN and infinity; say which it was
        if value is None:
            raise ValueError(f"The kernel cell at {where} holds {cell!r}, which is not a number.") from None
    if np.isnan(value):
        raise ValueError(f"The kernel cell at {where} is NaN (not a number): type a real number.")
    if np.isinf(value):
        raise ValueError(f"The kernel cell at {where} is infinite: type a finite number.")
    return value


def _non_finite(text: str) -> float | None:
    """NaN or an infinity when ``text`` spells one (``"nan"``, ``"inf"``, ``"1e999"``), else None."""
    try:
        value = float(text.strip().replace("−", "-"))
    except ValueError:
        return None
    return None if np.isfinite(value) else value


def sums_to_zero(kernel: np.ndarray) -> bool:
    """Whether the weights sum to 0 (edge detectors): such a kernel cannot be normalised."""
    return abs(float(np.sum(kernel))) < 1e-12


def normalise(kernel: np.ndarray) -> np.ndarray:
    """Scale a kernel so its cells sum to 1 (keeps average brightness); unchanged if they sum to 0."""
    if sums_to_zero(kernel):
        return np.asarray(kernel, dtype=np.float64).copy()
    return np.asarray(kernel, dtype=np.float64) / float(np.sum(kernel))


def resize_kernel(kernel: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Grow with zeros or crop around the centre, keeping the kernel's middle in the middle."""
    kernel = np.asarray(kernel, dtype=np.float64)
    out = np.zeros((rows, cols))
    kh, kw = kernel.shape
    src_r0, dst_r0 = max(0, (kh - rows) // 2), max(0, (rows - kh) // 2)
    src_c0, dst_c0 = max(0, (kw - cols) // 2), max(0, (cols - kw) // 2)
    h, w = min(kh, rows), min(kw, cols)
    out[dst_r0 : dst_r0 + h, dst_c0 : dst_c0 + w] = kernel[src_r0 : src_r0 + h, src_c0 : src_c0 + w]
    return out


def auto_display(
    kernel: np.ndarray, color: str, *, magnitude: bool = False
) -> Literal["clip", "abs", "stretch", "signed"]:
    """How to show a photo filtered by ``kernel`` (a :func:`cnn_core.images.display_range` mode).

    Kernels whose weights sum to about 1 keep brightness (clip). Kernels with no negative weight
    (the 7x7 line detectors sum to 7) never respond below zero but pass 255, so their range is
    stretched onto black to white; signed colours would make them look like a negative. Others
    respond with signs, shown as signed colours on grayscale and as absolute values on RGB. A
    gradient magnitude (a preset with a partner) is never negative, so it shows as strength.
    """
    if magnitude:
        return "abs"
    if abs(float(np.sum(kernel)) - 1.0) < 0.05:
        return "clip"
    if float(np.min(kernel)) >= 0:
        return "stretch"
    return "signed" if color == "gray" else "abs"
