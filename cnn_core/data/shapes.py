"""The synthetic shapes set: lines, circles, squares, triangles and crosses drawn on the fly.

Their features (edges at one angle, corners, curves) are easy to spot in feature maps, and the
set needs no files at all. Same seed, same images.
"""

from __future__ import annotations

import numpy as np

from cnn_core.data.imageset import DatasetUnavailable, ImageSet, make_set

__all__ = ["SHAPE_CLASSES", "synthetic_shapes"]

SHAPE_CLASSES = ("horizontal line", "vertical line", "diagonal line", "circle", "square", "triangle", "cross")


def _draw_shape(kind: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``(size, size)`` uint8 image of shape class ``kind`` at a random place, size and width."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    s = size
    r = rng.uniform(0.22, 0.4) * s  # half-extent of the shape
    cx, cy = rng.uniform(r + 1, s - r - 1, size=2)
    w = int(rng.integers(1, max(2, s // 10) + 1))  # stroke width
    ink = int(rng.integers(170, 256))
    name = SHAPE_CLASSES[kind]
    if name == "horizontal line":
        d.line([(cx - r, cy), (cx + r, cy)], fill=ink, width=w)
    elif name == "vertical line":
        d.line([(cx, cy - r), (cx, cy + r)], fill=ink, width=w)
    elif name == "diagonal line":
        sign = 1 if rng.random() < 0.5 else -1
        d.line([(cx - r, cy - sign * r), (cx + r, cy + sign * r)], fill=ink, width=w)
    elif name == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=w)
    elif name == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], outline=ink, width=w)
    elif name == "triangle":
        pts = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
        d.line([*pts, pts[0]], fill=ink, width=w, joint="curve")
    else:  # cross
        d.line([(cx - r, cy), (cx + r, cy)], fill=ink, width=w)
        d.line([(cx, cy - r), (cx, cy + r)], fill=ink, width=w)
    a = np.asarray(img, dtype=np.float32)
    a += rng.normal(0.0, 12.0, size=a.shape)  # a little sensor noise
    return np.clip(a, 0, 255).astype(np.uint8)


def synthetic_shapes(n_per_class: int = 300, size: int = 28, seed: int = 0, test_fraction: float = 0.2) -> ImageSet:
    """Generate the synthetic shapes set (white outlines on black, with a little noise).

    Parameters
    ----------
    n_per_class : int
        Images per class in total (split into train and test).
    size : int
        Side of the square images, at least 12.
    seed : int
        Same seed -> same images.
    test_fraction : float
        Share of each class kept for testing.

    Returns
    -------
    ImageSet
        ``len(SHAPE_CLASSES)`` classes, 1 x size x size.
    """
    if size < 12:
        raise DatasetUnavailable(f"Shapes need at least 12 x 12 pixels to be recognisable; got {size}.")
    if n_per_class < 2:
        raise DatasetUnavailable("Ask for at least 2 images per class (one to train on, one to test).")
    rng = np.random.default_rng(seed)
    k = len(SHAPE_CLASSES)
    y = np.repeat(np.arange(k), n_per_class)
    x = np.stack([_draw_shape(int(c), size, rng) for c in y])  # (N, H, W)
    n_test = min(max(1, round(n_per_class * test_fraction)), n_per_class - 1)
    is_test = np.tile(np.arange(n_per_class) < n_test, k)
    tr, te = rng.permutation(np.flatnonzero(~is_test)), rng.permutation(np.flatnonzero(is_test))
    return make_set(
        "Synthetic shapes", x[tr], y[tr], x[te], y[te], SHAPE_CLASSES, source=f"generated (seed {seed}, {size}x{size})"
    )
