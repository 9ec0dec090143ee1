"""The classroom box on a student's page and its watch address: the box has no timer of its own, it names
its tab's address, and that address's stamp tells the browser exactly when the box must be redrawn.

The browser half (the component asking every 3 s and rerunning the box) is checked in
``tests/e2e/test_instructor_e2e.py``; the middleware on a live server in ``tests/server/test_class_watch.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import layout, state
from app.instructor.in_class import presence_id
from app.server import class_watch
from app.workspace import ClassSettings, identity

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def room(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(class_watch, "NEWS_TTL_S", 0.0)  # every ask reads the database in these checks
    r = identity.classroom()
    for clear in (r.clear_banner, r.clear_link, r.close_poll):
        clear()
    r.put_settings(ClassSettings())
    yield r
    for clear in (r.clear_banner, r.clear_link, r.close_poll):
        clear()
    r.put_settings(ClassSettings())


def student() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def watch_data(at: AppTest) -> dict:
    [watch] = [e for e in at.get("bidi_component") if "class_watch" in e.proto.component_name]
    return json.loads(watch.proto.json)


def test_the_box_names_its_watch_address_and_an_idle_class_asks_for_no_redraw(room):
    at = student()
    data = watch_data(at)
    token = at.session_state[state.CL_WATCH_TOKEN]
    assert data["url"] == f"./_convlab/class?t={token}" and data["every_ms"] == 3000
    for _ in range(3):
        assert class_watch.answer(token) == {"stamp": data["stamp"]}
    tab = class_watch.tab_of(token)
    assert tab is not None and tab.page == "Home" and tab.presence == presence_id(tab.workspace)
    assert any(p.session == tab.presence and p.page == "Home" for p in room.sessions())


@pytest.mark.parametrize("post", ["banner", "link", "poll", "settings"])
def test_anything_the_instructor_posts_changes_the_stamp_and_the_redrawn_box_shows_it(room, post):
    at = student()
    token, drawn = at.session_state[state.CL_WATCH_TOKEN], watch_data(at)["stamp"]
    if post == "banner":
        room.post_banner("Pens down in two minutes.", seconds=60)
    elif post == "link":
        room.push_link("/arithmetic?op=pool", "Max pooling, step by step")
    elif post == "poll":
        room.open_poll("How many outputs has a 5x5 input under a 3x3 kernel?", answer="9")
    else:
        room.put_settings(ClassSettings(camera=False))
    asked = class_watch.answer(token)["stamp"]
    assert asked != drawn  # the browser reruns the box now
    at.run()
    assert not at.exception and watch_data(at)["stamp"] == asked  # ... and the redrawn box is up to date
    shown = {
        "banner": lambda: "Pens down in two minutes." in [e.value for e in at.sidebar.info],
        "link": lambda: any("Max pooling, step by step" in m.value for m in at.sidebar.markdown),
        "poll": lambda: any("How many outputs" in m.value for m in at.sidebar.markdown),
        "settings": lambda: True,
    }[post]
    assert shown()


def test_the_banner_is_also_drawn_over_the_page_and_its_copy_is_hidden_while_the_sidebar_is_open(room):
    at = student()
    assert at.session_state[state.CL_BANNER_DRAWN] is None and not at.main.info  # nothing posted: no copy
    room.post_banner("Pens down in two minutes.", seconds=60)
    at.run()
    assert not at.exception
    assert [e.value for e in at.main.info][:1] == ["Pens down in two minutes."]  # first on the page, over its title
    assert at.session_state[state.CL_BANNER_DRAWN][0][0] == "Pens down in two minutes."  # (banner, link, poll)
    assert f'[data-collapsed="false"]) .st-key-{state.CL_PAGE_BANNER} {{ display: none; }}' in layout.BASE_CSS
    room.clear_banner()
    at.run()
    assert not at.main.info and at.session_state[state.CL_BANNER_DRAWN] is None


def test_the_pushed_link_and_an_open_poll_are_copied_over_the_page_too_and_answered_there(room):
    at = student()
    room.push_link("/kernel_lab?preset=Sobel+x", "The Sobel x kernel")
    poll = room.open_poll("How many weights in a 3x3 kernel over 3 channels?", answer="27")
    at.run()
    assert not at.exception
    assert any(m.value == "**The instructor shows:** The Sobel x kernel" for m in at.main.markdown)
    assert any(b.proto.url.endswith("/kernel_lab?preset=Sobel+x") for b in at.main.get("link_button"))
    assert any(m.value == "**Poll:** How many weights in a 3x3 kernel over 3 channels?" for m in at.main.markdown)
    page_box = at.main.text_input(key=state.CL_ANSWER.format(place="page", poll=poll.poll_id))
    page_box.input("27")
    next(b for b in at.main.button if b.label == "Submit").click().run()
    assert room.poll_answers(poll.poll_id) == {"27": 1}  # the page's form answers for the workspace ...
    mine = "Your answer: 27. You can change it until the answer is revealed."
    assert any(c.value == mine for c in at.main.caption) and any(c.value == mine for c in at.sidebar.caption)
    at.sidebar.text_input(key=state.CL_ANSWER.format(place="sidebar", poll=poll.poll_id)).input("26")
    next(b for b in at.sidebar.button if b.label == "Submit").click().run()
    assert room.poll_answers(poll.poll_id) == {"26": 1}  # ... and the sidebar's replaces it: one answer, not two
    drawn = at.session_state[state.CL_BANNER_DRAWN]
    room.reveal_poll(poll.poll_id)
    at.run()
    assert [s.value for s in at.main.success] == ["The answer: 27"]
    assert any(c.value == "Your answer: 26, not this time." for c in at.main.caption)
    assert not at.main.get("text_input")  # no form once revealed
    assert at.session_state[state.CL_BANNER_DRAWN] != drawn  # the sidebar's box reruns the page when this changes
    room.close_poll()
    room.clear_link()
    at.run()
    assert not any("Poll:" in m.value for m in at.main.markdown)
    assert at.session_state[state.CL_BANNER_DRAWN] is None


def test_a_page_change_is_written_to_presence_at_once(room):
    at = student()
    tab = class_watch.tab_of(at.session_state[state.CL_WATCH_TOKEN])
    at.switch_page("app_pages/arithmetic.py").run()
    assert not at.exception
    assert next(p for p in room.sessions() if p.session == tab.presence).page == "Arithmetic"
