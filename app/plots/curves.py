"""Lines over time: a 1-D convolution's input and output, and a training run's loss and accuracy."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.palette import FIRST, SECOND, series_colour


def series_plot(x: np.ndarray, y: np.ndarray, *, x_start: np.ndarray | None = None, title: str = "") -> go.Figure:
    """A 1-D input series and the convolution output as two lines with distinct markers and dashes.

    ``x_start`` gives, for each output value, the time step its window starts at (so outputs
    sit under the inputs they came from).
    """
    t_out = np.arange(len(y)) if x_start is None else np.asarray(x_start)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=np.arange(len(x)) + 1,
            y=x,
            name="input x",
            mode="lines+markers",
            line={"color": FIRST},
            marker={"symbol": "circle", "size": 8},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=t_out + 1,
            y=y,
            name="output y",
            mode="lines+markers",
            line={"color": SECOND, "dash": "dash"},
            marker={"symbol": "diamond", "size": 9},
        )
    )
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},  # left: the toolbar shows at the right on hover
        height=260,
        margin=dict(l=10, r=10, t=40, b=30),
        xaxis_title="time step",
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def training_curves(steps: list, evals: list, *, total_epochs: float | None = None) -> go.Figure:
    """Loss (left) and accuracy (right) against epochs, for training and validation.

    ``steps`` are ``cnn_core.training.StepEvent``; ``evals`` are ``EvalEvent``. Training loss is
    drawn from every logged step, the rest at each evaluation; lines differ by dash as well as colour.
    """
    # Short titles: on a phone or a projector the two halves are narrow; the axes say which way is better.
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    train_c, val_c = FIRST, SECOND
    fig.add_trace(
        go.Scatter(
            x=[s.epoch_fraction for s in steps],
            y=[s.loss for s in steps],
            name="training loss",
            line={"color": train_c},
            legendgroup="train",
        ),
        row=1,
        col=1,
    )
    epochs = [e.epoch_fraction for e in evals]
    evaluated = [  # (name, y, training or validation, subplot column)
        ("validation loss", [e.val_loss for e in evals], "val", 1),
        ("training accuracy", [100 * e.train_acc for e in evals], "train", 2),
        ("validation accuracy", [100 * e.val_acc for e in evals], "val", 2),
    ]
    for name, y, group, col in evaluated:
        dashed = group == "val"
        line = {"color": val_c, "dash": "dash"} if dashed else {"color": train_c}
        marker = {"symbol": "square" if dashed else "circle"}
        fig.add_trace(
            go.Scatter(x=epochs, y=y, name=name, mode="lines+markers", line=line, marker=marker, legendgroup=group),
            row=1,
            col=col,
        )
    xr = [0, total_epochs] if total_epochs else None
    fig.update_xaxes(title_text="epochs", range=xr)
    fig.update_yaxes(title_text="cross-entropy (lower is better)", rangemode="tozero", row=1, col=1)
    # 0-105: the "100" tick stays clear of the subplot title above it, even with projector-sized text
    fig.update_yaxes(
        title_text="% correct (higher is better)", range=[0, 105], tickvals=[0, 25, 50, 75, 100], row=1, col=2
    )
    # t=70: the subplot titles sit below the strip where plotly's toolbar appears on hover; the legend hangs
    # from well below the axis title, which larger text pushes down
    fig.update_layout(
        height=420,
        margin=dict(l=10, r=10, t=70, b=10),
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "font": {"size": 13}},
    )
    return fig


def comparison_curves(runs: dict[str, list]) -> go.Figure:
    """Validation accuracy against optimiser steps for a few runs on the same images, one line each.

    ``runs`` maps a run's label to its ``cnn_core.training.EvalEvent`` list; lines differ by dash
    and marker as well as colour.
    """
    fig = go.Figure()
    dashes, symbols = ("solid", "dash", "dot", "dashdot"), ("circle", "square", "diamond", "triangle-up")
    for i, (label, evals) in enumerate(runs.items()):
        fig.add_trace(
            go.Scatter(
                x=[e.step for e in evals],
                y=[100 * e.val_acc for e in evals],
                name=label,
                mode="lines+markers",
                line={"color": series_colour(i), "dash": dashes[i % 4]},
                marker={"symbol": symbols[i % 4]},
            )
        )
    fig.update_xaxes(title_text="steps", rangemode="tozero")
    fig.update_yaxes(title_text="validation % correct", range=[0, 100.5])
    fig.update_layout(
        title={"text": "Validation accuracy: same images, same steps", "x": 0, "xanchor": "left"},
        height=320,
        margin=dict(l=10, r=10, t=50, b=10),
        legend={"orientation": "h", "y": -0.3},
    )
    return fig
