"""A run's curve as the workspace keeps it (app.training.keep): every event read back as it was, the step
points thinned evenly, and a growing run encoded one new event at a time."""

from __future__ import annotations

from app.training.keep import MAX_STEP_POINTS, decode_events, encode_events
from cnn_core import training as T


def run_events(steps: int) -> list[T.Event]:
    """A run's events: its start, ``steps`` step events with an evaluation every 50 and an epoch end every
    78, and its end."""
    events: list[T.Event] = [T.RunStarted(steps, 78, steps // 78 + 1, 32, 10_000, 2_000, "cpu", "fp32", 1)]
    for i in range(1, steps + 1):
        events.append(T.StepEvent(i, i // 78 + 1, i / 78, 1 / i, 1e-3, 5_000.0, i / 10, i / 10, 9.0))
        if i % 50 == 0:
            events.append(T.EvalEvent(i, i // 78 + 1, i / 78, 0.4, 0.88, 0.45, 0.86, i / 10, i / 10, 0.2))
        if i % 78 == 0:
            events.append(T.EpochEnd(i // 78, i, 0.4, 0.88, 0.45, 0.86, i / 10))
    events.append(T.RunFinished("completed", "Done.", steps, steps / 78, 0.4, 0.87, steps / 10, steps / 10))
    return events


def test_a_short_run_is_read_back_event_for_event() -> None:
    events = run_events(120)
    curve = encode_events(events)
    assert [c["t"] for c in curve[:2]] == ["start", "step"] and curve[-1]["t"] == "end"
    assert decode_events(curve) == events


def test_a_long_run_keeps_evenly_spread_steps_and_every_evaluation() -> None:
    events = run_events(3_900)
    back = decode_events(encode_events(events))
    steps = [e.step for e in back if isinstance(e, T.StepEvent)]
    assert len(steps) == MAX_STEP_POINTS + 1 and steps[0] == 1 and steps[-1] == 3_900  # the last step is kept
    gaps = {b - a for a, b in zip(steps[:-1], steps[1:], strict=True)}
    assert gaps <= {7, 8, 9}  # 3,900 / 500 = 7.8 steps apart
    assert [e for e in back if not isinstance(e, T.StepEvent)] == [e for e in events if not isinstance(e, T.StepEvent)]


def test_a_growing_run_encodes_each_event_once() -> None:
    events, memo = run_events(300), {}
    first = encode_events(events, memo)
    assert first == encode_events(events) and len(memo) == len(first)
    more = run_events(340)[len(events) - 1 : -1]  # the next steps, after the end event is taken off
    events = events[:-1] + more
    second = encode_events(events, memo)
    assert second == encode_events(events)  # the same curve as encoding it afresh ...
    old = {id(d) for d in first}
    assert sum(id(d) not in old for d in second) == len(more)  # ... with only the new events' dicts made now
    assert encode_events(run_events(700), memo) == encode_events(run_events(700))  # thinned alike with a memo
