"""Pretrain ConvLab's transfer-learning backbone on five CIFAR-10 classes; write it to ``assets/backbone``.

Seeded and reproducible on one machine: same seed, same threads, same weights. It trains
:func:`cnn_core.training.transfer.backbone_config` on the 25,000 training images of
:data:`cnn_core.data.cifar.PRETRAIN_CLASSES` (airplane, automobile, bird, cat, deer) with
ConvLab's training loop, tests on their 5,000 test images, and writes

* ``backbone.pt``: the weights and config (:func:`cnn_core.training.save_model`, loads with
  ``weights_only=True``), with the recipe, seed, time and accuracy in its meta;
* ``training_log.txt``: every evaluation and the final result, as they came;
* ``MODEL_CARD.md``: data, recipe, seed, wall time, machine, test accuracy.

The other five classes (dog, frog, horse, ship, truck) are never seen: ``bench/bench_transfer.py``
fine-tunes on a few of their images. Run from the repository root::

    nice -n 5 .venv/bin/python scripts/pretrain_backbone.py            # ~10 min on 2 shared cores
    nice -n 5 .venv/bin/python scripts/pretrain_backbone.py --epochs 1 --out /tmp/bb   # a quick try
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must precede the first `import torch`

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
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


def recipe(epochs: int, seed: int, threads: int) -> T.TrainConfig:
    return T.TrainConfig(
        optimizer="adamw", lr=3e-3, weight_decay=5e-4, batch_size=128, epochs=epochs, schedule="onecycle",
        label_smoothing=0.1, augment_flip=True, augment_shift=3, seed=seed, device="cpu", precision="fp32",
        threads=threads, evals_per_epoch=1, eval_samples=None,
    )  # fmt: skip


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} vCPUs (lscpu)"
    except (OSError, subprocess.CalledProcessError):
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=None, help="folder with cifar10-jpeg.zip (default: ../shared/datasets)")
    ap.add_argument("--out", default=str(ROOT / "assets" / "backbone"))
    args = ap.parse_args()
    reason = cifar.cifar_unavailable_reason(args.data)
    if reason:
        sys.exit(reason)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = cifar.cifar_classes(cifar.PRETRAIN_CLASSES, args.data)
    cfg = recipe(args.epochs, args.seed, args.threads)
    config = transfer.backbone_config(len(data.classes))
    torch.manual_seed(args.seed)
    model = models.build(config)
    log_lines = [
        f"data: {data.name}, {data.x_train.shape[0]} train / {data.x_test.shape[0]} test, {data.source}",
        f"network: {config.name}, {sum(p.numel() for p in model.parameters())} parameters",
        f"recipe: {dataclasses.asdict(cfg)}",
        f"machine: {machine()}, torch {torch.__version__}",
    ]
    print("\n".join(log_lines), flush=True)
    t0 = time.perf_counter()
    finished = None
    for event in T.train(model, data, cfg, checkpoint_every_s=None):
        if isinstance(event, T.EvalEvent):
            line = (
                f"epoch {event.epoch} step {event.step}: train loss {event.train_loss:.4f} acc {event.train_acc:.4f}, "
                f"test loss {event.val_loss:.4f} acc {event.val_acc:.4f}, {event.elapsed_s:.0f} s"
            )
            log_lines.append(line)
            print(line, flush=True)
        elif isinstance(event, T.RunFinished):
            finished = event
    wall = time.perf_counter() - t0
    assert finished is not None and finished.test_acc is not None, finished
    summary = f"finished: {finished.message} wall {wall:.0f} s (training {finished.train_s:.0f} s)"
    log_lines.append(summary)
    print(summary, flush=True)
    meta = {
        "classes": list(data.classes),
        "mean": list(data.mean),
        "std": list(data.std),
        "seed": args.seed,
        "recipe": dataclasses.asdict(cfg),
        "test_acc": finished.test_acc,
        "test_images": int(data.x_test.shape[0]),
        "wall_s": round(wall, 1),
        "machine": machine(),
        "torch": str(torch.__version__),
    }
    T.save_model(model.cpu(), models.to_dict(config), out / "backbone.pt", meta)
    (out / "training_log.txt").write_text("\n".join(log_lines) + "\n")
    (out / "MODEL_CARD.md").write_text(card(meta, config, model, args, (out / "backbone.pt").stat().st_size))
    print(f"wrote {out}/backbone.pt, training_log.txt, MODEL_CARD.md")


def card(meta: dict, config: models.ModelConfig, model: torch.nn.Module, args: argparse.Namespace, size: int) -> str:
    r = meta["recipe"]
    layers = ", ".join(models.describe_layer(s) for s in config.layers)
    return f"""# {config.name}

A small CNN that ConvLab pretrains itself, for the Training page's "Fine-tune a pretrained network".

| | |
|---|---|
| file | `backbone.pt` ({size / 1e6:.2f} MB, fp32 state dict + config, `cnn_core.training.save_model`; loads with `weights_only=True`) |
| network | {layers}; {sum(p.numel() for p in model.parameters()):,} parameters; input 3 x 32 x 32 |
| data | CIFAR-10 (Krizhevsky, 2009; JPEG copy `../shared/datasets/cifar10-jpeg.zip`), only the classes {", ".join(meta["classes"])}: 25,000 training images; the other five classes (dog, frog, horse, ship, truck) are never seen |
| recipe | {r["optimizer"]} lr {r["lr"]:g} one-cycle, weight decay {r["weight_decay"]:g}, batch {r["batch_size"]}, {r["epochs"]} epochs, label smoothing {r["label_smoothing"]:g}, random flips and shifts of up to {r["augment_shift"]} px, {r["precision"]}, {r["threads"]} threads |
| seed | {meta["seed"]} (model initialisation, data order, augmentation) |
| wall time | {meta["wall_s"]:.0f} s |
| machine | {meta["machine"]}, torch {meta["torch"]}, shared with other work (`nice -n 5`) |
| test accuracy | **{meta["test_acc"]:.2%}** on the {meta["test_images"]:,} CIFAR-10 test images of the five pretraining classes |

Made by `nice -n 5 .venv/bin/python scripts/pretrain_backbone.py --epochs {args.epochs} --seed {meta["seed"]}`;
the log of that run is `training_log.txt`. The few-shot comparison with training from scratch on the
held-out classes is `bench/bench_transfer.py` (see `bench/README.md`).
"""


if __name__ == "__main__":
    main()
