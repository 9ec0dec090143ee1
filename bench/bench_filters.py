"""Benchmark: ``cnn_core.filters.apply_kernel`` against raw OpenCV and SciPy on photo-sized images.

Run from the repository root::

    .venv/bin/python -m bench.bench_filters            # the live 640 px copy and a 12 MP photo, 5 rounds
    .venv/bin/python -m bench.bench_filters --quick    # the live copy only, 3 rounds
    .venv/bin/python -m bench.bench_filters --torch    # also time a plain torch conv2d
    .venv/bin/python -m bench.bench_filters --input float32   # the photo as float32 in [0, 1], as the app has it

``apply_kernel`` is a thin layer over OpenCV, so the peer to match is OpenCV called directly. The
kernels are presets (rank 1 and not) and a general random 5x5 kernel, a student's custom one.
Every contender turns the same RGB photo into a float32 feature map of the same size (stride 1,
"same" padding, zero border):

* ``apply_kernel(img, k)``                                  (ours)
* ``cv2.filter2D(img, cv2.CV_32F, k, borderType=BORDER_CONSTANT)``
* ``cv2.sepFilter2D(img, cv2.CV_32F, row, col, ...)``       (rank-1 kernels only)
* ``scipy.ndimage.correlate(img.astype(float32), k[..., None], mode="constant")``
  (the float32 conversion is part of its time, as it is part of everyone else's)
* ``torch.nn.functional.conv2d`` on (C, 1, H, W) float32 (with ``--torch``; informational)

The outputs are checked to agree before anything is timed. Each round runs every contender once,
in rotating order, so background load hits them alike; a time is the best of the rounds (the
median is printed too). Ratios are ours / fastest peer in this run (below 1: we are faster). The
last line holds every figure as ``name=value``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cnn_core.filters import apply_kernel, separable_factors  # noqa: E402
from cnn_core.kernels import PRESETS  # noqa: E402

SIZES = {"live": (480, 640), "12mp": (3000, 4000)}  # (height, width); live: the Kernel Lab's working copy
KERNELS = {
    "gauss3": "Gaussian blur 3x3",
    "gauss5": "Gaussian blur 5x5",
    "sobelx": "Sobel x",
    "sharpen": "Sharpen",
    "random5": "random 5x5",
}


def kernel_for(name: str) -> np.ndarray:
    """A preset's kernel, or for "random 5x5" a fixed general (not separable) kernel."""
    if name == "random 5x5":
        return np.random.default_rng(5).normal(size=(5, 5))
    return PRESETS[name].kernel


