"""The instructor console and the classroom on every student's page, through the real app.

Each AppTest is one browser session of `streamlit_app.py`; the classroom lives in the test run's
workspace database (a fresh ``CONVLAB_STATE_DIR``, tests/conftest.py), which the tests read back
through :func:`app.workspace.identity.classroom` to check what the console wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import layout, state
from app.instructor import access, broadcast, poll
from app.plots.classroom import poll_histogram
from app.workspace import ClassSettings, identity

ROOT = Path(__file__).resolve().parents[2]
KEY = "a-long-instructor-key-7f3"
CONSOLE = "app_pages/instructor.py"


@pytest.fixture
def room():
    """The class, reset to its defaults before and after each test."""
    r = identity.classroom()
    for clear in (r.clear_banner, r.clear_link, r.close_poll):
        clear()
    r.put_settings(ClassSettings())
    yield r
    for clear in (r.clear_banner, r.clear_link, r.close_poll):
        clear()
    r.put_settings(ClassSettings())


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def console(monkeypatch, key: str | None = KEY) -> AppTest:
    if key is None:
        monkeypatch.delenv(access.KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(access.KEY_ENV, key)
    at = app()
    at.switch_page(CONSOLE).run()
    assert not at.exception
    return at


def type_key(at: AppTest, typed: str) -> AppTest:
    at.text_input(key=state.IC_KEY).input(typed)
    next(b for b in at.button if b.label == "Open the console").click().run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def unlocked(at: AppTest) -> bool:
    return "The class now" in texts(at.subheader)


def test_without_a_key_the_console_says_how_to_set_one_and_shows_nothing_else(monkeypatch, room):
    at = console(monkeypatch, key=None)
    assert any("CONVLAB_INSTRUCTOR_KEY" in i.value for i in at.info)
    assert not at.text_input and not unlocked(at)


def test_a_wrong_key_is_refused_and_the_right_one_opens_the_console(monkeypatch, room):
    at = console(monkeypatch)
    assert at.text_input(key=state.IC_KEY).proto.type == at.text_input(key=state.IC_KEY).proto.PASSWORD
    type_key(at, "not-the-key")
    assert access.WRONG in texts(at.error) and not unlocked(at)
    type_key(at, KEY)
    assert unlocked(at)
    assert at.session_state[state.IC_UNLOCKED] is True
    shown = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.info) + [t.value for t in at.text_input])
    assert KEY not in shown and at.session_state[state.IC_KEY] == ""  # the key is kept nowhere
    at.run()
    assert unlocked(at)  # in for the rest of the session


def test_the_lock_lasts_at_most_the_minutes_its_sentence_says(monkeypatch, room):
    """The sentence's minutes are WINDOW_S: once that long has passed the wrong keys no longer count."""
    import time

    from app.workspace import classroom

    assert f"for up to {access.WINDOW_S / 60:g} minutes" in access.LOCKED
    names = [("lock-test-browser", access.MAX_FAILURES)]
    for _ in range(access.MAX_FAILURES):
        room.record_key_attempt("lock-test-browser", ok=False)
    assert access.locked_out(room, names)
    now = time.time()
    monkeypatch.setattr(classroom.time, "time", lambda: now + access.WINDOW_S - 5)
    assert access.locked_out(room, names)  # still inside the window
    monkeypatch.setattr(classroom.time, "time", lambda: now + access.WINDOW_S + 1)
    assert not access.locked_out(room, names)


def test_five_wrong_keys_lock_the_gate_even_for_the_right_key(monkeypatch, room):
    at = console(monkeypatch)
    for _ in range(access.MAX_FAILURES):
        type_key(at, "guess")
    assert access.LOCKED in texts(at.error)
    assert not at.text_input  # no box to try the right key in
    at.run()
    assert access.LOCKED in texts(at.error) and not unlocked(at)


