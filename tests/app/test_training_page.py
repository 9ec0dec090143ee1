"""Training page through AppTest: start, watch, stop, blow up, save and load, own datasets, and the
heartbeat that keeps an open tab's run going on any page."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app import state
from app import training as tr
from app.training import link
from cnn_core import training
from tests.helpers import open_app_page, wait_until_finished

ROOT = Path(__file__).resolve().parents[2]
SHAPES = "Shapes (generated: lines, circles, squares, triangles, crosses)"


def open_page() -> AppTest:
    return open_app_page("app_pages/training.py")


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_defaults_describe_data_and_network():
    at = open_page()
    captions = texts(at.caption)
    assert (
        "MNIST (bundled subset): 10,000 training and 2,000 test images of 1x28x28 (C x H x W), 10 classes." in captions
    )
    assert "29,290 parameters" in captions  # the ConvLab fast network fitted to 10 classes
    assert at.selectbox(key="tr_model").value == tr.FAST_PRESET
    hint = next(i.value for i in at.info if "Press **Start training**" in i.value)
    assert "the 10,000 training images once (1 epoch), 128 at a time" in hint  # read from the settings
    assert "%" not in hint and "minute" not in hint  # no accuracy or speed the page has not measured
    at.number_input(key="tr_epochs").set_value(1).run()
    assert any("images once (1 epoch)" in i.value for i in at.info)


def test_a_short_run_trains_and_offers_downloads():
    at = open_page()
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.number_input(key="tr_epochs").set_value(1)
    at.button(key="tr_start").click().run()
    assert not at.exception
    wait_until_finished(at)
    assert not at.exception
    assert any("Training finished" in s.value for s in at.success)
    bundle = at.session_state[state.TR_BUNDLE]
    assert bundle.finished and len(bundle.snapshots_now()) >= 1
    assert bundle.events is at.session_state[state.TR_JOB].history  # the run's events are stored once
    acc = next(e for e in bundle.events if isinstance(e, training.RunFinished)).test_acc
    assert acc > 0.5  # five easy shapes: far better than the 20% of guessing
    assert {b.label for b in at.get("download_button")} >= {"History (CSV)", "Model (.pt)"}
    assert len(tr.history_frame(bundle.events)) >= 2


def test_stop_keeps_the_model_so_far():
    at = open_page()
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.number_input(key="tr_epochs").set_value(20)
    at.button(key="tr_start").click().run()
    deadline = time.time() + 60
    while not at.session_state[state.TR_JOB].events() and time.time() < deadline:
        time.sleep(0.5)
        at.run()  # as the open tab's live panel does
    at.button(key="tr_stop").click().run()
    wait_until_finished(at)
    job = at.session_state[state.TR_JOB]
    assert job.status == "stopped"
    assert any("stopped" in i.value.lower() for i in at.info)
    assert at.session_state[state.TR_BUNDLE].model is not None


def test_a_learning_rate_that_blows_up_stops_with_a_reason():
    at = open_page()
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.selectbox(key="tr_opt").set_value("sgd")
    at.selectbox(key="tr_schedule").set_value("none")
    at.number_input(key="tr_lr").set_value(10.0)  # the page's largest; the fast network diverges near step 90
    at.number_input(key="tr_epochs").set_value(10)  # of 240, so the run ends on divergence, not on its last epoch
    at.button(key="tr_start").click().run()
    wait_until_finished(at)
    assert any("learning rate" in e.value.lower() for e in at.error), texts(at.error)


def test_save_then_load_and_refuse_bad_files():
    at = open_page()
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.number_input(key="tr_epochs").set_value(1)
    at.button(key="tr_start").click().run()
    wait_until_finished(at)
    raw = tr.model_file(at.session_state[state.TR_BUNDLE])
    at.session_state[state.TR_BUNDLE] = None
    at.file_uploader(key="tr_load").set_value(("mine.pt", raw, "application/octet-stream")).run()
    at.button(key="tr_load_go").click().run()
    assert not at.exception and any("Loaded mine.pt" in s.value for s in at.success)
    assert at.session_state[state.TR_BUNDLE].finished
    for bad, words in [(b"not a model", "not a readable"), (b"", "empty")]:
        at.file_uploader(key="tr_load").set_value(("bad.pt", bad, "application/octet-stream")).run()
        at.button(key="tr_load_go").click().run()
        assert not at.exception and any(words in e.value for e in at.error), texts(at.error)
    # The right file for the wrong dataset gets a clear message too.
    at.selectbox(key="tr_source").set_value(list(tr.SOURCES)[0]).run()
    at.file_uploader(key="tr_load").set_value(("mine.pt", raw, "application/octet-stream")).run()
    at.button(key="tr_load_go").click().run()
    assert any("Choose the dataset it was trained on" in e.value for e in at.error), texts(at.error)


def test_an_open_tab_keeps_its_run_on_any_page_and_a_closed_one_ends_it():
    at = open_page()
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.number_input(key="tr_epochs").set_value(30)
    at.button(key="tr_start").click().run()
    job = at.session_state[state.TR_JOB]
    at.switch_page("app_pages/home.py").run()  # a page with no live panel of its own
    job.last_seen -= tr.SESSION_GRACE_S / 2  # silent for a while, but not long enough to be stopped
    silent_since = job.last_seen
    at.run()
    assert job.last_seen > silent_since + tr.SESSION_GRACE_S / 4 and job.active  # the sidebar's status beat
    job.last_seen -= 3600  # and now the tab is closed: nothing beats any more
    deadline = time.time() + 30
    while job.active and time.time() < deadline:
        time.sleep(0.2)
    assert job.status == "stopped" and job.stop_reason == "session closed"


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((12, 12), value, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "files,words",
    [
        ({"cats/a.png": _png(0), "cats/b.png": _png(10)}, "at least two class"),
        ({"../evil/a.png": _png(0), "dogs/b.png": _png(10)}, "climbs out of its folder"),
    ],
)
def test_own_zip_bad_cases_are_refused(files, words):
    at = open_page()
    at.selectbox(key="tr_source").set_value("My own images (a zip of class folders)").run()
    at.file_uploader(key="tr_zip").set_value(("mine.zip", _zip(files), "application/zip")).run()
    assert not at.exception
    assert any(words in e.value for e in at.error), texts(at.error)


def test_own_zip_good_case_is_previewed():
    files = {f"{c}/{i}.png": _png(v + i) for c, v in (("dark", 10), ("light", 200)) for i in range(6)}
    files["notes.txt"] = b"not an image"
    at = open_page()
    at.selectbox(key="tr_source").set_value("My own images (a zip of class folders)").run()
    at.file_uploader(key="tr_zip").set_value(("mine.zip", _zip(files), "application/zip")).run()
    assert not at.exception, at.exception
    assert "2 classes" in texts(at.caption)


def test_network_from_the_architecture_page_and_one_that_does_not_fit():
    from cnn_core import models

    at = open_page()
    at.session_state[state.AN_MODEL_CONFIG] = models.PRESETS["Course MNIST CNN (Keras notes)"]
    at.run()
    assert tr.FROM_ARCHITECTURE in at.selectbox(key="tr_model").options
    at.selectbox(key="tr_model").set_value(tr.FROM_ARCHITECTURE).run()
    assert "93,322 parameters" in texts(at.caption)
    at.selectbox(key="tr_model").set_value("AlexNet").run()
    assert not at.exception
    assert any("does not fit" in e.value for e in at.error)


# --- the workspace: every run kept, a new session finds it, instructor limits, links ---------------


def open_as(ws: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    """The Training page in a new session (a reload, a pasted link, a second tab) of workspace ``ws``."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    if ws is not None:
        at.session_state[state.WS_ID] = ws  # what the browser's workspace cookie gives
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("app_pages/training.py")
    at.run()
    assert not at.exception, at.exception
    return at