def make_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A deterministic photo-like (H, W, 3) uint8 image: smooth shapes, gradients, edges and grain."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    # Smooth blotches: a coarse random grid upsampled bilinearly.
    gh, gw = max(2, height // 150), max(2, width // 150)
    grid = rng.random((gh, gw, 3), dtype=np.float32)
    gy, gx = y[:, 0] * (gh - 1), x[0] * (gw - 1)
    y0, x0 = np.minimum(gy.astype(int), gh - 2), np.minimum(gx.astype(int), gw - 2)
    fy, fx = (gy - y0)[:, None, None], (gx - x0)[None, :, None]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    img = (top * (1 - fy) + bottom * fy) * 120.0  # (H, W, 3)
    # Sky-like vertical gradient and a warm horizontal one.
    img += np.stack([40 * x + 0 * y, 30 * (1 - y) + 0 * x, 80 * (1 - y) + 0 * x], axis=-1)
    # Hard-edged shapes: a few discs and bars, so edge detectors have edges to find.
    yy, xx = np.ogrid[:height, :width]
    for _ in range(6):
        cy, cx, r = rng.integers(0, height), rng.integers(0, width), rng.integers(height // 20, height // 5)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] *= 0.55
    for _ in range(4):
        c0 = rng.integers(0, width - width // 30)
        img[:, c0 : c0 + width // 60] += 35.0
    img += rng.normal(0.0, 4.0, size=img.shape).astype(np.float32)  # sensor grain
    return np.clip(img, 0, 255).astype(np.uint8)


def contenders(img: np.ndarray, kernel: np.ndarray, use_torch: bool) -> dict[str, Callable[[], np.ndarray]]:
    """Name -> zero-argument function returning the (H, W, 3) float32 result."""
    import cv2
    import scipy.ndimage as ndi

    k32 = kernel.astype(np.float32)
    found: dict[str, Callable[[], np.ndarray]] = {
        "apply_kernel": lambda: apply_kernel(img, kernel),
        "cv2.filter2D": lambda: cv2.filter2D(img, cv2.CV_32F, k32, borderType=cv2.BORDER_CONSTANT),
    }
    factors = separable_factors(kernel)
    if factors is not None:
        col, row = (f.astype(np.float32) for f in factors)
        found["cv2.sepFilter2D"] = lambda: cv2.sepFilter2D(img, cv2.CV_32F, row, col, borderType=cv2.BORDER_CONSTANT)
    found["scipy.correlate"] = lambda: ndi.correlate(
        img.astype(np.float32), k32[:, :, None], mode="constant", cval=0.0
    )  # astype: part of the job for uint8 input, a copy for float32
    if use_torch:
        import torch
        import torch.nn.functional as F

        weight = torch.from_numpy(k32)[None, None]  # (1, 1, kh, kw)
        ph, pw = kernel.shape[0] // 2, kernel.shape[1] // 2

        def torch_conv() -> np.ndarray:
            x = torch.from_numpy(img).permute(2, 0, 1)[:, None].float().contiguous()  # (C, 1, H, W)
            with torch.no_grad():
                y = F.conv2d(x, weight, padding=(ph, pw))
            return y[:, 0].permute(1, 2, 0).contiguous().numpy()

        found["torch.conv2d"] = torch_conv
    return found


def check_agree(results: dict[str, np.ndarray]) -> float:
    """Largest difference from ``apply_kernel``, relative to its largest magnitude; raise if they disagree."""
    ours = results["apply_kernel"]
    scale = max(1.0, float(np.max(np.abs(ours))))
    worst = 0.0
    for name, other in results.items():
        if other.shape != ours.shape:
            raise SystemExit(f"{name} gave shape {other.shape}, apply_kernel {ours.shape}")
        err = float(np.max(np.abs(other.astype(np.float32) - ours))) / scale
        if err > 1e-5:
            raise SystemExit(f"{name} disagrees with apply_kernel: relative difference {err:.2e}")
        worst = max(worst, err)
    return worst


def time_rounds(funcs: dict[str, Callable[[], np.ndarray]], rounds: int, slow_rounds: int) -> dict[str, list[float]]:
    """Run every function once per round, rotating the order; return seconds per run."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    names = list(funcs)
    slow = {"scipy.correlate", "torch.conv2d"}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if name in slow and len(times[name]) >= slow_rounds:
                continue
            start = time.perf_counter()
            funcs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (best of these is reported)")
    parser.add_argument("--slow-rounds", type=int, default=1, help="rounds for the slow peers (scipy, torch)")
    parser.add_argument("--quick", action="store_true", help="the live copy only, 3 rounds")
    parser.add_argument("--torch", action="store_true", help="also time torch.nn.functional.conv2d")
    parser.add_argument(
        "--input",
        choices=["uint8", "float32"],
        default="uint8",
        help="uint8 photo (default) or the same photo as float32 in [0, 1], as cnn_core.images gives it",
    )
    parser.add_argument("--sizes", default="live,12mp", help="comma-separated, from: " + ", ".join(SIZES))
    parser.add_argument("--kernels", default=",".join(KERNELS), help="comma-separated, from: " + ", ".join(KERNELS))
    args = parser.parse_args(argv)
    import cv2

    rounds = 3 if args.quick else args.rounds
    sizes = ["live"] if args.quick else args.sizes.split(",")
    print(
        f"python {platform.python_version()}  numpy {np.__version__}  opencv {cv2.__version__}  "
        f"cpus {len(os.sched_getaffinity(0))}  cv2 threads {cv2.getNumThreads()}  load {os.getloadavg()[0]:.2f}"
    )
    figures: dict[str, str] = {}
    to_f2d: dict[str, float] = {}  # "size kernel" -> ours / cv2.filter2D
    for size in sizes:
        h, w = SIZES[size]
        img = make_photo(h, w)
        if args.input == "float32":
            img = img.astype(np.float32) / np.float32(255.0)
        n_rounds = rounds * 5 if h * w < 1_000_000 else rounds  # small images: cheap rounds, more of them
        print(f"\n{size}: {h}x{w}x3 {args.input} -> float32, stride 1, same padding, zero border, {n_rounds} rounds")
        for label in args.kernels.split(","):
            preset = KERNELS[label]
            kernel = kernel_for(preset)
            funcs = contenders(img, kernel, args.torch)
            err = check_agree({name: f() for name, f in funcs.items()})
            times = time_rounds(funcs, n_rounds, args.slow_rounds)
            best = {name: min(t) for name, t in times.items()}
            peers = {name: t for name, t in best.items() if name != "apply_kernel"}
            fastest = min(peers, key=peers.__getitem__)
            ours = best["apply_kernel"]
            print(f"  {preset} (max relative difference {err:.1e})")
            for name, t in sorted(best.items(), key=lambda kv: kv[1]):
                med = statistics.median(times[name])
                print(f"    {name:16s} best {t * 1e3:8.1f} ms   median {med * 1e3:8.1f} ms   x{t / ours:6.2f} of ours")
            ratio = ours / best[fastest]
            ratio_f2d = ours / best["cv2.filter2D"]
            print(f"    ratio apply_kernel / fastest peer ({fastest}) = {ratio:.2f};  / cv2.filter2D = {ratio_f2d:.2f}")
            figures[f"ratio_{size}_{label}"] = f"{ratio:.2f}"
            figures[f"ratio_f2d_{size}_{label}"] = f"{ratio_f2d:.2f}"
            figures[f"ms_{size}_{label}"] = f"{ours * 1e3:.1f}"
            figures[f"ms_cv2_{size}_{label}"] = f"{best['cv2.filter2D'] * 1e3:.1f}"
            to_f2d[f"{size} {label}"] = ratio_f2d
    worst = max(to_f2d, key=to_f2d.__getitem__)
    met = "met" if to_f2d[worst] <= 1.2 else "NOT met"
    print(f"\ntarget, every kernel within 1.2x of cv2.filter2D: {met} (worst {to_f2d[worst]:.2f}, {worst})")
    figures["worst_ratio_f2d"] = f"{to_f2d[worst]:.2f}"
    print()
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