def test_broadcast_link_poll_and_settings_reach_the_classroom(monkeypatch, room):
    at = type_key(console(monkeypatch), KEY)
    at.text_area(key=state.IC_BANNER_TEXT).input("Pens down in two minutes.")
    next(b for b in at.button if b.label == "Show the banner to the class").click().run()
    assert room.banner() is not None and room.banner().text == "Pens down in two minutes."

    at.text_input(key=state.IC_LINK_URL).input("http://server:8501/kernel_lab?preset=Sobel+x")
    at.text_input(key=state.IC_LINK_LABEL).input("The Sobel x kernel")
    next(b for b in at.button if b.label == "Show this to the class").click().run()
    link = room.pushed_link()
    assert link is not None and (link.url, link.label) == ("/kernel_lab?preset=Sobel+x", "The Sobel x kernel")
    at.text_input(key=state.IC_LINK_URL).input("https://evil.example/phish")
    next(b for b in at.button if b.label == "Show this to the class").click().run()
    assert broadcast.NOT_A_PAGE in texts(at.error) and room.pushed_link().url == "/kernel_lab?preset=Sobel+x"

    at.text_input(key=state.IC_POLL_QUESTION).input("Output width of a 3x3 kernel on 28 pixels, no padding?")
    at.text_input(key=state.IC_POLL_ANSWER).input("26.0")
    next(b for b in at.button if b.label == "Open the poll").click().run()
    p = room.current_poll()
    assert p is not None and p.kind == "number" and p.answer == "26" and not p.revealed
    next(b for b in at.button if b.label == "Reveal the answer").click().run()
    assert room.current_poll().revealed

    at.toggle(key=state.IC_SET.format(field="uploads")).set_value(False)
    at.multiselect(key=state.IC_SET.format(field="pages")).unselect("Training")
    at.number_input(key=state.IC_SET.format(field="max_epochs")).set_value(5)
    next(b for b in at.button if b.label == "Save the class settings").click().run()
    s = room.settings()
    assert not s.uploads and s.camera and "Training" not in s.pages and s.max_epochs == 5
    assert not at.exception


def test_an_open_poll_folds_the_new_poll_form_away_so_its_answers_fill_the_screen(monkeypatch, room):
    at = type_key(console(monkeypatch), KEY)
    assert not [e for e in at.expander if e.label == poll.NEW_POLL]  # no poll: the form is out, ready to fill
    at.text_input(key=state.IC_POLL_QUESTION).input("How many weights in a 3x3 kernel over 3 channels?")
    next(b for b in at.button if b.label == "Open the poll").click().run()
    assert room.current_poll() is not None
    (folded,) = [e for e in at.expander if e.label == poll.NEW_POLL]
    assert folded.text_input(key=state.IC_POLL_QUESTION).value.startswith("How many weights")
    assert any(b.label == "Reveal the answer" for b in at.button)


def test_a_bad_poll_gets_a_sentence_and_opens_nothing(monkeypatch, room):
    at = type_key(console(monkeypatch), KEY)
    at.text_input(key=state.IC_POLL_QUESTION).input("Which pooling keeps the largest value?")
    at.radio(key=state.IC_POLL_KIND).set_value("Multiple choice")
    at.text_area(key=state.IC_POLL_CHOICES).input("max\n")
    next(b for b in at.button if b.label == "Open the poll").click().run()
    assert texts(at.error) == ["A multiple-choice poll needs at least two different choices."]
    assert room.current_poll() is None


def test_the_student_sidebar_shows_the_banner_and_link_and_takes_one_answer_per_workspace(room):
    room.post_banner("The server restarts in 60 seconds. Your work is saved.", seconds=60)
    room.push_link("/arithmetic?op=pool", "Max pooling, step by step")
    poll_ = room.open_poll("How many parameters has a 3x3 conv from 1 to 8 channels?", answer="80")
    student = app()
    assert "The server restarts in 60 seconds. Your work is saved." in texts(student.sidebar.info)
    assert any("Max pooling, step by step" in m.value for m in student.sidebar.markdown)
    box = student.sidebar.text_input(key=state.CL_ANSWER.format(place="sidebar", poll=poll_.poll_id))
    box.input("eighty")
    next(b for b in student.sidebar.button if b.label == "Submit").click().run()
    assert student.sidebar.error and "number" in student.sidebar.error[0].value
    assert room.poll_answers(poll_.poll_id) == {}
    student.sidebar.text_input(key=state.CL_ANSWER.format(place="sidebar", poll=poll_.poll_id)).input("80.0")
    next(b for b in student.sidebar.button if b.label == "Submit").click().run()
    assert room.poll_answers(poll_.poll_id) == {"80": 1}
    student.sidebar.text_input(key=state.CL_ANSWER.format(place="sidebar", poll=poll_.poll_id)).input("72")
    next(b for b in student.sidebar.button if b.label == "Submit").click().run()
    assert room.poll_answers(poll_.poll_id) == {"72": 1}  # a new answer replaces the old one
    room.reveal_poll(poll_.poll_id)
    student.run()
    assert "The answer: 80" in texts(student.sidebar.success)
    assert any("Your answer: 72, not this time." in c.value for c in student.sidebar.caption)
    assert not student.exception