def start_shapes(at: AppTest, epochs: int) -> None:
    at.selectbox(key="tr_source").set_value(SHAPES).run()
    at.number_input(key="tr_epochs").set_value(epochs)
    at.button(key="tr_start").click().run()
    assert not at.exception, at.exception


def wait_for(cond, timeout: float = 60.0, at: AppTest | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.25)
        if at is not None:
            at.run()  # as the open tab's fragments do


@pytest.fixture
def classroom():
    from app.workspace import ClassSettings, identity

    room = identity.classroom()
    yield room
    room.put_settings(ClassSettings())


def test_a_run_is_kept_and_a_new_session_of_the_workspace_finds_model_and_curves():
    from app.workspace import identity

    at = open_page()
    start_shapes(at, 1)
    wait_until_finished(at)
    ws, bundle = at.session_state[state.WS_ID], at.session_state[state.TR_BUNDLE]
    record = identity.store().get_run(ws, bundle.run_id)
    assert record.status == "finished" and record.has_model and record.summary["test_acc"] > 0.5
    assert record.settings["dataset"]["kind"] == "shapes" and record.settings["train"]["epochs"] == 1

    again = open_as(ws)  # a reload: a new session, the same workspace cookie
    found = again.session_state[state.TR_BUNDLE]
    assert found.run_id == bundle.run_id and found.finished
    before = next(e for e in bundle.events if isinstance(e, training.RunFinished))
    assert next(e for e in found.events if isinstance(e, training.RunFinished)) == before  # the curve came back
    assert len(again.get("plotly_chart")) >= 1  # and is drawn
    assert any("Training finished" in s.value for s in again.success)
    assert any(e.label.startswith("Your runs (1 kept") for e in again.expander)
    assert not any("accuracy" in d.value.columns for d in again.dataframe)  # not a canvas grid that scrolls sideways
    table = next(d.value for d in again.table if "accuracy" in d.value.columns)
    assert list(table.columns) == ["when", "status", "accuracy", "run"]  # the long title last: it wraps
    assert table["accuracy"].tolist() == [f"{record.summary['test_acc']:.1%}"]
    assert again.selectbox(key=state.TR_RUN_PICK).options == [" · ".join(table.iloc[0, :3])]  # fits a phone
    other = open_as()  # another student's workspace holds none of it
    assert state.TR_BUNDLE not in other.session_state or other.session_state[state.TR_BUNDLE] is None
    assert not any(e.label.startswith("Your runs") for e in other.expander)


