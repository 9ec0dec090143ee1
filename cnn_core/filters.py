"""Fast filtering of whole photos: the Kernel Lab path.

This module owns applying one 2-D kernel to every channel of a full-size photo, quickly and with
the same numbers as :func:`cnn_core.ops.conv2d` and ``torch.nn.functional.conv2d``
(cross-correlation: the kernel is not flipped). Shapes and padding come from
:mod:`cnn_core.geometry`, so the output size always matches the formula the app shows.

How it is fast, in plain numpy (no compiled code of its own, no OpenCV):

* The photo stays in its natural (H, W, C) layout. Channels are interleaved, so a kernel tap one
  pixel to the right is simply ``C`` numbers further along a row, and all channels are filtered
  by the same array operations at once.
* The work is done in bands of a few rows whose buffers stay in the CPU cache; every step is one
  whole-band array operation, recorded once and replayed for each band. The big image is read
  once and the output written once.
* A kernel of rank 1 (box, Gaussian, Sobel, Prewitt, line detectors) is split into a column
  times a row and applied as two 1-D passes: ``kh + kw`` taps instead of ``kh * kw``. Binomial
  factors are cascaded: ``[1, 2, 1]`` is ``[1, 1]`` twice, two additions instead of three steps.
* Taps with weight 0 are skipped, taps with weight +-1 are additions or subtractions, and taps
  with equal weights are summed before one multiplication.
* A kernel that is a common factor times whole numbers (``[1, 2, 1] / 16``) on an 8- or 16-bit
  image is summed in 16- or 32-bit integers (exact, half the memory traffic of float32) and
  converted and scaled once, in the last step.
* Large images are shared between the calling thread and helper threads, band by band; numpy
  releases the GIL inside its array loops.

NaN or infinite pixels spread to the output cells that see them, as in torch and OpenCV (uploads
never have them: :mod:`cnn_core.images` gives finite values); a bad kernel or setting raises
``ValueError`` with a readable sentence.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import Literal

import numpy as np

from cnn_core import geometry
from cnn_core.kernels import Preset
from cnn_core.ops import PaddingSpec, resolve_padding_2d

PaddingModeName = Literal["zeros", "reflect", "replicate"]

__all__ = ["PaddingModeName", "apply_kernel", "apply_preset", "separable_factors"]

PADDING_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate")

# Values in one band buffer (per worker): 16 rows of a 4000-pixel RGB photo. Measured on 12 MP
# photos: fewer rows cost more Python per value, more rows fall out of the L2 cache.
_BAND_VALUES = 192 * 1024
# Below this many output values (about 2 megapixels of RGB) helper threads cost more than they save.
_THREAD_MIN_VALUES = 6_000_000
# Largest integer a kernel may be scaled to when looking for a common factor.
_MAX_INT_WEIGHT = 4096

_pool: ThreadPoolExecutor | None = None
_pool_lock = Lock()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def apply_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: PaddingSpec = "same",
    padding_mode: PaddingModeName = "zeros",
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Filter every channel of an image with one 2-D kernel (cross-correlation).

    Parameters
    ----------
    image : ndarray
        (H, W) or (H, W, C), any numeric dtype (uint8 photos, uint16, float...). Each channel is
        filtered on its own with the same kernel.
    kernel : ndarray
        (kh, kw) finite numbers. Not flipped, as in ``torch.nn.functional.conv2d`` and
        ``cv2.filter2D``.
    stride, dilation : int or (int, int)
        Step between output cells and spacing between kernel taps, as ``(rows, columns)``.
    padding : "valid", "same", "full", int, (ph, pw) or ((top, bottom), (left, right))
        "same" is TensorFlow's: an odd total puts the extra cell at the bottom / right.
    padding_mode : "zeros", "reflect" or "replicate"
        What the padding cells hold: zeros, the image mirrored about its edge pixel (PyTorch's
        "reflect", OpenCV's BORDER_REFLECT_101), or copies of the edge pixel.

    Returns
    -------
    ndarray, float32
        (H', W') or (H', W', C) with ``H'``, ``W'`` from :func:`cnn_core.geometry.output_size`.
        Values are in the input's units (a uint8 photo gives values on the 0..255 scale), not
        clipped: an edge detector gives negative numbers.

    Raises
    ------
    ValueError
        With a readable sentence for an empty or non-numeric image, an empty kernel or one with
        NaN or infinite cells, a stride or dilation below 1, negative padding, a kernel larger
        than the padded image, or reflect padding as wide as the image.

    Notes
    -----
    Speed: an 8- or 16-bit image with a kernel of whole numbers times one factor (every preset)
    is summed exactly in integers, about twice as fast as a float image; for photos pass the
    uint8 pixels (e.g. ``cnn_core.images.to_uint8``) and divide the result by 255 if 0..1 units
    are wanted. Memory: the output plus a few band buffers of a few hundred KB per thread.

    Examples
    --------
    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    >>> apply_kernel(img, np.ones((3, 3)), padding="valid")
    array([[45., 54.],
           [81., 90.]], dtype=float32)
    """
    src, squeeze = _check_image(image)
    k = _check_kernel(kernel)
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    mode = _check_padding_mode(padding_mode)
    h, w = src.shape[:2]
    kh, kw = k.shape
    pad = _resolve_pad(padding, (h, w), (kh, kw), s, d)
    out_h = geometry.output_size(h, kh, stride=s[0], padding=pad[0], dilation=d[0])
    out_w = geometry.output_size(w, kw, stride=s[1], padding=pad[1], dilation=d[1])
    if mode == "reflect":
        _check_reflect(pad, (h, w))
    plan = _make_plan(k, s)
    out = np.empty((out_h, out_w, src.shape[2]), dtype=np.float32)  # (H', W', C)
    acc = _accumulator(src.dtype, plan)
    job = _Job(src, out, pad, s, d, (kh, kw), mode, plan, acc)
    _run(job)
    return out[:, :, 0] if squeeze else out


