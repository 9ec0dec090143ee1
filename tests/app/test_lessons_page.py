"""The AppTest check of every lesson step: its page opens with its settings (through the app's entry
point, as a student's new tab would), shows no error, and holds those settings; the Lessons page
reveals the answer the core computes; bad predictions get sentences; progress is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import state
from app.arithmetic.config import ArithmeticConfig
from app.lessons.links import PageLink, step_link
from app.training.link import DATA_KEYS
from cnn_core import lessons, models
from tests.helpers import FreshWorkspace

ROOT = Path(__file__).resolve().parents[2]
ALL = lessons.load_lessons()
STEPS = [(ls, i) for ls in ALL.values() for i in range(len(ls.steps))]
LINKS: dict[str, PageLink] = {}  # each distinct page link once: many steps share one view
for _ls, _i in STEPS:
    _link = step_link(_ls.steps[_i])
    LINKS.setdefault(_link.path, _link)


def _open(script: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(script)
    at.run()
    return at


def _problems(at: AppTest) -> list[str]:
    return [e.value for e in at.error] + [str(w.value) for w in at.warning if "link" in str(w.value).lower()]


@pytest.mark.parametrize("path", list(LINKS), ids=[f"{link.page}-{n}" for n, link in enumerate(LINKS.values())])
def test_every_step_opens_its_page_with_its_settings(path):
    link = LINKS[path]
    at = _open(link.script, link.query)
    assert not at.exception, at.exception
    assert not _problems(at), _problems(at)
    ss = at.session_state
    if link.page == "arithmetic":
        assert ss[state.AR_CFG] == ArithmeticConfig.from_query(link.query)[0]
        assert not any(t for t in at.get("toast")), [t.value for t in at.get("toast")]
    elif link.page == "kernel_lab":
        for name, value in link.query.items():
            assert str(ss[state.KL_SETTINGS[name]]) == value
    elif link.page == "architecture":
        total = models.plan(models.from_query(link.query)).total_params
        assert next(m.value for m in at.metric if m.label == "Parameters") == f"{total:,}"
    elif link.page == "training" and link.query:
        assert ss[state.TR_SOURCE] == DATA_KEYS[link.query["data"]]
        assert ss[state.TR_MODEL] == link.query["model"]
        if "batch" in link.query:
            assert ss[state.TR_BATCH] == int(link.query["batch"])


def test_a_step_whose_settings_are_invalid_fails_here():
    step = ALL["01_kernels"].steps[0]
    for page, settings in [
        ("arithmetic", {"example": "no such example"}),
        ("arithmetic", {"s": "two"}),
        ("kernel_lab", {"preset": "Sobel z"}),
        ("architecture", {"preset": "ResNet-9000"}),
        ("training", {"batch": "7"}),
        ("inside", {"tab": "dreams"}),
        ("experiments", {"arm": "1"}),
    ]:
        with pytest.raises(ValueError):
            step_link(lessons.Step(**{**step.__dict__, "page": page, "settings": settings}))


def _lessons_page(monkeypatch, tmp_path, lesson: str, step: int) -> AppTest:
    FreshWorkspace(monkeypatch, tmp_path)
    at = _open("app_pages/lessons.py", {"lesson": lesson, "step": str(step)})
    assert not at.exception, at.exception
    return at


def _predict(at: AppTest, key: str, step: lessons.Step, typed: str) -> AppTest:
    widget = state.LS_PREDICT.format(step=key)
    (at.radio(key=widget).set_value(typed) if step.kind == "choice" else at.text_input(key=widget).input(typed))
    at.button(key=f"FormSubmitter:{state.LS_FORM.format(step=key)}-Check").click().run()
    assert not at.exception, at.exception
    return at


def test_the_lessons_page_reveals_the_core_answer_of_every_step(monkeypatch, tmp_path):
    at = _lessons_page(monkeypatch, tmp_path, "01_kernels", 1)
    for lesson, i in STEPS:
        step, key = lesson.steps[i], f"{lesson.id}/{i + 1}"
        at.query_params["lesson"], at.query_params["step"] = lesson.id, str(i + 1)  # as an instructor's pushed link
        at.run()
        assert at.subheader[0].value.startswith(f"Step {i + 1} of {len(lesson.steps)}")
        ans = lessons.answer(step)
        typed = ans.value if step.kind == "choice" else repr(ans.value)
        _predict(at, key, step, typed)
        assert [s.value for s in at.success][0] == f"Right: the answer is {ans.text}.", key
        assert step.explain(ans) in [m.value for m in at.markdown], key
        href = next(b for b in at.get("link_button")).proto.url
        assert href == "./" + step_link(step).path.lstrip("/")
    assert at.session_state[state.LS_PROGRESS].keys() == {f"{ls.id}/{i + 1}" for ls, i in STEPS}


def test_a_wrong_then_right_prediction_and_the_progress_kept(monkeypatch, tmp_path):
    at = _lessons_page(monkeypatch, tmp_path, "01_kernels", 2)
    step = ALL["01_kernels"].steps[1]
    _predict(at, "01_kernels/2", step, "10")  # what the notes print
    assert [w.value for w in at.warning] == ["Not quite: you predicted 10; the answer is 11."]
    assert any("The course notes print 10 here; the right value is 11." in m.value for m in at.markdown)
    assert "1 of 5 steps done" in at.caption[0].value  # the progress above the step is already this check's
    _predict(at, "01_kernels/2", step, "11")
    assert [s.value for s in at.success] == ["Right: the answer is 11."]
    kept = at.session_state[state.LS_PROGRESS]["01_kernels/2"]
    assert (kept["first_right"], kept["right"], kept["tries"]) == (False, True, 2)
    again = _lessons_page(monkeypatch, tmp_path, "01_kernels", 1)  # a new session of the same workspace
    assert again.session_state[state.LS_PROGRESS]["01_kernels/2"]["tries"] == 2
    assert "1 of 5 steps done, 0 predicted right the first time." in again.caption[0].value
    assert "2 ✓" in again.caption[1].value
    listed = next(m.value for m in again.markdown if "**Kernels and feature maps**" in m.value)
    assert "1. ◐ **Kernels and feature maps**: 1/5 steps, 0 right first time" in listed
    assert "3. ○ **Pooling**: not started, 5 steps" in listed  # numbered as the picker numbers them


@pytest.mark.parametrize(
    ("typed", "words"), [("seven", "is not a number"), ("", "empty"), ("40", "cannot be the answer")]
)
def test_a_bad_prediction_gets_a_sentence_and_is_not_counted(monkeypatch, tmp_path, typed, words):
    at = _lessons_page(monkeypatch, tmp_path, "02_stride_padding", 1)
    _predict(at, "02_stride_padding/1", ALL["02_stride_padding"].steps[0], typed)
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert not at.session_state[state.LS_PROGRESS]
    assert not at.success and not at.warning


def test_back_from_another_page_the_lessons_page_is_on_the_lesson_and_step_left(monkeypatch, tmp_path):
    at = _lessons_page(monkeypatch, tmp_path, "05_receptive_field", 3)
    assert at.subheader[0].value.startswith("Step 3 of")
    at.query_params.clear()  # the sidebar's links carry no lesson
    at.switch_page("app_pages/home.py").run()  # a run without the pickers: Streamlit drops their values
    at.switch_page("app_pages/lessons.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key=state.LS_LESSON).value == "05_receptive_field"
    assert at.subheader[0].value.startswith("Step 3 of")


def test_a_link_to_no_lesson_gets_a_sentence(monkeypatch, tmp_path):
    at = _lessons_page(monkeypatch, tmp_path, "99_nothing", 1)
    assert any("does not have" in w.value for w in at.warning)
    at = _lessons_page(monkeypatch, tmp_path, "03_pooling", 42)
    assert any("steps 1 to 5" in w.value for w in at.warning)
    assert at.subheader[0].value.startswith("Step 1 of 5")


def test_the_instructor_starts_the_class_on_a_step_and_polls_its_prediction(monkeypatch, tmp_path):
    from app.instructor import access

    ws = FreshWorkspace(monkeypatch, tmp_path)
    room = ws.classroom
    monkeypatch.setenv(access.KEY_ENV, "a-long-instructor-key-7f3")
    at = _open("app_pages/instructor.py", {})
    at.text_input(key=state.IC_KEY).input("a-long-instructor-key-7f3")
    next(b for b in at.button if b.label == "Open the console").click().run()
    at.selectbox(key=state.IC_LS_LESSON).set_value("03_pooling").run()
    at.selectbox(key=state.IC_LS_STEP).set_value(3).run()
    assert not at.exception, at.exception
    at.button(key=state.IC_LS_START).click().run()
    link = room.pushed_link()
    assert link is not None and link.url == "/lessons?lesson=03_pooling&step=4"
    assert "Pooling" in link.label and "step 4" in link.label
    at.button(key=state.IC_LS_POLL).click().run()
    p = room.current_poll()
    step = ALL["03_pooling"].steps[3]
    assert (p.question, p.kind, p.answer) == (step.question, "number", "1.7")  # the core's answer, not the notes' 0.5
    at.selectbox(key=state.IC_LS_LESSON).set_value("01_kernels").run()
    at.selectbox(key=state.IC_LS_STEP).set_value(3).run()
    at.button(key=state.IC_LS_POLL).click().run()
    p = room.current_poll()
    assert (p.kind, p.choices, p.answer) == ("choice", ("Sobel x", "Sobel y", "Box blur"), "Sobel y")
    student = _open("app_pages/lessons.py", dict(part.split("=") for part in link.url.split("?")[1].split("&")))
    assert student.subheader[0].value == "Step 4 of 5: Pooling the digit's feature map: the notes slip"


def test_a_store_that_cannot_write_is_a_sentence_and_the_session_keeps_the_progress(monkeypatch, tmp_path):
    from app.workspace import StoreError

    ws = FreshWorkspace(monkeypatch, tmp_path)
    ws.store.put_item(ws.id, "lesson", "01_kernels/1", {"first_right": True, "right": True, "tries": 1})
    ws.store.put_item(ws.id, "lesson", "01_kernels/3", {"first_right": "yes", "tries": 0})  # damaged: skipped

    def refuse(*_args, **_kwargs):
        raise StoreError("Your work could not be saved: the server's disk is full.")

    monkeypatch.setattr(ws.store, "put_item", refuse)
    at = _open("app_pages/lessons.py", {"lesson": "01_kernels", "step": "2"})
    assert set(at.session_state[state.LS_PROGRESS]) == {"01_kernels/1"}
    _predict(at, "01_kernels/2", ALL["01_kernels"].steps[1], "11")
    assert [t.value for t in at.toast] == ["Your work could not be saved: the server's disk is full."]
    assert [s.value for s in at.success] == ["Right: the answer is 11."]
    assert "2 of 5 steps done, 2 predicted right the first time." in at.caption[0].value


def test_a_step_on_a_page_the_instructor_hid_is_still_predicted_and_checked_here(monkeypatch, tmp_path):
    from app.workspace import ClassSettings

    ws = FreshWorkspace(monkeypatch, tmp_path)
    ws.classroom.put_settings(ClassSettings(pages=tuple(p for p in ClassSettings().pages if p != "Architecture")))
    at = _open("app_pages/lessons.py", {"lesson": "06_network_shapes", "step": "1"})
    assert not at.get("link_button")
    assert any("hidden the Architecture page" in c.value for c in at.caption)
    _predict(at, "06_network_shapes/1", ALL["06_network_shapes"].steps[0], "26")
    assert [s.value for s in at.success] == ["Right: the answer is 26."]
