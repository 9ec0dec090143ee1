"""The shared sidebar (presentation mode, the workspace panel) and which pages the class is shown."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app import layout, state
from app.workspace import ClassSettings, identity
from tests.helpers import FreshWorkspace

ROOT = Path(__file__).resolve().parents[2]


def test_home_lists_the_path_and_presentation_mode_toggles_large_text():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    titles = " ".join(m.value for m in at.markdown)
    for title, _, _ in layout.PATH:
        assert title in titles
    assert at.toggle(key=state.PRESENTATION).value is False
    assert not any("font-size: 20px" in m.value for m in at.markdown)
    # AppTest drops the navigation sidebar on reruns, so switch the mode on before the first run.
    on = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    on.session_state[state.PRESENTATION] = True
    on.run()
    assert not on.exception
    assert any("font-size: 20px" in m.value for m in on.markdown)


def test_presentation_mode_can_be_the_servers_default(monkeypatch):
    monkeypatch.setenv("CONVLAB_PRESENTATION", "1")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert at.toggle(key=state.PRESENTATION).value is True


def test_presentation_mode_is_kept_in_the_workspace_for_the_next_session(monkeypatch, tmp_path):
    workspace = FreshWorkspace(monkeypatch, tmp_path / "state")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.toggle(key=state.PRESENTATION).set_value(True).run()
    assert workspace.store.get_item(workspace.id, layout.PREFERENCES, state.PRESENTATION) is True
    again = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    again.run()  # a reload at the projector: a new session of the same workspace
    assert not again.exception
    assert again.toggle(key=state.PRESENTATION).value is True
    assert any("font-size: 20px" in m.value for m in again.markdown)
    workspace.id = "learner-b"  # someone else's browser starts with the server's default
    other = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    other.run()
    assert other.toggle(key=state.PRESENTATION).value is False


def test_every_page_has_a_path_and_the_instructor_decides_which_are_shown():
    assert [layout.url_path(t) for t in layout.ALL_PAGES] == [
        "",
        "lessons",
        "kernel_lab",
        "arithmetic",
        "architecture",
        "training",
        "experiments",
        "inside",
    ]
    only_two = ClassSettings(pages=("Kernel Lab", "Arithmetic"))
    assert [t for t in layout.ALL_PAGES if layout.shown(t, only_two)] == ["Home", "Kernel Lab", "Arithmetic"]
    assert layout.shown(layout.INSTRUCTOR, ClassSettings(pages=()))  # the console is never hidden from its own URL


def test_the_sidebar_holds_the_workspace_panel_and_a_page_changes_when_the_class_settings_do():
    room = identity.classroom()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert [e.label for e in at.sidebar.expander] == ["Your workspace"]
    assert at.session_state[state.CL_SETTINGS_DRAWN] == room.settings()  # what the classroom box compares
    try:
        room.put_settings(ClassSettings(pages=("Arithmetic",)))
        at.switch_page("app_pages/kernel_lab.py").run()
        assert layout.HIDDEN_PAGE in [i.value for i in at.info]
        at.switch_page("app_pages/arithmetic.py").run()
        assert layout.HIDDEN_PAGE not in [i.value for i in at.info] and not at.exception
    finally:
        room.put_settings(ClassSettings())


def test_home_leaves_out_the_cards_of_pages_the_instructor_hid():
    room = identity.classroom()
    shown = tuple(t for t in ClassSettings().pages if t != "Arithmetic")
    room.put_settings(ClassSettings(pages=shown))
    try:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
        assert not at.exception
        cards = [m.value for m in at.markdown if m.value.startswith("**") and ". " in m.value]
        assert cards == [
            "**1. Lessons**",
            "**2. Kernel Lab**",
            "**3. Architecture**",
            "**4. Training**",
            "**5. Experiments**",
            "**6. Inside the model**",
        ]
    finally:
        room.put_settings(ClassSettings())


def _one_chart() -> None:
    import plotly.graph_objects as go

    from app import layout as lay

    lay.chart(go.Figure(go.Bar(x=[1, 2], y=[3, 4], text=["3", "4"], textposition="outside")), key="c")


def _drawn(presenting: bool) -> tuple[dict, dict]:
    import json

    at = AppTest.from_function(_one_chart, default_timeout=30)
    at.session_state[state.PRESENTATION] = presenting
    at.run()
    assert not at.exception
    proto = at.get("plotly_chart")[0].proto
    return json.loads(proto.spec), json.loads(proto.config)


def test_charts_grow_their_text_in_presentation_mode_and_have_no_toolbar_over_their_titles():
    plain, config = _drawn(False)
    assert config["displayModeBar"] is False  # plotly's toolbar covered titles and colour bars
    assert layout.TOOLBAR_CONFIG["displayModeBar"] == "hover"  # a chart that asks for one: only on hover
    assert "size" not in plain["layout"].get("font", {})
    big, _ = _drawn(True)
    assert big["layout"]["font"]["size"] == 12 * layout.PROJECTOR_SCALE  # every unset text: plotly's 12 px, scaled
    assert big["data"][0]["textfont"]["size"] == 12 * layout.PROJECTOR_SCALE  # the labels on the bars


def test_every_page_gets_the_wrapping_and_contrast_rules_and_presentation_enlarges_captions():
    assert "word-break: normal" in layout.BASE_CSS and "text-overflow: clip" in layout.BASE_CSS
    assert "stCaptionContainer" in layout.PRESENTATION_CSS
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("word-break: normal" in m.value for m in at.sidebar.markdown)


def test_a_session_keeps_its_pages_until_the_instructor_changes_which_are_shown():
    room = identity.classroom()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    kept = at.session_state[state.NAV_PAGES]
    at.switch_page("app_pages/kernel_lab.py").run()
    assert at.session_state[state.NAV_PAGES][1] is kept[1]  # the same st.Page objects: no path resolved again
    try:
        room.put_settings(ClassSettings(pages=("Arithmetic",)))
        at.switch_page("app_pages/arithmetic.py").run()
        visible, made = at.session_state[state.NAV_PAGES]
        assert made is not kept[1] and sum(visible) == 2  # Home and Arithmetic
        assert not at.exception
    finally:
        room.put_settings(ClassSettings())


def test_the_tab_icon_is_the_bundled_picture_as_a_data_address():
    import base64

    assert layout.ICON.startswith("data:image/png;base64,")
    assert base64.b64decode(layout.ICON.split(",", 1)[1]) == (ROOT / "assets" / "icon.png").read_bytes()