def apply_preset(image: np.ndarray, preset: Preset, **kwargs: object) -> np.ndarray:
    """Apply a :class:`cnn_core.kernels.Preset`, combining a pair into a gradient magnitude.

    For a preset with a ``partner`` (Sobel magnitude) the result is
    ``hypot(apply_kernel(image, kernel), apply_kernel(image, partner))``, so every value is
    ``sqrt(gx**2 + gy**2)`` and never negative. Keyword arguments are those of
    :func:`apply_kernel`.
    """
    first = apply_kernel(image, preset.kernel, **kwargs)  # type: ignore[arg-type]
    if preset.partner is None:
        return first
    second = apply_kernel(image, preset.partner, **kwargs)  # type: ignore[arg-type]
    return np.hypot(first, second, out=first)


def separable_factors(kernel: np.ndarray, *, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray] | None:
    """Split a rank-1 kernel into ``column`` (kh,) and ``row`` (kw,) with ``outer(column, row) == kernel``.

    Returns ``None`` when the kernel is not separable (its rank is above 1) or is all zeros.
    ``tol`` is the largest difference allowed, relative to the kernel's largest cell.

    >>> col, row = separable_factors(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]))
    >>> col, row
    (array([2., 4., 2.]), array([0.5, 1. , 0.5]))
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.size == 0:
        return None
    big = float(np.max(np.abs(k)))
    if big == 0.0 or not math.isfinite(big):
        return None
    p, q = np.unravel_index(int(np.argmax(np.abs(k))), k.shape)
    col = k[:, q].copy()
    row = k[p, :] / k[p, q]
    if np.max(np.abs(np.outer(col, row) - k)) > tol * big:
        return None
    return col, row


# --------------------------------------------------------------------------------------------
# Checking the inputs
# --------------------------------------------------------------------------------------------


def _check_image(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return the image as (H, W, C) (a view when possible) and whether it was 2-D."""
    try:
        arr = np.asarray(image)
    except (TypeError, ValueError):
        raise ValueError("The image must be an array of numbers.") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"The image must hold real numbers, got values of type {arr.dtype}.")
    if arr.ndim not in (2, 3):
        raise ValueError(f"The image must be (height, width) or (height, width, channels), got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"The image is empty (shape {arr.shape}): it needs at least one pixel.")
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    squeeze = arr.ndim == 2
    return (arr[:, :, None] if squeeze else arr), squeeze


def _check_kernel(kernel: np.ndarray) -> np.ndarray:
    try:
        k = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("The kernel must be a grid of numbers.") from None
    if k.size == 0:
        raise ValueError("The kernel is empty: it needs at least one cell.")
    if k.ndim != 2:
        raise ValueError(f"The kernel must be a 2-D grid (rows, columns), got shape {k.shape}.")
    if np.isnan(k).any():
        raise ValueError("The kernel holds NaN (not a number): every cell must be a real number.")
    if np.isinf(k).any():
        raise ValueError("The kernel holds an infinite value: every cell must be a finite number.")
    return k


def _pair(value: object, what: str) -> tuple[int, int]:
    """``value`` or ``(rows, columns)`` as two whole numbers of at least 1 (geometry's messages)."""
    if isinstance(value, numbers.Real) or isinstance(value, str):
        pair: tuple[object, ...] = (value, value)
    else:
        try:
            pair = tuple(value)  # type: ignore[arg-type]
        except TypeError:
            raise ValueError(f"The {what} must be a whole number or a (rows, columns) pair, got {value!r}.") from None
        if len(pair) != 2:
            raise ValueError(f"The {what} must be one number or a (rows, columns) pair, got {value!r}.")
    for v in pair:
        if what == "stride":
            geometry.same_padding(1, 1, stride=v)  # type: ignore[arg-type]
        else:
            geometry.effective_kernel(1, v)  # type: ignore[arg-type]
    return int(pair[0]), int(pair[1])  # type: ignore[call-overload]


def _check_padding_mode(padding_mode: object) -> str:
    mode = padding_mode.lower() if isinstance(padding_mode, str) else padding_mode
    if mode not in PADDING_MODES:
        raise ValueError(f"Unknown padding mode {padding_mode!r}: use 'zeros', 'reflect' or 'replicate'.")
    return mode  # type: ignore[return-value]


def _resolve_pad(
    padding: PaddingSpec,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[tuple[int, int], tuple[int, int]]:
    try:
        return resolve_padding_2d(padding, size, kernel, stride, dilation)
    except TypeError:
        raise ValueError(
            f"Padding must be 'valid', 'same', 'full', a whole number, (ph, pw) or ((top, bottom), (left, right)); "
            f"got {padding!r}."
        ) from None


def _check_reflect(pad: tuple[tuple[int, int], tuple[int, int]], size: tuple[int, int]) -> None:
    for (before, after), n, axis in zip(pad, size, ("tall", "wide"), strict=True):
        p = max(before, after)
        if p >= n:
            raise ValueError(
                f"Reflect padding mirrors the image about its edge pixel, so it needs fewer padding cells than "
                f"the image has pixels: {p} cells of padding on an image {n} pixel{'s' if n != 1 else ''} {axis}. "
                "Use less padding, or the 'replicate' or 'zeros' padding mode."
            )


# --------------------------------------------------------------------------------------------
# Planning: which whole-band array operations compute the sum over the kernel taps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """Taps sharing one weight magnitude: ``m * (sum(plus) - sum(minus))``; ``plus`` is never empty."""

    m: float
    plus: tuple[int, ...]
    minus: tuple[int, ...]

    @property
    def terms(self) -> list[tuple[int, int]]:
        return [(1, i) for i in self.plus] + [(-1, i) for i in self.minus]

    @property
    def cost_first(self) -> int:
        """Array passes when this group starts the sum (written, not accumulated)."""
        t = len(self.plus) + len(self.minus)
        return 1 if t == 1 else t - 1 + (self.m != 1.0)

    @property
    def cost_later(self) -> int:
        """Array passes when this group is added to a running sum."""
        t = len(self.plus) + len(self.minus)
        if abs(self.m) == 1.0:
            return t
        return t + 1 if t > 1 else 2


@dataclass(frozen=True)
class _Sum:
    """``sum_t weights[t] * view(t)`` as groups of equal-magnitude taps; the first group is written."""

    groups: tuple[_Group, ...]

    @property
    def cost(self) -> int:
        """Number of whole-band array passes."""
        if not self.groups:
            return 1
        first, *later = self.groups
        return first.cost_first + sum(g.cost_later for g in later)


def _group(weights: Sequence[float]) -> _Sum:
    """Group taps by weight magnitude, starting with the group that saves most by going first."""
    by_mag: dict[float, tuple[list[int], list[int]]] = {}
    for i, w in enumerate(weights):
        if w != 0.0:
            plus, minus = by_mag.setdefault(abs(float(w)), ([], []))
            (plus if w > 0 else minus).append(i)
    groups = [
        _Group(m, tuple(plus), tuple(minus)) if plus else _Group(-m, tuple(minus), ())
        for m, (plus, minus) in by_mag.items()
    ]
    if groups:
        best = max(range(len(groups)), key=lambda n: groups[n].cost_later - groups[n].cost_first)
        groups.insert(0, groups.pop(best))
    return _Sum(tuple(groups))


def _forms(weights: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Ways to write ``weights`` as ``scale * vector``: small integers first, then as given."""
    forms = [(weights, 1.0)]
    nz = np.abs(weights[weights != 0])
    if nz.size == 0:
        return forms
    base = float(nz.min())
    for mult in range(1, 13):
        r = weights / base * mult
        ints = np.round(r)
        close = np.max(np.abs(r - ints)) <= 1e-9 * max(1.0, float(np.max(np.abs(r))))
        if close and np.max(np.abs(ints)) <= _MAX_INT_WEIGHT:
            return [(ints, base / mult), *forms]
    return forms


@dataclass(frozen=True)
class _Line:
    """A 1-D kernel applied along one axis as a short sum followed by cascaded two-tap stages.

    The kernel polynomial is ``quotient(z) * prod(1 + s z)`` over ``stages``: the binomial
    ``[1, 2, 1]`` is ``(1 + z)(1 + z)``, two additions instead of three passes. With no
    ``quotient`` the line starts from the input shifted by ``shift`` taps.
    """

    quotient: _Sum | None
    q_len: int  # taps of the quotient (1 when it is a plain shift)
    shift: int  # tap the plain shift reads (only without a quotient)
    stages: tuple[int, ...]  # s of each (1 + s z) stage: +1 sum of neighbours, -1 difference
    integer: bool  # every weight is a whole number
    gain: float  # bound on |output| / |input| of every intermediate: L1 norm, times 2 per stage
    signed: bool  # some weight or stage is negative

    @property
    def cost(self) -> int:
        q = self.quotient.cost if self.quotient is not None else (0 if self.stages else 1)
        return q + len(self.stages)


def _divide(p: np.ndarray, s: int) -> np.ndarray | None:
    """``p(z) / (1 + s z)`` when it divides exactly (integer coefficients), else None."""
    if len(p) < 2:
        return None
    q = np.empty(len(p) - 1)
    q[0] = p[0]
    for i in range(1, len(p) - 1):
        q[i] = p[i] - s * q[i - 1]
    return q if p[-1] == s * q[-1] else None


def _is_integer(weights: np.ndarray) -> bool:
    return bool(np.all(weights == np.round(weights)))


def _line(weights: np.ndarray, *, cascade: bool) -> tuple[_Line, float]:
    """The cheapest :class:`_Line` for a 1-D kernel, and the factor it leaves for the overall scale."""
    options: list[tuple[np.ndarray, tuple[int, ...]]] = [(weights, ())]
    if cascade and _is_integer(weights):
        frontier = [(weights, ())]
        while frontier:
            nxt = []
            for p, stages in frontier:
                for s in (1, -1):
                    if stages and s > stages[-1]:
                        continue  # (1 + z) before (1 - z): each combination once
                    q = _divide(p, s)
                    if q is not None:
                        nxt.append((q, (*stages, s)))
            options += nxt
            frontier = nxt
    best: tuple[_Line, float] | None = None
    for q, stages in options:
        nz = np.flatnonzero(q)
        integer, signed = _is_integer(q), bool(np.any(q < 0)) or -1 in stages
        if len(nz) == 1:
            factor = float(q[nz[0]])
            line = _Line(None, 1, int(nz[0]), stages, True, 2.0 ** len(stages), -1 in stages)
        else:
            factor = 1.0
            gain = float(np.sum(np.abs(q))) * 2.0 ** len(stages)
            line = _Line(_group(q), len(q), 0, stages, integer, gain, signed)
        if best is None or line.cost < best[0].cost:
            best = (line, factor)
    assert best is not None
    return best


@dataclass(frozen=True)
class _Plan:
    """A 2-D pass (``direct``) or a column pass then a row pass, times ``scale`` at one end.

    ``scale`` is folded into the conversion to float32 (float path) or applied in the last pass
    (integer path, see :func:`_accumulator`).
    """

    scale: float
    integer: bool  # every weight is a whole number
    gain: float  # bound on |any intermediate| / |input|
    signed: bool  # some weight or stage is negative
    direct: _Sum | None = None
    column: _Line | None = None
    row: _Line | None = None

    @property
    def cost(self) -> int:
        """Whole-band array passes, counting the final scaling (free only on the float path)."""
        passes = self.direct.cost if self.direct is not None else self.column.cost + self.row.cost  # type: ignore[union-attr]
        return passes + (self.scale != 1.0)


def _make_plan(k: np.ndarray, stride: tuple[int, int] = (1, 1)) -> _Plan:
    """Pick the plan with the fewest array passes; ties go to exact integer forms and to one pass.

    Every form is tried with both signs, so a kernel like ``-[1, 2, 1]`` costs no final scaling:
    the minus sign moves into a subtraction that is needed anyway. Plans are cached per kernel.
    """
    k = np.asarray(k, dtype=np.float64)
    return _cached_plan(k.tobytes(), k.shape, stride[0] == 1, stride[1] == 1)


@functools.lru_cache(maxsize=256)
def _cached_plan(data: bytes, shape: tuple[int, int], cascade_rows: bool, cascade_cols: bool) -> _Plan:
    k = np.frombuffer(data, dtype=np.float64).reshape(shape)

    def signed_forms(weights: np.ndarray) -> list[tuple[np.ndarray, float]]:
        return [(sign * w, sign * s) for w, s in _forms(weights) for sign in (1.0, -1.0)]

    best: _Plan | None = None
    for w, s in signed_forms(k.ravel()):
        plan = _Plan(s, _is_integer(w), float(np.sum(np.abs(w))), bool(np.any(w < 0)), direct=_group(w))
        if best is None or plan.cost < best.cost:
            best = plan
    assert best is not None
    factors = separable_factors(k)
    if factors is None:
        return best
    col, row = factors
    for cw, cs in signed_forms(col):
        for rw, rs in signed_forms(row):
            c, cf = _line(cw, cascade=cascade_rows)
            r, rf = _line(rw, cascade=cascade_cols)
            integer, signed = c.integer and r.integer, c.signed or r.signed
            plan = _Plan(cs * rs * cf * rf, integer, c.gain * r.gain, signed, column=c, row=r)
            if plan.cost < best.cost:
                best = plan
    return best


def _accumulator(src: np.dtype, plan: _Plan) -> np.dtype | None:
    """The integer type that holds every partial sum exactly, or None to work in float32.

    8- and 16-bit integer images with whole-number weights are summed in 16- or 32-bit integers:
    exact, half the memory traffic of float32 for 8-bit photos, and no conversion until the last
    pass, which also applies the scale.
    """
    if not plan.integer or src.kind not in "biu" or src.itemsize > 2:
        return None
    info = np.iinfo(np.uint8 if src.kind == "b" else src)
    bound = max(-int(info.min), int(info.max)) * plan.gain
    if not plan.signed and info.min == 0 and bound <= np.iinfo(np.uint16).max:
        return np.dtype(np.uint16)
    if bound <= np.iinfo(np.int16).max:
        return np.dtype(np.int16)
    if bound <= np.iinfo(np.int32).max:
        return np.dtype(np.int32)
    return None


# A band's work is recorded once as a list of array operations on reusable buffers (a "program")
# and replayed for every band, so the Python cost per band is one call per operation.
_Op = tuple[Callable[..., object], tuple[object, ...], dict[str, object]]


class _Slot:
    """Stands for the output band, which is a different view of the output for every band."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


@dataclass(frozen=True)
class _ImageRows:
    """Stands for rows ``p0 + start, p0 + start + step, ...`` (``count`` of them) of the image itself.

    Bands that need no padding rows read the image directly instead of a padded copy; ``p0`` (the
    band's first input row) and the column range are only known when the program is replayed.
    """

    start: int
    count: int
    step: int = 1

    def resolve(self, image: np.ndarray, p0: int, cols: slice) -> np.ndarray:
        first = p0 + self.start
        return image[first : first + (self.count - 1) * self.step + 1 : self.step, cols]


def _replay(program: list[_Op], out: np.ndarray, image: np.ndarray, p0: int, cols: slice) -> None:
    """Run a recorded program with this band's output view and image rows put in place."""
    for fn, args, kwargs in program:
        args = tuple(
            out if isinstance(x, _Slot) else x.resolve(image, p0, cols) if isinstance(x, _ImageRows) else x
            for x in args
        )
        if isinstance(kwargs.get("out"), _Slot):
            kwargs = {**kwargs, "out": out}
        fn(*args, **kwargs)


def _copy_columns(a: np.ndarray, dst: np.ndarray, src: np.ndarray) -> None:
    """``a[:, dst] = a[:, src]``: mirror or repeat edge columns (as an operation a program can record)."""
    a[:, dst] = a[:, src]


def _emit_sum(
    ops: list[_Op],
    acc: np.ndarray | _Slot,
    scratch: np.ndarray,
    plan: _Sum,
    view: Callable[[int], np.ndarray],
    dt: np.dtype,
) -> None:
    """Record ``acc = sum(weight * view(tap))`` (same shape as every view), computed in ``dt``."""
    if not plan.groups:
        ops.append((np.copyto, (acc, 0), {}))
        return
    for n, g in enumerate(plan.groups):
        if n == 0:
            _emit_terms(ops, acc, g.terms, view, g.m, dt)
        elif abs(g.m) == 1.0:
            for sign, i in g.terms:
                ops.append((np.add if sign * g.m > 0 else np.subtract, (acc, view(i)), {"out": acc, "dtype": dt}))
        else:
            _emit_terms(ops, scratch, g.terms, view, g.m, dt)
            ops.append((np.add, (acc, scratch), {"out": acc, "dtype": dt}))


def _emit_terms(
    ops: list[_Op],
    out: np.ndarray | _Slot,
    terms: list[tuple[int, int]],
    view: Callable[[int], np.ndarray],
    m: float,
    dt: np.dtype,
) -> None:
    """Record ``out = m * sum(sign * view(i))``; the first term is positive unless it is alone."""
    if len(terms) == 1:
        sign, i = terms[0]
        if sign * m == 1.0:
            ops.append((np.copyto, (out, view(i)), {"casting": "unsafe"}))
        else:
            ops.append((np.multiply, (view(i), dt.type(sign * m)), {"out": out, "dtype": dt}))
        return
    (_, a), (sign_b, b) = terms[0], terms[1]
    ops.append((np.add if sign_b > 0 else np.subtract, (view(a), view(b)), {"out": out, "dtype": dt}))
    for sign, i in terms[2:]:
        ops.append((np.add if sign > 0 else np.subtract, (out, view(i)), {"out": out, "dtype": dt}))
    if m != 1.0:
        ops.append((np.multiply, (out, dt.type(m)), {"out": out, "dtype": dt}))


def _along(a: np.ndarray | _ImageRows, axis: int, start: int, count: int, step: int = 1) -> np.ndarray | _ImageRows:
    """``count`` entries of ``a`` along ``axis`` (0: rows, 1: columns) from ``start``, ``step`` apart."""
    if isinstance(a, _ImageRows):  # rows of the image, chosen at replay
        return _ImageRows(a.start + start * a.step, count, a.step * step)
    sl = slice(start, start + (count - 1) * step + 1, step)
    return a[sl] if axis == 0 else a[:, sl]


def _emit_line(
    ops: list[_Op],
    line: _Line,
    src: np.ndarray | _ImageRows,
    dst: np.ndarray | _Slot,
    axis: int,
    dil: int,
    step: int,
    scratch: list[np.ndarray],
    dt: np.dtype,
) -> None:
    """Record a :class:`_Line` along ``axis``: ``dst[n] = sum_t w[t] * src[n * step + t * dil]``.

    ``scratch`` holds three arrays at least as large as ``src``; stages only run with ``step == 1``.
    """
    n_dst = dst.shape[axis]
    n_q = n_dst + len(line.stages) * dil  # length after the quotient, before the stages
    q_step = step if not line.stages else 1

    def view(t: int) -> np.ndarray:
        return _along(src, axis, t * dil, n_q, q_step)

    def part(a: np.ndarray, n: int) -> np.ndarray:
        """The leading block of a scratch array shaped like ``dst`` but ``n`` long along ``axis``."""
        shape = list(dst.shape)
        shape[axis] = n
        return a[: shape[0], : shape[1], : shape[2]]

    if not line.stages:
        if line.quotient is None:
            ops.append((np.copyto, (dst, view(line.shift)), {"casting": "unsafe"}))
        else:
            _emit_sum(ops, dst, part(scratch[2], n_dst), line.quotient, view, dt)
        return
    if line.quotient is None:
        cur = view(line.shift)
    else:
        cur = part(scratch[0], n_q)
        _emit_sum(ops, cur, part(scratch[2], n_q), line.quotient, view, dt)
    for k, s in enumerate(line.stages):
        n = n_q - (k + 1) * dil
        target = dst if k == len(line.stages) - 1 else part(scratch[(k + 1) % 2], n)
        fn = np.add if s > 0 else np.subtract
        ops.append((fn, (_along(cur, axis, 0, n), _along(cur, axis, dil, n)), {"out": target, "dtype": dt}))
        cur = target  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------
# Running: bands of rows, padded into small cached buffers, shared between threads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    src: np.ndarray  # (H, W, C) any numeric dtype
    out: np.ndarray  # (H', W', C) float32
    pad: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    stride: tuple[int, int]
    dilation: tuple[int, int]
    kernel_shape: tuple[int, int]
    mode: str
    plan: _Plan
    acc: np.dtype | None  # integer type for exact sums (see _accumulator), None for float32

    @property
    def in_width(self) -> int:
        """Padded-input columns any tap reaches: ``(W' - 1) * sw + dw * (kw - 1) + 1``."""
        return (self.out.shape[1] - 1) * self.stride[1] + self.dilation[1] * (self.kernel_shape[1] - 1) + 1

    def in_rows(self, n_out: int) -> int:
        """Padded-input rows that ``n_out`` consecutive output rows reach."""
        return (n_out - 1) * self.stride[0] + self.dilation[0] * (self.kernel_shape[0] - 1) + 1


def _source_indices(p: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Input index each padded cell ``p`` (counted from the first input cell) copies; -1 for a zero."""
    if mode == "zeros":
        return np.where((p >= 0) & (p < n), p, -1)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    r = np.abs(p)  # reflect about the edge pixel, which is not repeated (pad < n is checked)
    return np.where(r >= n, 2 * (n - 1) - r, r)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="convlab-filter")
        return _pool


class _Bands:
    """The output bands still to compute, handed out one at a time to whichever worker asks first."""

    def __init__(self, out_h: int, band: int) -> None:
        self._next = 0
        self._out_h, self._band = out_h, band
        self._lock = Lock()

    def take(self) -> tuple[int, int] | None:
        """``(first output row, rows)`` of the next band, or None when all are taken."""
        with self._lock:
            y0 = self._next
            if y0 >= self._out_h:
                return None
            self._next = y0 + self._band
        return y0, min(self._band, self._out_h - y0)

    def stop(self) -> None:
        """Hand out nothing more (a worker failed)."""
        with self._lock:
            self._next = self._out_h


def _run(job: _Job) -> None:
    """Fill ``job.out``: the calling thread works, helped by pool threads on large images.

    Bands are handed out dynamically, so a helper that starts late (the pool is shared by every
    caller) or runs slowly (a busy machine) simply takes fewer bands.
    """
    out_h, out_w, c = job.out.shape
    band = max(1, min(out_h, _BAND_VALUES // (job.in_width * c * job.stride[0])))
    bands = _Bands(out_h, band)
    helpers = 0
    if out_h * out_w * c >= _THREAD_MIN_VALUES:
        helpers = min(_workers() - 1, out_h // band - 1)
    futures = [_executor().submit(_work, job, bands, band) for _ in range(max(0, helpers))]
    try:
        _work(job, bands, band)
    except BaseException:
        bands.stop()
        raise
    finally:
        for f in futures:
            f.exception()  # wait for every helper before the caller sees the output
    for f in futures:
        f.result()


def _work(job: _Job, bands: _Bands, band: int) -> None:
    """Compute bands until none are left, with this worker's own buffers.

    The sums run in float32 or, on the integer path, exactly in ``job.acc``; the last operations
    write float32 into the output and apply the plan's scale. A two-pass (separable) plan reads
    the image directly for bands that need no padding rows; other bands are first copied, padded
    and widened into ``buf``.
    """
    taken = bands.take()
    if taken is None:
        return
    (top, _), (left, _) = job.pad
    sh = job.stride[0]
    h, _, c = job.src.shape
    out_w = job.out.shape[1]
    width, plan = job.in_width, job.plan
    dt = np.dtype(np.float32) if job.acc is None else job.acc
    buf = np.zeros((job.in_rows(band), width, c), dtype=dt)  # padded input rows; integers widened on the way in
    scratch = [np.empty(buf.shape, dtype=dt) for _ in range(1 if plan.direct is not None else 3)]
    tmp = np.zeros((band, width, c), dtype=dt)  # column pass result; padding columns stay zero
    res = np.empty((band, out_w, c), dtype=dt) if job.acc is not None else None  # exact sums of a band
    filler = _Filler(job.src, buf, left, job.mode)
    direct_ok = plan.direct is None and filler.edges_inside
    programs: dict[tuple[int, bool], list[_Op]] = {}
    while taken is not None:
        y0, nb = taken
        p0, rows = y0 * sh - top, job.in_rows(nb)  # the band's first padded row, as an input row
        direct = direct_ok and p0 >= 0 and p0 + rows <= h
        if not direct:
            filler.fill(p0, rows)
        key = (nb, direct)
        if key not in programs:
            programs[key] = _band_program(job, nb, buf, scratch, tmp, res, dt, filler if direct else None)
        _replay(programs[key], job.out[y0 : y0 + nb], job.src, p0, filler.src_cols)
        taken = bands.take()


def _band_program(
    job: _Job,
    nb: int,
    buf: np.ndarray,
    scratch: list[np.ndarray],
    tmp: np.ndarray,
    res: np.ndarray | None,
    dt: np.dtype,
    from_image: _Filler | None,
) -> list[_Op]:
    """Record the operations that turn ``nb`` output rows' input into the output band.

    The input is ``buf`` (padded rows), or with ``from_image`` the image rows themselves: the
    column pass then fills only the image's columns of ``tmp`` and the edge columns are mirrored
    or repeated afterwards (filtering down each column commutes with padding across).
    """
    plan = job.plan
    sh, sw = job.stride
    dh, dw = job.dilation
    kh, kw = job.kernel_shape
    out_w, c = job.out.shape[1:]
    slot = _Slot((nb, out_w, c))
    target: np.ndarray | _Slot = slot if res is None else res[:nb]  # (nb, W', C)
    ops: list[_Op] = []
    if plan.direct is not None:
        taps = [(i * dh, j * dw) for i in range(kh) for j in range(kw)]
        y_span, x_span = (nb - 1) * sh + 1, (out_w - 1) * sw + 1

        def view(t: int) -> np.ndarray:
            r, q = taps[t]
            return buf[r : r + y_span : sh, q : q + x_span : sw]

        _emit_sum(ops, target, scratch[0][:nb, :out_w], plan.direct, view, dt)
    else:
        col_out = tmp[:nb]  # (nb, width, C)
        if from_image is None:
            _emit_line(ops, plan.column, buf[: job.in_rows(nb)], col_out, 0, dh, sh, scratch, dt)  # type: ignore[arg-type]
        else:
            image_rows = _ImageRows(0, job.in_rows(nb))
            _emit_line(ops, plan.column, image_rows, col_out[:, from_image.cols], 0, dh, sh, scratch, dt)  # type: ignore[arg-type]
            if from_image.edge_dst.size:
                ops.append((_copy_columns, (col_out, from_image.edge_dst, from_image.edge_src + from_image.left), {}))
        _emit_line(ops, plan.row, col_out, target, 1, dw, sw, scratch, dt)  # type: ignore[arg-type]
    if res is not None:
        ops.append((np.copyto, (slot, target), {"casting": "unsafe"}))  # a plain cast beats a casting multiply
    if plan.scale != 1.0:
        ops.append((np.multiply, (slot, np.float32(plan.scale)), {"out": slot}))
    return ops


class _Filler:
    """Copies padded-input rows of the image into a worker's band buffer (converting and padding)."""

    def __init__(self, src: np.ndarray, buf: np.ndarray, left: int, mode: str) -> None:
        self.src, self.buf, self.mode, self.left = src, buf, mode, left
        w = src.shape[1]
        col_src = _source_indices(np.arange(buf.shape[1]) - left, w, mode)
        inner = np.flatnonzero((col_src >= 0) & (col_src == np.arange(buf.shape[1]) - left))
        q0, q1 = (int(inner[0]), int(inner[-1]) + 1) if inner.size else (0, 0)
        self.cols, self.src_cols = slice(q0, q1), slice(q0 - left, q1 - left)  # straight copy
        edge = np.ones(buf.shape[1], dtype=bool)
        edge[q0:q1] = False
        edge &= col_src >= 0
        self.edge_dst, self.edge_src = np.flatnonzero(edge), col_src[edge]  # mirrored / repeated columns
        # Whether every mirrored / repeated column copies one of the straight-copied columns.
        self.edges_inside = q1 > q0 and bool(np.all((self.edge_src + left >= q0) & (self.edge_src + left < q1)))

    def fill(self, p0: int, rows: int) -> None:
        """Fill ``buf[:rows]`` with padded-input rows ``p0 ..`` (numbered as input rows)."""
        src, buf, h = self.src, self.buf, self.src.shape[0]
        a, b = max(p0, 0), min(p0 + rows, h)
        if b > a:
            np.copyto(buf[a - p0 : b - p0, self.cols], src[a:b, self.src_cols], casting="unsafe")
        if a > p0 or b < p0 + rows:  # rows above or below the image
            outside = np.array([r for r in range(p0, p0 + rows) if not a <= r < b])
            for r, s in zip(outside, _source_indices(outside, h, self.mode), strict=True):
                if s < 0:
                    buf[r - p0].fill(0)
                else:
                    np.copyto(buf[r - p0, self.cols], src[s, self.src_cols], casting="unsafe")
        if self.edge_dst.size:
            row_src = _source_indices(np.arange(p0, p0 + rows), h, self.mode)
            buf[:rows, self.edge_dst] = src[row_src[:, None], self.edge_src[None, :]]  # (rows, edge columns, C)