def test_the_student_sees_who_they_are_to_the_instructor_and_a_hidden_page_stays_hidden(room):
    student = app()
    student.sidebar.text_input(key=state.CL_NICKNAME).input("Ada").run()
    assert any(p.label == "Ada" for p in room.sessions())
    assert any("Kept on the server for you" in c.value for c in student.sidebar.caption)
    room.put_settings(ClassSettings(pages=("Kernel Lab", "Arithmetic")))
    student.switch_page("app_pages/training.py").run()
    assert layout.HIDDEN_PAGE in texts(student.info) and not student.exception


def test_forget_me_asks_first_then_deletes_the_workspace(room):
    student = app()
    student.sidebar.text_input(key=state.CL_NICKNAME).input("Grace").run()
    student.sidebar.button(key=state.CL_FORGET).click().run()
    assert student.session_state[state.CL_FORGET_SURE] is True
    student.sidebar.button(key=state.CL_FORGET_YES).click().run()
    assert not student.exception
    assert any("Your workspace was deleted" in i.value for i in student.sidebar.info)
    assert student.sidebar.text_input(key=state.CL_NICKNAME).value == ""  # the nickname went with it


def test_the_poll_histogram_counts_each_answer_and_marks_the_right_one():
    fig = poll_histogram({"26": 2, "28": 1, "9": 1}, right="26")
    bar = fig.data[0]
    assert list(bar.x) == ["9", "26 ✓", "28"] and list(bar.y) == [1, 2, 1]  # numbers in numeric order
    assert "4 answers" in fig.layout.title.text
    choice = poll_histogram({"max": 2}, choices=("max", "average", "min"))
    assert list(choice.data[0].x) == ["max", "average", "min"] and list(choice.data[0].y) == [2, 0, 0]


def test_typed_links_are_cut_to_a_page_of_the_app():
    assert broadcast.link_path("", "Kernel Lab") == "/kernel_lab"
    assert broadcast.link_path("", "Home") == "/"
    assert broadcast.link_path("inside?tab=kernels", "Home") == "/inside?tab=kernels"
    for bad in ("/instructor", "/nowhere?x=1", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="not a ConvLab page"):
            broadcast.link_path(bad, "Home")


def test_the_restart_announcement_reaches_the_classroom_from_the_command_line(room, capsys):
    from app.instructor import announce

    assert announce.main(["--seconds", "45"]) == 0
    banner = room.banner()
    assert banner is not None and banner.text == "The server restarts in 45 seconds. Your work is saved."
    assert banner.until - banner.posted == pytest.approx(45 + announce.AFTER_S)
    assert announce.main(["--clear"]) == 0 and room.banner() is None
    assert "Posted to every open page" in capsys.readouterr().out


def test_wrong_keys_are_counted_per_browser_and_per_address(room):
    address = "203.0.113.7"
    for n in range(access.MAX_FAILURES_PER_ADDRESS):
        browser = access.clients(f"browser-{n // access.MAX_FAILURES}", address)  # 4 browsers, 5 wrong keys each
        assert not access.attempt(room, browser, "guess", KEY)
    fresh = access.clients("a-browser-never-seen", address)
    assert access.locked_out(room, fresh)  # a new browser behind the same address is refused too
    elsewhere = access.clients("a-browser-never-seen", "198.51.100.1")
    assert not access.locked_out(room, elsewhere)
    assert access.key_matches(f" {KEY} ", KEY) and not access.key_matches(KEY[:-1], KEY)


def test_the_console_announces_a_restart_in_one_click(monkeypatch, room):
    at = type_key(console(monkeypatch), KEY)
    at.number_input(key=state.IC_RESTART_SECONDS).set_value(120)
    at.button(key=state.IC_RESTART).click().run()
    assert room.banner().text == "The server restarts in 120 seconds. Your work is saved."
    assert "Announced: The server restarts in 120 seconds. Your work is saved." in texts(at.success)


def test_a_run_of_another_server_process_is_listed_and_its_cancel_is_asked_through_the_classroom(monkeypatch, room):
    import time

    from app.workspace import RunRecord

    store = identity.store()
    now = time.time()
    run = RunRecord(  # kept as running by a live process, but not a job of this process's registry
        run_id=store.new_run_id(), workspace="other-process-student-0001", title="ConvLab fast on Shapes, 30 epochs",
        status="running", created=now, updated=now,
    )
    store.save_run(run)
    try:
        at = type_key(console(monkeypatch), KEY)
        assert any("ConvLab fast on Shapes, 30 epochs" in m.value for m in at.markdown)
        assert any("in another server process" in c.value for c in at.caption)
        next(b for b in at.button if b.key == state.IC_CANCEL.format(job=run.run_id)).click().run()
        assert not at.exception
        assert room.cancel_requested(run.run_id)  # the process that trains it stops it at its next watchdog check
    finally:
        store.delete_run(run.workspace, run.run_id)
