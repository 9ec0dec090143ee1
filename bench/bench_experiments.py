"""Benchmark: the Experiments page's ready-made experiments, run headless through the same definitions.

Trains every arm of the chosen experiments of :mod:`cnn_core.training.experiments` one after
another in this process (:func:`~cnn_core.training.experiments.run_experiment`: the same networks,
settings, images and seed the page uses; the page trains each arm in a training process instead),
and prints per arm its training accuracy (the whole training subset, evaluation mode), held-out
accuracy, the gap between them, the last training loss and its training time; then the verdict
the page shows. Not a speed race: there is no peer library, so the figures are results, with the
time each arm took on this machine.

Runs with ``OMP_WAIT_POLICY=PASSIVE`` unless set (on a busy 2-core machine OpenMP's spin-waiting
otherwise makes 2-thread training several times slower). The last line holds the figures as
``name=value``: ``<experiment>.<arm>.<figure>`` (spaces in arm names become ``_``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must precede the first `import torch`

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from cnn_core import training  # noqa: E402
from cnn_core.training import experiments as X  # noqa: E402

DEFAULT = ("plain_vs_residual", "overfitting")


def _pct(x: float | None) -> str:
    return "     –" if x is None else f"{100 * x:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", default=",".join(DEFAULT),
                        help=f"comma-separated keys, from: {', '.join(X.EXPERIMENTS)} (default: %(default)s)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.experiments.split(",") if k.strip()]
    unknown = [k for k in keys if k not in X.EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; choose from {', '.join(X.EXPERIMENTS)}")
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads, load {load:.1f}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")  # fmt: skip
    figures: dict[str, str] = {}
    for key in keys:
        exp = X.EXPERIMENTS[key]
        print(f"\n== {exp.title} ({key})\n{exp.measured()}")
        print(f"{'arm':<18} {'train':>7} {'held-out':>9} {'gap':>6} {'loss':>7} {'seconds':>8}  end")
        t0 = time.perf_counter()

        def one(arm: str, event: training.Event) -> None:
            if isinstance(event, training.RunFinished):
                print(f"  ... {arm}: {event.message} ({event.train_s:.1f} s)", flush=True)

        results = X.run_experiment(exp, on_event=one)
        for r in results:
            gap = "     –" if r.gap is None else f"{100 * r.gap:5.1f}"
            loss = "      –" if r.train_loss is None else f"{r.train_loss:7.3f}"
            secs = "       –" if r.seconds is None else f"{r.seconds:8.1f}"
            print(f"{r.arm:<18} {_pct(r.train_acc):>7} {_pct(r.test_acc):>9} {gap:>6} {loss} {secs}  {r.reason}")
            name = f"{key}.{r.arm.replace(' ', '_')}"
            for fig, value in (("train_acc", r.train_acc), ("test_acc", r.test_acc), ("gap", r.gap),
                               ("seconds", r.seconds)):  # fmt: skip
                figures[f"{name}.{fig}"] = "nan" if value is None else f"{value:.4f}"
        print(f"verdict: {X.verdict(exp, results)}")
        print(f"({time.perf_counter() - t0:.0f} s for the whole experiment)")
    print()
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