def test_a_reload_mid_run_reattaches_to_the_running_job():
    at = open_page()
    start_shapes(at, 30)
    job = at.session_state[state.TR_JOB]
    wait_for(lambda: any(isinstance(e, training.StepEvent) for e in job.events()), at=at)
    again = open_as(at.session_state[state.WS_ID])
    assert again.session_state[state.TR_JOB] is job  # the same run, the same event history
    assert again.session_state[state.TR_BUNDLE].events is job.history
    assert again.button(key="tr_start").disabled and not again.button(key="tr_stop").disabled
    again.button(key="tr_stop").click().run()
    wait_until_finished(again)
    assert job.status == "stopped"


def test_the_instructor_cancels_a_run_and_limits_its_minutes(classroom):
    from app.workspace import ClassSettings

    at = open_page()
    start_shapes(at, 30)
    job = at.session_state[state.TR_JOB]
    wait_for(lambda: job.status == "running")
    classroom.request_cancel(job.run_id)
    wait_until_finished(at, timeout=60)
    assert job.stop_reason == "instructor"
    assert any(w.value == "Stopped by the instructor." for w in at.warning)

    classroom.put_settings(ClassSettings(max_minutes=0.02))  # 1.2 s per run
    start_shapes(at, 30)
    wait_until_finished(at, timeout=60)
    assert any(w.value == "Stopped: the instructor's limit is 0.02 minutes per run." for w in at.warning)


