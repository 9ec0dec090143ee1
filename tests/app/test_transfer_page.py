"""The Training page's "Fine-tune a pretrained network" through AppTest: a few-shot zip fine-tuned
from a backbone and trained from scratch through the job registry, both accuracies shown; camera
photos; and the bad inputs (missing or corrupt backbone, one class, one image per class)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from app import state
from app.training import transfer_view
from cnn_core import models
from cnn_core import training as T
from cnn_core.training import transfer
from tests.helpers import open_app_page

ROOT = Path(__file__).resolve().parents[2]
COLOURS = {"red": (200, 40, 40), "green": (40, 190, 60), "blue": (40, 60, 210)}


def patch_png(rgb: tuple[int, int, int], i: int, size: int = 24) -> bytes:
    """A colour patch with a little seeded noise (PNG bytes)."""
    noise = np.random.default_rng(i).integers(-25, 25, (size, size, 3))
    pixels = np.clip(np.array(rgb)[None, None] + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def few_shot_zip(per_class: int = 12, colours: dict = COLOURS) -> bytes:
    """``per_class`` colour patches for each class, as a zip of class folders."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for c, (name, rgb) in enumerate(colours.items()):
            for i in range(per_class):
                zf.writestr(f"{name}/{i:02d}.png", patch_png(rgb, 100 * c + i))
    return buf.getvalue()


@pytest.fixture()
def tiny_backbone(tmp_path, monkeypatch) -> Path:
    """A small backbone file (same layer stack as the shipped one, narrower) that the page loads."""
    torch.manual_seed(0)
    config = transfer.backbone_config(5, (4, 8, 8))
    path = tmp_path / "backbone.pt"
    T.save_model(models.build(config), models.to_dict(config), path, meta={"test_acc": 0.5, "classes": list("abcde")})
    monkeypatch.setenv(transfer_view.BACKBONE_ENV, str(path))
    return path


def open_page() -> AppTest:
    return open_app_page("app_pages/training.py")


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def upload(at: AppTest, raw: bytes) -> None:
    at.file_uploader(key=state.TR_FT_ZIP).set_value(("few.zip", raw, "application/zip")).run()
    assert not at.exception, at.exception


def test_fine_tune_and_scratch_run_through_the_registry_and_both_accuracies_show(tiny_backbone):
    at = open_page()
    assert "50.0% test accuracy on its five" in texts(at.caption)
    upload(at, few_shot_zip())
    assert "few.zip: training on red (10), green (10), blue (10); testing on 6 other images." in texts(at.caption)
    at.radio(key=state.TR_FT_MODE).set_value("frozen")
    at.number_input(key=state.TR_FT_STEPS).set_value(20)
    at.button(key=state.TR_FT_GO).click().run()
    assert not at.exception, at.exception
    plan = at.session_state[state.TR_FT_PLAN]
    deadline = time.monotonic() + 120
    while not plan.done:  # the page's fragment starts the second run when the first ends
        assert time.monotonic() < deadline, "the comparison did not finish in 120 s"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    at.run()
    assert plan.error is None, plan.error
    scratch, tuned = (next(e for e in j.events() if isinstance(e, T.RunFinished)) for j in plan.jobs)
    assert scratch.reason == tuned.reason == "completed" and scratch.step == tuned.step == 20
    assert [j.label.split(" on ")[0] for j in plan.jobs] == ["From scratch", "Fine-tuned (frozen: new head only)"]
    assert at.session_state[state.TR_JOB] is plan.jobs[1]  # the page's own Stop and live panel followed it
    shown = texts(at.success)
    assert f"fine-tuned {tuned.test_acc:.1%}, from scratch {scratch.test_acc:.1%}" in shown
    assert [m.value for m in at.metric] == [f"{scratch.test_acc:.1%}", f"{tuned.test_acc:.1%}"]
    assert "With 6 test images each one is 16.7 points" in texts(at.caption)  # what a tie at 6 images means
    # Fine-tuning really started from the backbone: every layer but the head is still the pretrained one.
    bundle = at.session_state[state.TR_BUNDLE]
    pretrained = transfer.load_backbone(tiny_backbone).state
    assert torch.equal(bundle.model.state_dict()["conv1.weight"], pretrained["conv1.weight"])
    assert not torch.equal(bundle.model.state_dict()["fc1.bias"][:3], pretrained["fc1.bias"][:3])


@pytest.mark.parametrize(
    "raw,words",
    [
        (few_shot_zip(6, {"red": COLOURS["red"]}), "at least two class"),
        (few_shot_zip(1), "at least 2 images"),
        (b"not a zip", "not a readable zip"),
    ],
)
def test_bad_few_shot_sets_get_a_sentence(tiny_backbone, raw, words):
    at = open_page()
    upload(at, raw)
    assert any(words in e.value for e in at.error), texts(at.error)
    assert state.TR_FT_GO not in [b.key for b in at.button]


@pytest.mark.parametrize("content,words", [(None, "missing"), (b"garbage", "cannot be read")])
def test_a_missing_or_corrupt_backbone_is_a_sentence_and_the_page_goes_on(tmp_path, monkeypatch, content, words):
    path = tmp_path / "backbone.pt"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv(transfer_view.BACKBONE_ENV, str(path))
    at = open_page()
    assert any(words in w.value and "from scratch still works" in w.value for w in at.warning), texts(at.warning)
    assert at.button(key=state.TR_START) is not None  # the rest of the page is there


def test_camera_photos_become_a_few_shot_set(tiny_backbone):
    at = open_page()
    at.session_state[state.TR_FT_PHOTOS] = {
        "mug": [patch_png((180, 120, 60), i, 48) for i in range(5)],
        "pen": [patch_png((30, 30, 30), 50 + i, 48) for i in range(5)],
    }
    at.radio(key=state.TR_FT_SOURCE).set_value(transfer_view.SOURCES[1]).run()
    assert not at.exception, at.exception
    assert "Photos so far: mug (5), pen (5)" in texts(at.caption)
    data = at.session_state[state.TR_FT_DATA]
    assert data.classes == ("mug", "pen") and data.input_shape == (3, 32, 32)
    assert at.button(key=state.TR_FT_GO) is not None
