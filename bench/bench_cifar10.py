"""Benchmark: the course notes' CIFAR-10 model with the notes' recipe against ConvLab's recipe.

On the full CIFAR-10 (``../shared/datasets/cifar10-jpeg.zip``: 50,000 training and 10,000 test
images) it trains, in one run and through the same loop (``cnn_core.training.train``), the preset
"Course CIFAR-10 CNN" (Conv 32 -> pool -> Conv 64 -> pool -> Dense 128 -> 10; 3x3 valid
convolutions, ReLU, 2x2 max pooling; Keras' Glorot-uniform weights and zero biases):

(a) with the notes' recipe as Keras runs it by default: Adam, learning rate 1e-3, batches of 32,
    no schedule, no weight decay, no augmentation (the notes report 67.09 % test accuracy, at the
    third epoch);
(b) with ConvLab's recipe (``cnn_core.training.recipe``): ``TrainConfig()``'s AdamW with a
    one-cycle schedule and batches of 128, plus random flips and 2-pixel shifts.

Test accuracy is measured on all 10,000 test images after every epoch; it prints each epoch's
accuracy, the training time (evaluation excluded) to reach the notes' 67.09 % and the ratio
(b)/(a) of those times, each recipe's final accuracy, and ends with one ``name=value`` line. Skips
with a reason where the zip is absent.

    nice -n 5 .venv/bin/python -m bench.bench_cifar10                  # 3 epochs each (~10 min on 2 busy cores)
    nice -n 5 .venv/bin/python -m bench.bench_cifar10 --quick          # 1 epoch each on 10,000 images (~2 min)
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must precede the first `import torch`

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnn_core import data as D  # noqa: E402
from cnn_core import models  # noqa: E402
from cnn_core import training as T  # noqa: E402
from cnn_core.data import cifar  # noqa: E402

NOTES_ACC = 0.6709  # the notes' test accuracy (note 000, "Model evaluation")
PRESET = "Course CIFAR-10 CNN"


def course_model(seed: int) -> nn.Module:
    """The preset, with Keras' default initialisation (Glorot-uniform weights, zero biases)."""
    torch.manual_seed(seed)
    model = models.build(models.PRESETS[PRESET])
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def recipes(epochs: int, seed: int, threads: int) -> dict[str, T.TrainConfig]:
    common = dict(epochs=epochs, seed=seed, threads=threads, device="cpu", evals_per_epoch=1, eval_samples=None)
    return {
        "notes (Adam 1e-3, batch 32)": T.TrainConfig(
            optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0, batch_size=32, schedule="none", **common
        ),
        "ConvLab (AdamW one-cycle, batch 128, flips + shifts)": T.TrainConfig(
            augment_flip=True, augment_shift=2, **common
        ),
    }


def run(data: D.ImageSet, cfg: T.TrainConfig, seed: int) -> tuple[list[tuple[int, float, float]], T.RunFinished]:
    """[(epoch, test accuracy, training seconds so far)] and the run's end."""
    curve, end = [], None
    for event in T.train(course_model(seed), data, cfg, checkpoint_every_s=None):
        if isinstance(event, T.EvalEvent):
            curve.append((event.epoch, event.val_acc, event.train_s))
            print(
                f"    epoch {event.epoch}: test acc {event.val_acc:.2%} after {event.train_s:.0f} s of training",
                flush=True,
            )
        elif isinstance(event, T.RunFinished):
            end = event
    assert end is not None and end.test_acc is not None, end
    return curve, end


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-images", type=int, default=None, help="use only the first N training images")
    ap.add_argument("--quick", action="store_true", help="1 epoch each on 10,000 training images")
    args = ap.parse_args()
    epochs, n_train = (1, 10_000) if args.quick else (args.epochs, args.train_images)
    reason = cifar.cifar_unavailable_reason()
    if reason:
        print(f"SKIP: {reason}")
        return
    data = D.load_full("cifar10", cifar.cifar_root(), download=False)
    if n_train:  # a seeded sample of every class (the training images are stored class by class)
        keep = torch.randperm(data.x_train.shape[0], generator=torch.Generator().manual_seed(args.seed))[:n_train]
        data = dataclasses.replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])
    print(f"torch {torch.__version__}, {args.threads} threads, load {os.getloadavg()[0]:.1f}")
    print(f"{PRESET}: {sum(p.numel() for p in course_model(0).parameters()):,} parameters; "
          f"{data.x_train.shape[0]:,} training and {data.x_test.shape[0]:,} test images; {epochs} epoch(s) each")  # fmt: skip
    results = {}
    for label, cfg in recipes(epochs, args.seed, args.threads).items():
        print(f"\n{label}:", flush=True)
        curve, end = run(data, cfg, args.seed)
        reach = next((s for _, acc, s in curve if acc >= NOTES_ACC), None)
        results[label] = (end.test_acc, end.train_s, reach)
        print(f"  final test accuracy {end.test_acc:.2%}, {end.train_s:.0f} s of training; "
              f"{'reached' if reach else 'did not reach'} the notes' {NOTES_ACC:.2%}"
              f"{f' after {reach:.0f} s' if reach else ''}")  # fmt: skip
    (n_acc, n_s, n_reach), (c_acc, c_s, c_reach) = results.values()
    print(f"\nnotes' figure {NOTES_ACC:.2%}; notes' recipe here {n_acc:.2%}; ConvLab's recipe {c_acc:.2%} "
          f"({100 * (c_acc - n_acc):+.1f} points), training time ConvLab / notes {c_s / n_s:.2f}")  # fmt: skip
    if n_reach and c_reach:
        print(f"time to {NOTES_ACC:.2%}: ConvLab / notes {c_reach / n_reach:.2f}")
    figures = {
        "notes_acc": n_acc, "convlab_acc": c_acc, "notes_train_s": n_s, "convlab_train_s": c_s,
        "ratio_train_s": c_s / n_s, "notes_reach_s": n_reach or float("nan"), "convlab_reach_s": c_reach or float("nan"),
    }  # fmt: skip
    print(" ".join(f"{k}={v:.4f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
