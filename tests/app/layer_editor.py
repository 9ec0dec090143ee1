"""Drive the Architecture page's layer editor (a Components v2 element) in AppTest: read the rows it was
given and report an edit the way the browser does (its state ``edit`` = ``[op, uid, ...args, seq]``); and
report any Components v2 element's state the same way (:func:`report_state`)."""

from __future__ import annotations

import itertools
import json

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, UnknownElement, Widget

from app import state

_SEQ = itertools.count(1)


def editor(at: AppTest) -> dict:
    """What the editor was given to draw: ``rows`` (uid, type, fields, note) and ``error``."""
    found = [c for c in at.get("bidi_component") if state.AN_EDITOR in c.proto.id]
    assert found, "no layer editor on the page"
    return json.loads(found[0].proto.json)


def rows(at: AppTest) -> list[dict]:
    return editor(at)["rows"]


def types(at: AppTest) -> list[str]:
    return [r["type"] for r in rows(at)]


def field(at: AppTest, pos: int, name: str) -> dict:
    """Field ``name`` of layer ``pos`` (0-based) as the editor shows it."""
    return next(f for f in rows(at)[pos]["fields"] if f["name"] == name)


def shown_value(at: AppTest, pos: int, name: str) -> object:
    """The value layer ``pos``'s field shows (a choice's label for a select)."""
    f = field(at, pos, name)
    return f["options"][f["value"]] if f["kind"] == "select" else f["value"]


def editor_error(at: AppTest) -> str | None:
    """The error message the editor shows under a row (None if none)."""
    error = editor(at)["error"]
    return None if error is None else f"row {error['index'] + 1}: {error['message']}"


class _Reported(Widget):
    def __init__(self, element: UnknownElement, name: str, value: object) -> None:  # noqa: D107
        self.proto, self.root, self.type, self.key = element.proto, element.root, "bidi_component", element.key
        self.id, self.disabled, self._name, self._value = element.proto.id, False, name, value

    @property
    def value(self) -> object:
        return self._value

    @property
    def _widget_state(self) -> WidgetState:
        return WidgetState(id=self.id, json_value=json.dumps({self._name: self._value}))


def report_state(at: AppTest, key: str, name: str, value: object) -> AppTest:
    """Run the page as after the Components v2 element keyed ``key`` set its state ``name`` to ``value``
    (as its ``setStateValue`` does in the browser), then check it ran."""

    def swap(block: Block) -> bool:
        for i, child in block.children.items():
            if isinstance(child, UnknownElement) and child.type == "bidi_component" and key in child.proto.id:
                block.children[i] = _Reported(child, name, value)
                return True
            if isinstance(child, Block) and swap(child):
                return True
        return False

    assert swap(at._tree[0]), f"no {key} element on the page"
    at.run()
    assert not at.exception, at.exception
    return at


def report(at: AppTest, op: str, pos: int, *args: object) -> AppTest:
    """Run the page as after the browser reported ``op`` on layer ``pos`` (0-based), then check it ran."""
    return report_state(at, state.AN_EDITOR, "edit", [op, rows(at)[pos]["uid"], *args, next(_SEQ)])


def set_field(at: AppTest, pos: int, name: str, value: object) -> AppTest:
    """Type ``value`` into layer ``pos``'s field (a select's option by its label)."""
    f = field(at, pos, name)
    raw = f["options"].index(str(value)) if f["kind"] == "select" else value
    return report(at, "set", pos, name, raw)


def set_type(at: AppTest, pos: int, kind: str) -> AppTest:
    return report(at, "type", pos, kind)


def click(at: AppTest, op: str, pos: int) -> AppTest:
    """Layer ``pos``'s up, down or remove button."""
    return report(at, op, pos)
