"""The browser's workspace id and the server's shared store, under AppTest.

AppTest cannot send cookies (``st.context.cookies`` comes from the browser's request), so the
cookie a browser would send is given by replacing :func:`app.workspace.identity._cookie`; the
script runs in this process, so it sees the replacement. That the page script really sets the
cookie in Chromium, and a reload and a second tab then find the same id, is checked in the browser
tests of the pages that keep work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import state
from app.workspace import StoreError, WorkspaceStore, identity

SCRIPT = """
import streamlit as st
from app.workspace import identity
st.markdown("ws=" + identity.workspace_id())
st.markdown("again=" + identity.workspace_id())
"""


def scripts(at: AppTest) -> list[str]:
    """The bodies of the page's st.html elements that carry a script (the cookie writer)."""
    return [e.proto.body for e in at.main if type(e).__name__ == "Html" and "<script>" in e.proto.body]


def shown(at: AppTest) -> dict[str, str]:
    return dict(m.value.split("=", 1) for m in at.markdown)


@pytest.fixture
def cookie(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str | None]]:
    sent: dict[str, str | None] = {"value": None}
    monkeypatch.setattr(identity, "_cookie", lambda: sent["value"])
    yield sent


def test_a_browser_without_the_cookie_gets_a_new_id_and_the_cookie_once(cookie: dict[str, str | None]) -> None:
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    ws = shown(at)["ws"]
    assert identity.valid_cookie(ws) and len(ws) == 24 and shown(at)["again"] == ws
    [script] = scripts(at)
    assert f"convlab_workspace={ws}; Max-Age=31536000; Path=/; SameSite=Lax" in script
    assert at.session_state[state.WS_ID] == ws
    at.run()
    assert shown(at)["ws"] == ws and scripts(at) == []  # the same id, and the cookie script is not sent again
    other = AppTest.from_string(SCRIPT).run()
    assert shown(other)["ws"] != ws  # another browser, another workspace


def test_the_cookie_names_the_workspace(cookie: dict[str, str | None]) -> None:
    cookie["value"] = "K3y-of_a-browser-0123456"
    at = AppTest.from_string(SCRIPT).run()
    assert shown(at) == {"ws": "K3y-of_a-browser-0123456", "again": "K3y-of_a-browser-0123456"}
    assert scripts(at) == []  # the browser has it: nothing is written


@pytest.mark.parametrize("bad", ["", "short", "x" * 65, "a b c d e f g h i j k l", "<script>alert(1)</script>xxxxxxxx", "../../etc/passwd/aaaa"])
def test_a_malformed_cookie_is_replaced(cookie: dict[str, str | None], bad: str) -> None:
    cookie["value"] = bad
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    ws = shown(at)["ws"]
    assert ws != bad and identity.valid_cookie(ws)
    [script] = scripts(at)
    assert ws in script and (not bad or bad not in script.replace(ws, ""))


def test_the_cookie_script_writes_only_the_quoted_id() -> None:
    script = identity.cookie_script("abcDEF-_0123456789abcdef")
    value = re.search(r"var c=(\"[^\"]*\");", script)
    assert value is not None
    assert json.loads(value.group(1)) == "convlab_workspace=abcDEF-_0123456789abcdef; Max-Age=31536000; Path=/; SameSite=Lax"
    assert "Secure" in script and "location.protocol==='https:'" in script


@pytest.fixture
def fresh_singletons() -> Iterator[None]:
    identity.store.clear()
    identity.classroom.clear()
    yield
    identity.store.clear()
    identity.classroom.clear()


def test_store_and_classroom_are_shared_over_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_singletons: None) -> None:
    monkeypatch.setenv("CONVLAB_STATE_DIR", str(tmp_path / "state"))
    at = AppTest.from_string(
        """
import streamlit as st
from app.workspace import identity
a, b = identity.store(), identity.store()
st.markdown(f"same={a is b and identity.classroom() is identity.classroom()}")
st.markdown(f"root={a.root}")
st.markdown(f"shared={a.database == identity.classroom().db.path}")
"""
    ).run()
    assert not at.exception
    assert shown(at) == {"same": "True", "root": str(tmp_path / "state"), "shared": "True"}


def test_class_settings_set_the_store_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_singletons: None) -> None:
    from app.workspace import ClassSettings

    monkeypatch.setenv("CONVLAB_STATE_DIR", str(tmp_path))
    store, room = identity.store(), identity.classroom()
    assert store.quota_bytes == 200_000_000
    room.put_settings(ClassSettings(workspace_mb=5, workspace_days=2))
    assert (store.quota_bytes, store.expiry_days) == (5_000_000, 2)


def test_an_unwritable_state_dir_still_gives_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_singletons: None) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("CONVLAB_STATE_DIR", str(blocker / "state"))
    at = AppTest.from_string(
        """
import streamlit as st
from app.workspace import StoreError, identity
s = identity.store()
st.markdown(f"kernel={s.get_item('abcdefghijklmnop', 'kernel')}")
st.markdown(f"uploads={identity.classroom().settings().uploads}")
try:
    s.put_item('abcdefghijklmnop', 'kernel', '', [[1]])
except StoreError as err:
    st.warning(str(err))
"""
    ).run()
    assert not at.exception
    assert shown(at) == {"kernel": "None", "uploads": "True"}  # reads find nothing, settings are the defaults
    assert at.warning[0].value.startswith("Your work could not be saved on the server (")
    assert isinstance(identity.store(), WorkspaceStore)
    with pytest.raises(StoreError, match="kept in this tab"):
        identity.store().put_item("abcdefghijklmnop", "kernel", "", [[1]])


def test_session_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_singletons: None) -> None:
    monkeypatch.setenv("CONVLAB_STATE_DIR", str(tmp_path))
    assert identity.session_label("p-x") == "a student"
    identity.classroom().beat("p-x", page="Home")
    assert identity.session_label("p-x") == "Student 1"


def test_with_a_read_only_state_folder_the_pages_work_and_say_once_that_work_is_not_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_singletons: None
) -> None:
    blocker = tmp_path / "not-a-folder"  # a state folder under a regular file cannot be made, even as root
    blocker.write_text("x")
    monkeypatch.setenv("CONVLAB_STATE_DIR", str(blocker / "state"))
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    at.switch_page("app_pages/kernel_lab.py").run()
    at.selectbox(key="kl_preset").set_value("Custom…").run()
    at.text_area(key="kl_paste").set_value("1 0 -1\n2 0 -2\n1 0 -1")
    at.button(key="kl_paste_apply").click().run()
    assert not at.exception
    assert at.session_state[state.KL_CUSTOM_KERNEL].tolist() == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]  # still used here
    told = [t.value for t in at.toast if "could not be saved" in t.value]
    assert len(told) == 1 and "kept in this tab" in told[0]
    at.switch_page("app_pages/architecture.py").run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception
