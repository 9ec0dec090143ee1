"""Benchmark: few-shot transfer from ConvLab's pretrained backbone against training from scratch.

The backbone (``assets/backbone/backbone.pt``, ``scripts/pretrain_backbone.py``) learnt five CIFAR-10
classes (airplane, automobile, bird, cat, deer). This bench draws a few-shot task from the *other*
five (dog, frog, horse, ship, truck): ``--shots`` training images per class (seeded draws), and tests on
all 5,000 CIFAR-10 test images of those classes. On the same images, with the same number of steps
and the same seed, it trains the same network

* fine-tuned from the backbone with a new head, in each freeze mode (frozen: new head only; last block
  unfrozen; all unfrozen), and
* from random weights (scratch),

all through ``cnn_core.training.train`` with ``transfer.few_shot_run``, the recipe the Training page
uses. It prints every accuracy, the mean over ``--draws`` draws, and transfer minus scratch and
transfer / scratch. The last line holds the figures as ``name=value``. Skips with a reason where
``../shared/datasets/cifar10-jpeg.zip`` or the backbone is absent.

    nice -n 5 .venv/bin/python -m bench.bench_transfer                 # 10 and 50 shots, 3 draws (~5 min)
    nice -n 5 .venv/bin/python -m bench.bench_transfer --quick         # 10 shots, 1 draw (~1 min)
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must precede the first `import torch`

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnn_core import models  # noqa: E402
from cnn_core import training as T  # noqa: E402
from cnn_core.data import cifar  # noqa: E402
from cnn_core.training import transfer  # noqa: E402

MODES: tuple[transfer.FreezeMode | None, ...] = ("frozen", "last_block", "all", None)


def run_one(task, backbone: transfer.Backbone, mode, steps: int, seed: int, threads: int) -> tuple[float, float]:
    """Test accuracy and training seconds of one run."""
    n = len(task.classes)
    if mode is None:
        config = transfer.scratch_model(backbone.config, n)
        torch.manual_seed(seed)
        model = models.build(config)
    else:
        config, state = transfer.with_new_head(backbone, n, seed=seed)
        model = models.build(config)
        model.load_state_dict(state)
    tiled, cfg = transfer.few_shot_run(task, mode, config, steps=steps, seed=seed)
    cfg = dataclasses.replace(cfg, threads=threads, device="cpu", eval_samples=200)
    finished = None
    for event in T.train(model, tiled, cfg, checkpoint_every_s=None):
        if isinstance(event, T.RunFinished):
            finished = event
    assert finished is not None and finished.test_acc is not None, finished
    return finished.test_acc, finished.train_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", default="10,50", help="training images per class, comma-separated")
    ap.add_argument("--draws", type=int, default=3, help="seeded few-shot draws per shot count")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backbone", default=None, help="backbone file (default assets/backbone/backbone.pt)")
    ap.add_argument("--quick", action="store_true", help="10 shots, 1 draw")
    args = ap.parse_args()
    shots = [10] if args.quick else [int(s) for s in args.shots.split(",")]
    draws = 1 if args.quick else args.draws
    reason = cifar.cifar_unavailable_reason()
    if reason:
        print(f"SKIP: {reason}")
        return
    try:
        backbone = transfer.load_backbone(args.backbone)
    except transfer.BackboneError as err:
        print(f"SKIP: {err}")
        return
    held = cifar.cifar_classes(cifar.HELD_OUT_CLASSES)
    print(f"torch {torch.__version__}, {args.threads} threads, load {os.getloadavg()[0]:.1f}")
    print(
        f"backbone: {backbone.meta.get('classes')}, its test accuracy {backbone.meta.get('test_acc', float('nan')):.2%}"
    )
    print(f"held-out task: {', '.join(held.classes)}; test on {held.x_test.shape[0]} CIFAR-10 test images")
    print(f"{args.steps} steps per run, same images and seed for every mode\n")
    figures: dict[str, float] = {}
    for k in shots:
        accs: dict[str, list[float]] = {str(m): [] for m in MODES}
        for d in range(draws):
            task = cifar.few_shot(held, k, seed=d)
            for mode in MODES:
                t0 = time.perf_counter()
                acc, train_s = run_one(task, backbone, mode, args.steps, d, args.threads)
                accs[str(mode)].append(acc)
                label = "scratch" if mode is None else transfer.FREEZE_MODES[mode]
                print(f"{k:>3} shots, draw {d}: {label:<24} test acc {acc:.2%}  ({train_s:.1f} s training, "
                      f"{time.perf_counter() - t0:.1f} s in all)", flush=True)  # fmt: skip
        scratch = statistics.mean(accs["None"])
        print(f"\n{k} shots per class, mean of {draws} draw(s): scratch {scratch:.2%}")
        figures[f"scratch_{k}"] = scratch
        for mode in MODES[:-1]:
            mean = statistics.mean(accs[str(mode)])
            print(f"  {transfer.FREEZE_MODES[mode]:<24} {mean:.2%}  transfer - scratch {100 * (mean - scratch):+.1f} "
                  f"points, transfer / scratch {mean / scratch:.2f}")  # fmt: skip
            figures[f"{mode}_{k}"] = mean
            figures[f"ratio_{mode}_{k}"] = mean / scratch
        print()
    print(" ".join(f"{k}={v:.4f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
