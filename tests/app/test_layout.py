"""The shared sidebar: presentation mode and the training status seen from every page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app import layout, state

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
