"""Learned kernels next to the hand-made ones: which preset of :mod:`cnn_core.kernels` a kernel resembles.

Compared by signed cosine similarity of the zero-mean, unit-norm kernels; kernels that are
mostly a constant are "flat" (an average, a blur).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from cnn_core.kernels import PRESETS

FLAT_SHARE = 0.8  # a kernel whose mean carries this share of its energy is "flat" (an average, a blur)


def _fit(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Centre-crop or zero-pad ``kernel`` to ``shape`` (each axis separately)."""
    out = np.asarray(kernel, dtype=np.float64)
    for axis, want in enumerate(shape):
        have = out.shape[axis]
        if have > want:
            start = (have - want) // 2
            out = np.take(out, range(start, start + want), axis=axis)
        elif have < want:
            before = (want - have) // 2
            pad = [(0, 0), (0, 0)]
            pad[axis] = (before, want - have - before)
            out = np.pad(out, pad)
    return out


def _unit(k: np.ndarray) -> np.ndarray | None:
    z = np.asarray(k, dtype=np.float64) - float(np.mean(k))
    n = float(np.linalg.norm(z))
    return z / n if n > 1e-12 else None


@lru_cache(maxsize=16)
def _candidates(shape: tuple[int, int]) -> Mapping[str, np.ndarray]:
    """Preset name -> preset kernel fitted to ``shape``; patterns equal after zero-mean kept once.

    Made once per shape (a first layer's 16-64 kernels share one) and read-only, since every caller shares it.
    """
    out: dict[str, np.ndarray] = {}
    seen: list[np.ndarray] = []
    for name, p in PRESETS.items():
        if p.partner is not None:  # Sobel magnitude is two kernels combined, not one pattern
            continue
        fitted = _fit(p.kernel, shape).copy()  # its own array: made read-only below
        u = _unit(fitted)
        if u is None or any(abs(float(np.sum(u * s))) > 1 - 1e-9 for s in seen):
            continue  # a constant kernel (box blur) has no pattern; duplicates / exact inverses kept once
        if p.kernel.shape != shape:
            how = "centre" if p.kernel.shape[0] > shape[0] else "padded to"
            name = f"{name} ({how} {shape[0]}x{shape[1]})"
        fitted.flags.writeable = False
        out[name] = fitted
        seen.append(u)
    return MappingProxyType(out)


def _as_2d(kernel: np.ndarray) -> np.ndarray:
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 3:  # (C, kh, kw): the response to a gray image is that of the channel sum
        k = k.sum(axis=0)
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"A kernel must be (kh, kw) or (C, kh, kw), not shape {k.shape}.")
    return k


def preset_similarities(kernel: np.ndarray) -> dict[str, float]:
    """Signed cosine similarity of ``kernel``'s zero-mean pattern with every preset's.

    1 means the same pattern (up to scale and a constant offset), -1 the inverted pattern, 0
    unrelated. A ``(C, kh, kw)`` kernel is compared through its sum over channels (what it does to
    a gray image). Presets of another size are centre-cropped or zero-padded to the kernel's size.
    """
    k = _as_2d(kernel)
    u = _unit(k)
    cands = _candidates(k.shape)
    if u is None:
        return dict.fromkeys(cands, 0.0)
    return {name: float(np.sum(u * _unit(c))) for name, c in cands.items()}


@dataclass(frozen=True)
class KernelMatch:
    """The preset a learned kernel resembles most."""

    preset: str  # preset name, possibly with "(centre 3x3)" when it was cropped
    similarity: float  # signed cosine similarity in [-1, 1]
    compared: np.ndarray  # the preset kernel as compared (same shape as the learned kernel)
    flat: bool = False  # the kernel is mostly a constant: an average (blur) or its negative

    @property
    def inverted(self) -> bool:
        return self.similarity < 0

    @property
    def phrase(self) -> str:
        """E.g. ``"looks most like an inverted Sobel x (similarity -0.83)"``."""
        what = f"an inverted {self.preset}" if self.inverted else self.preset
        return f"looks most like {what} (similarity {self.similarity:+.2f})"


def nearest_preset(kernel: np.ndarray) -> KernelMatch:
    """The hand-made preset whose pattern is closest to ``kernel``, sign included.

    Kernels whose mean carries at least :data:`FLAT_SHARE` of their energy are mostly an average
    of their neighbourhood; they match "Box blur" with similarity ``±sqrt(share)`` (the cosine
    with a constant kernel). Otherwise the preset with the largest ``|similarity|`` of the
    zero-mean patterns wins (see :func:`preset_similarities`); on a tie the positive one.

    Parameters
    ----------
    kernel : np.ndarray
        ``(kh, kw)`` or ``(C, kh, kw)``.
    """
    k = _as_2d(kernel)
    energy = float(np.sum(k * k))
    share = k.size * float(np.mean(k)) ** 2 / energy if energy > 0 else 0.0
    if energy == 0 or share >= FLAT_SHARE:
        sim = math.copysign(math.sqrt(share), float(np.mean(k))) if energy > 0 else 0.0
        box = np.full(k.shape, 1.0 / k.size)
        return KernelMatch("Box blur", sim, box, flat=True)
    sims = preset_similarities(k)
    name = max(sims, key=lambda n: (round(abs(sims[n]), 9), sims[n] > 0))
    return KernelMatch(name, sims[name], _candidates(k.shape)[name])