def test_the_instructors_switches_hide_choices_and_cap_epochs(classroom):
    from app.workspace import ClassSettings

    classroom.put_settings(ClassSettings(max_epochs=3, own_datasets=False, full_datasets=False, uploads=False))
    at = open_as(query={"epochs": "10"})
    assert at.number_input(key="tr_epochs").value == 3
    assert any("the instructor allows at most 3 per run" in w.value for w in at.warning)
    options = at.selectbox(key="tr_source").options
    assert tr.SOURCES and all("full" not in o and "zip" not in o for o in options) and SHAPES in options
    assert not at.get("file_uploader")  # no model upload
    classroom.put_settings(ClassSettings())
    at = open_as()
    assert len(at.selectbox(key="tr_source").options) == len(tr.SOURCES) and at.get("file_uploader")


def test_the_link_holds_data_network_and_settings_and_bad_values_get_a_sentence():
    at = open_as(query={"data": "shapes", "model": "Course MNIST CNN (Keras notes)", "lr": "0.01", "batch": "64"})
    assert at.selectbox(key="tr_source").value == SHAPES
    assert at.selectbox(key="tr_model").value == "Course MNIST CNN (Keras notes)"
    assert at.number_input(key="tr_lr").value == 0.01 and at.select_slider(key="tr_batch").value == 64
    at.number_input(key="tr_epochs").set_value(3).run()
    assert at.query_params["epochs"] == "3" and at.query_params["data"] == "shapes"
    bad = open_as(query={"data": "nope", "lr": "fast", "epochs": "-2"})
    words = texts(bad.warning)
    assert "dataset “nope” is not one ConvLab knows" in words and "lr='fast' cannot be used" in words
    assert "epochs='-2' cannot be used" in words and bad.number_input(key="tr_epochs").value == 1


def test_an_interrupted_run_says_so_and_resumes_from_its_checkpoint():
    import dataclasses

    from app.workspace import identity

    at = open_page()
    start_shapes(at, 3)
    wait_until_finished(at)
    ws, run_id = at.session_state[state.WS_ID], at.session_state[state.TR_BUNDLE].run_id
    store = identity.store()
    record = store.get_run(ws, run_id)
    assert record.checkpoint_step is not None  # checkpoints were kept as it trained
    step = record.checkpoint_step
    # as a server that went away mid-run leaves it: the curve up to the checkpoint, marked by the next start
    cut = [c for c in record.curve if c.get("step", 0) <= step and c["t"] != "end"]
    store.save_run(dataclasses.replace(record, status="interrupted", curve=cut))
    again = open_as(ws)
    total = next(c["total_steps"] for c in cut if c["t"] == "start")
    assert any(f"interrupted at step {step:,} of {total:,}" in w.value for w in again.warning)
    again.button(key="tr_resume").click().run()
    assert not again.exception, again.exception
    wait_until_finished(again)
    bundle = again.session_state[state.TR_BUNDLE]
    assert bundle.run_id == run_id
    starts = [e for e in bundle.events if isinstance(e, training.RunStarted)]
    assert starts[-1].first_step == step  # it went on from the checkpoint, its earlier curve kept
    assert store.get_run(ws, run_id).status == "finished"


def test_a_dropped_widget_value_comes_back_from_the_last_settings_and_only_that_one():
    """Streamlit drops a widget's value after a run that did not draw it, and the page then showed that
    widget's default (a CI run saw a finished Shapes run under an MNIST choice and an MNIST link). Only the
    dropped widgets are set again: one still holding a value may hold the learner's change of this run."""
    last = {"data": "shapes", "model": "architecture", "in": "1x28x28", "net": "c8k3", "epochs": "3", "lr": "0.02"}
    assert link._only(last, [state.TR_SOURCE]) == {"data": "shapes"}
    assert link._only(last, [state.TR_EPOCHS, state.TR_LR]) == {"epochs": "3", "lr": "0.02"}
    assert link._only(last, [state.TR_MODEL]) == {"model": "architecture", "in": "1x28x28", "net": "c8k3"}
    assert link._only(last, list(link._WIDGETS)) == last
    at = open_as(query={"data": "shapes", "epochs": "3"})
    at.switch_page("app_pages/home.py").run()  # another page's run drops every Training widget
    at.switch_page("app_pages/training.py").run()
    assert at.selectbox(key="tr_source").value == SHAPES and at.number_input(key="tr_epochs").value == 3
    assert at.query_params["data"] == "shapes" and not at.warning
