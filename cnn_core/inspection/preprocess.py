"""A person's photo or drawing made into exactly what the model was trained on, every stage kept;
and the pictures of stored test images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from PIL import Image

from cnn_core.data import ImageSet


def picture_of(data: ImageSet, i: int) -> np.ndarray:
    """Test image ``i`` as a float picture in [0, 1]: ``(H, W)`` gray or ``(H, W, 3)`` colour (before normalising)."""
    x = data.x_test[i].numpy()  # (C, H, W) uint8
    return (x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)).astype(np.float32) / 255.0


def drawing_pixels(rgba: np.ndarray | None) -> np.ndarray | None:
    """A drawing canvas's ``(H, W, 3|4)`` uint8 pixels as float RGB in [0, 1]; None when nothing is drawn.

    Transparent parts are white paper; a canvas whose darkest pixel is lighter than 0.9 is empty.
    """
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] < 3:
        return None
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    if rgba.shape[2] == 4:
        a = rgba[..., 3:4].astype(np.float32) / 255.0
        rgb = rgb * a + (1.0 - a)
    return None if rgb.min() > 0.9 else rgb


@dataclass(frozen=True)
class Stage:
    """One step of :func:`preprocess`: a picture to show and a sentence on what was done."""

    name: str
    image: np.ndarray  # float32 in [0, 1], (H, W) or (H, W, 3)
    note: str


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """A person's image made ready for the model, with every stage kept."""

    x: torch.Tensor  # (1, C, H, W) float32, normalised like the training data
    stages: tuple[Stage, ...]
    inverted: bool
    invert_reason: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize float (h, w) or (h, w, 3) to ``size`` = (H, W), antialiased (box when shrinking)."""
    h, w = size
    method = Image.Resampling.BOX if img.shape[0] >= h and img.shape[1] >= w else Image.Resampling.BILINEAR
    chans = [img] if img.ndim == 2 else [img[..., c] for c in range(img.shape[2])]
    out = [np.asarray(Image.fromarray(c.astype(np.float32), mode="F").resize((w, h), method)) for c in chans]
    return np.clip(out[0] if img.ndim == 2 else np.stack(out, axis=-1), 0.0, 1.0).astype(np.float32)


def _border(img: np.ndarray) -> float:
    g = img if img.ndim == 2 else img.mean(axis=2)
    edge = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    return float(np.median(edge))


def _pad_square(img: np.ndarray, value: float) -> np.ndarray:
    h, w = img.shape[:2]
    s = max(h, w)
    top, left = (s - h) // 2, (s - w) // 2
    pad = [(top, s - h - top), (left, s - w - left)] + ([(0, 0)] if img.ndim == 3 else [])
    return np.pad(img, pad, constant_values=value)


def _centre_like_mnist(gray: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """Crop to the ink, scale it to fit 20/28 of the frame, and put its centre of mass in the middle."""
    h, w = size
    ys, xs = np.nonzero(gray > 0.2)
    if len(ys) == 0:
        raise ValueError("The image is empty: there is nothing bright enough to read (draw or upload a digit).")
    crop = gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    box = max(1, round(min(h, w) * 20 / 28))
    scale = box / max(crop.shape)
    new = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    small = _resize(crop, new)
    out = np.zeros((h, w), dtype=np.float32)
    mass = float(small.sum())
    yy, xx = np.mgrid[0 : new[0], 0 : new[1]]
    cy, cx = float((yy * small).sum()) / max(mass, 1e-12), float((xx * small).sum()) / max(mass, 1e-12)
    y0 = int(np.clip(round(h / 2 - cy - 0.5), 0, h - new[0]))
    x0 = int(np.clip(round(w / 2 - cx - 0.5), 0, w - new[1]))
    out[y0 : y0 + new[0], x0 : x0 + new[1]] = small
    note = (
        f"Cropped to the drawn part ({crop.shape[1]}x{crop.shape[0]} px), scaled to fit {box}x{box} and placed with its "
        f"centre of mass in the middle of {w}x{h}, as MNIST digits were."
    )
    return out, note


def preprocess(
    pixels: np.ndarray,
    data: ImageSet,
    *,
    invert: Literal["auto", "yes", "no"] = "auto",
    centre: bool = True,
) -> Preprocessed:
    """Turn a person's image into the model's input, mirroring how ``data`` looks.

    Stages: the image as given; grayscale (when the training images have one channel) or RGB;
    inverted when asked, or in ``"auto"`` when its background brightness is the opposite of the
    training images' (MNIST digits are white on black, a drawing is usually black on white);
    for one-channel data and ``centre=True``, cropped to the ink, scaled and centred as MNIST
    digits were, else padded to a square with its background and resized to ``H x W``; finally
    normalised with the training data's mean and standard deviation.

    Parameters
    ----------
    pixels : np.ndarray
        float in [0, 1], ``(h, w)`` gray or ``(h, w, 3)`` RGB (as :func:`cnn_core.images.load_image` gives).
    data : ImageSet
        Supplies the input shape, mean, std and the typical background brightness.
    invert : {"auto", "yes", "no"}
    centre : bool

    Raises
    ------
    ValueError
        For an empty image, or (with ``centre``) one with no ink.
    """
    img = np.asarray(pixels, dtype=np.float32)
    if img.ndim not in (2, 3) or img.size == 0 or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError("Expected a grayscale (H, W) or RGB (H, W, 3) image.")
    img = np.clip(np.nan_to_num(img), 0.0, 1.0)
    c, h, w = data.input_shape
    stages = [Stage("Your image", img, f"{img.shape[1]}x{img.shape[0]} px as uploaded or drawn.")]
    if c == 1:
        if img.ndim == 3:
            img = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as Pillow's "L"
            stages.append(Stage("Grayscale", img, "The training images have one channel, so colour is dropped."))
    elif img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
        stages.append(Stage("RGB", img, "The training images are in colour: the gray value is copied to R, G and B."))

    train_dark = float(np.mean(data.mean)) < 0.5
    bg = _border(img)
    img_dark = bg < 0.5
    if invert == "auto":
        do_invert = train_dark != img_dark
        reason = (
            f"The training images have a {'dark' if train_dark else 'light'} background (mean brightness "
            f"{np.mean(data.mean):.2f}); this image's border is {'dark' if img_dark else 'light'} (median {bg:.2f}), "
            + ("so it is inverted." if do_invert else "so it is left as it is.")
        )
    else:
        do_invert = invert == "yes"
        reason = "Inverted because you asked." if do_invert else "Not inverted because you asked."
    if do_invert:
        img = 1.0 - img
        stages.append(Stage("Inverted", img, reason))

    notes: list[str] = []
    if c == 1 and centre:
        img, note = _centre_like_mnist(img, (h, w))
        stages.append(Stage(f"Centred, {w}x{h}", img, note))
    else:
        if img.shape[0] != img.shape[1]:
            img = _pad_square(img, _border(img))
            notes.append("Padded to a square with the background colour first, so the shape is not squashed.")
        img = _resize(img, (h, w))
        stages.append(Stage(f"Resized to {w}x{h}", img, f"Resized to the training images' {w}x{h} pixels."))

    chw = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)  # (C, H, W)
    u8 = torch.from_numpy(np.rint(chw * 255.0).astype(np.uint8))[None]  # (1, C, H, W), like the stored data
    x = data.normalize(u8)
    xs = x[0].numpy()
    lo, hi = float(xs.min()), float(xs.max())
    shown = (xs - lo) / (hi - lo) if hi > lo else np.zeros_like(xs)
    stages.append(
        Stage(
            "Normalised",
            shown[0] if c == 1 else shown.transpose(1, 2, 0),
            f"(x - mean) / std with the training data's mean {_fmt_seq(data.mean)} and std {_fmt_seq(data.std)}: "
            f"values from {lo:.2f} to {hi:.2f} (shown stretched to black..white).",
        )
    )
    return Preprocessed(x, tuple(stages), do_invert, reason, tuple(notes))


def _fmt_seq(v: Sequence[float]) -> str:
    return ", ".join(f"{a:.3f}" for a in v) if len(v) > 1 else f"{v[0]:.3f}"
