"""The classroom's figures: the live poll's histogram of anonymous answers. Pure; no ``st.*``."""

from __future__ import annotations

import plotly.graph_objects as go

from app.palette import OTHER, RIGHT, RIGHT_MARK
from cnn_core.numbers import parse_number


def _order(answers: dict[str, int], choices: tuple[str, ...]) -> list[str]:
    """Choices in their own order (each shown, even at 0); numbers by value; other text last, A-Z."""
    if choices:
        return list(choices) + sorted(a for a in answers if a not in choices)

    def key(text: str) -> tuple[int, float, str]:
        try:
            return (0, float(parse_number(text)), text)
        except ValueError:
            return (1, 0.0, text)

    return sorted(answers, key=key)


def poll_histogram(
    answers: dict[str, int],
    *,
    choices: tuple[str, ...] = (),
    right: str | None = None,
    title: str = "Answers",
) -> go.Figure:
    """A bar per answer, its height the number of students who gave it; the right one marked once revealed.

    ``answers`` maps answer text to a count; ``right`` (the revealed answer, or None) is drawn in a
    second colour and named in its hover and tick label, so colour is never the only sign.
    """
    labels = _order(answers, choices)
    counts = [answers.get(a, 0) for a in labels]
    is_right = [right is not None and a.strip() == right.strip() for a in labels]
    colours = [RIGHT if r else OTHER for r in is_right]
    ticks = [f"{a} {RIGHT_MARK}" if r else a for a, r in zip(labels, is_right, strict=True)]
    total = sum(counts)
    fig = go.Figure(
        go.Bar(
            x=ticks,
            y=counts,
            marker_color=colours,
            text=counts,
            textposition="outside",
            hovertemplate="%{x}: %{y} answers<extra></extra>",
            name="answers",
        )
    )
    fig.update_layout(
        title={"text": f"{title} ({total} {'answer' if total == 1 else 'answers'})", "x": 0, "xanchor": "left"},
        xaxis_title="answer",
        yaxis_title="students",
        xaxis_type="category",
        yaxis=dict(rangemode="tozero", dtick=1 if max(counts, default=0) <= 10 else None),
        height=320,
        margin=dict(l=50, r=20, t=50, b=50),
        showlegend=False,
    )
    return fig
