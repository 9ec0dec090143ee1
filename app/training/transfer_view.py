"""The Training page's "Fine-tune a pretrained network": the learner's few images (a zip of class
folders, or camera photos per class), a freeze mode, and two runs on the same split, fine-tuned from
ConvLab's backbone and trained from scratch, compared side by side.

Both runs go through :func:`app.training.start_run` (the server's registry: queueing, Stop, "Your
runs"), one after the other, since a workspace trains one run at a time: from scratch first, then
fine-tuned, so the session's model at the end is the fine-tuned one. The photos are kept in the
session; a camera set is read through the same :func:`cnn_core.data.load_zip` as an uploaded zip.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from app import layout, state
from app.jobs import Job
from app.plots.curves import comparison_curves
from app.training.data import MAX_ZIP_BYTES
from app.training.run import start_run
from app.workspace import ClassSettings
from cnn_core import data as datasets
from cnn_core import models, training
from cnn_core.training import transfer

BACKBONE_ENV = "CONVLAB_BACKBONE"  # another backbone file (tests, or a deployment's own)
SOURCES = ("A zip of class folders", "Photos from the camera")
PLAN_EVERY_S = 1.5
MAX_PHOTOS = 50  # per class, as Teachable Machine suggests 10-50
SMALL_TEST = 50  # fewer test images than this: the result says what one image is worth


@dataclass
class Comparison:
    """The two runs of one comparison: what each trains, and its job once started."""

    data: datasets.ImageSet  # the learner's set
    train_data: datasets.ImageSet  # the same, its images repeated for the runs (transfer.few_shot_run)
    mode: transfer.FreezeMode
    runs: list[tuple[str, models.ModelConfig, training.TrainConfig, dict | None]]  # label, net, recipe, weights
    jobs: list[Job] = field(default_factory=list)
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or (len(self.jobs) == len(self.runs) and not self.jobs[-1].active)


@st.cache_resource(show_spinner=False, max_entries=4)
def _backbone(path: str, _mtime_ns: int) -> transfer.Backbone:
    return transfer.load_backbone(Path(path))


def backbone() -> transfer.Backbone | None:
    """The backbone (``$CONVLAB_BACKBONE``, else the shipped one), or None with its sentence shown."""
    path = Path(os.environ.get(BACKBONE_ENV) or transfer.BACKBONE_FILE)
    try:
        return _backbone(str(path), path.stat().st_mtime_ns if path.is_file() else 0)
    except transfer.BackboneError as err:
        st.warning(str(err), icon=":material/broken_image:")
        return None


def photos_zip(photos: dict[str, list[bytes]]) -> bytes:
    """The camera photos as a zip of class folders, for :func:`cnn_core.data.load_zip`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, shots in photos.items():
            for i, raw in enumerate(shots):
                zf.writestr(f"{name}/{i:03d}.jpg", raw)
    return buf.getvalue()


def _camera() -> bytes | None:
    photos: dict[str, list[bytes]] = st.session_state.setdefault(state.TR_FT_PHOTOS, {})
    c1, c2 = st.columns([1, 2])
    name = c1.text_input("Class of the next photo", key=state.TR_FT_CLASS, placeholder="e.g. mug").strip()
    shot = c2.camera_input("Take a photo", key=state.TR_FT_CAMERA)
    add, clear = st.columns(2)
    if add.button("Add this photo", key=state.TR_FT_ADD, disabled=shot is None, icon=":material/add_a_photo:"):
        if not name or "/" in name or name.startswith("."):
            st.error("Type a class name (letters, digits, spaces) for this photo first.")
        elif len(photos.get(name, [])) >= MAX_PHOTOS:
            st.error(f"{name} already has {MAX_PHOTOS} photos, the most one class takes.")
        else:
            photos.setdefault(name, []).append(shot.getvalue())
    if photos and clear.button("Remove all photos", key=state.TR_FT_CLEAR, icon=":material/delete:"):
        photos.clear()
    if not photos:
        st.caption("Take 10-50 photos of each class: type its name, take a photo, add it; then the next class.")
        return None
    st.caption("Photos so far: " + ", ".join(f"{k} ({len(v)})" for k, v in photos.items()))
    return photos_zip(photos)


def few_shot_data() -> datasets.ImageSet | None:
    """The learner's few-shot set as backbone input (3 x 32 x 32), or None with a sentence shown."""
    source = st.radio("Your images", SOURCES, key=state.TR_FT_SOURCE, horizontal=True)
    if source == SOURCES[0]:
        up = st.file_uploader(
            f"A zip with one folder per class (10-50 images each), up to {MAX_ZIP_BYTES // 1_000_000} MB",
            type=["zip"],
            key=state.TR_FT_ZIP,
        )
        if up is None:
            return st.session_state.get(state.TR_FT_DATA)
        if up.size > MAX_ZIP_BYTES:
            st.error(f"{up.name} is {up.size / 1e6:.0f} MB; the limit is {MAX_ZIP_BYTES // 1_000_000} MB.")
            return None
        raw, title = up.getvalue(), up.name
    else:
        raw, title = _camera(), "My photos"
        if raw is None:
            return None
    try:
        limits = datasets.ZipLimits(max_bytes=max(MAX_ZIP_BYTES, len(raw)) if source == SOURCES[1] else MAX_ZIP_BYTES)
        own = transfer.as_backbone_input(datasets.load_zip(raw, limits, image_size=transfer.BACKBONE_SIZE, name=title))
        transfer.check_few_shot(own)
    except datasets.DatasetUnavailable as err:
        st.error(str(err), icon=":material/folder_off:")
        return None
    st.session_state[state.TR_FT_DATA] = own
    return own


def plan_for(data: datasets.ImageSet, mode: transfer.FreezeMode, steps: int, bb: transfer.Backbone) -> Comparison:
    """Scratch, then fine-tuned: the same images, steps and seed."""
    k = data.num_classes
    ft_config, ft_state = transfer.with_new_head(bb, k)
    scratch = transfer.scratch_model(bb.config, k)
    tiled, scratch_cfg = transfer.few_shot_run(data, None, scratch, steps)
    _, ft_cfg = transfer.few_shot_run(data, mode, ft_config, steps)
    return Comparison(
        data,
        tiled,
        mode,
        [
            ("From scratch", scratch, scratch_cfg, None),
            (f"Fine-tuned ({transfer.FREEZE_MODES[mode]})", ft_config, ft_cfg, ft_state),
        ],
    )


def _start_next(plan: Comparison) -> bool:
    """Start the plan's next run when the one before has finished; True when one was started."""
    if plan.error is not None or len(plan.jobs) == len(plan.runs) or (plan.jobs and plan.jobs[-1].active):
        return False
    if plan.jobs and plan.jobs[-1].stop_reason is not None:
        plan.error = "The comparison was stopped; press the button again to run it."
        return False
    label, config, cfg, weights = plan.runs[len(plan.jobs)]
    try:
        plan.jobs.append(
            start_run(config, plan.train_data, cfg, label=f"{label} on {plan.data.name}", initial_state=weights)
        )
    except RuntimeError as err:
        plan.error = str(err)
        return False
    return True


def _finished(job: Job) -> training.RunFinished | None:
    return next((e for e in reversed(job.events()) if isinstance(e, training.RunFinished)), None)


def results(plan: Comparison) -> None:
    """Each run's state and curves side by side; both accuracies and their difference at the end."""
    cols = st.columns(len(plan.runs))
    accs: list[float | None] = []
    for i, ((label, *_), col) in enumerate(zip(plan.runs, cols, strict=True)):
        job = plan.jobs[i] if i < len(plan.jobs) else None
        end = _finished(job) if job is not None else None
        accs.append(end.test_acc if end is not None else None)
        with col:
            st.markdown(f"**{label}**")
            if job is None:
                st.caption("Waiting for the run before it.")
                continue
            job.mark_seen()
            if end is None:
                st.caption("Queued." if job.status == "queued" else "Training…")
            elif end.test_acc is None:
                st.caption(end.message)
            else:
                st.metric("test accuracy", f"{end.test_acc:.1%}")
    curves = {
        label: [e for e in job.events() if isinstance(e, training.EvalEvent)]
        for (label, *_), job in zip(plan.runs, plan.jobs, strict=False)
    }
    if any(curves.values()):
        layout.chart(comparison_curves(curves), key="tr_ft_curves")
    if plan.error:
        st.warning(plan.error)
    if all(a is not None for a in accs):
        scratch, tuned = accs
        st.success(
            f"On the same {plan.data.x_test.shape[0]} test images: fine-tuned {tuned:.1%}, from scratch {scratch:.1%} "
            f"({100 * (tuned - scratch):+.1f} points for the pretrained network)."
        )
        n = plan.data.x_test.shape[0]
        if n < SMALL_TEST:
            st.caption(
                f"With {n} test images each one is {100 / n:.1f} points, so a difference of one or two images is "
                "luck as much as learning; more images per class give a fairer comparison."
            )


def section(rules: ClassSettings) -> None:
    """The whole section; call it from the Training page."""
    st.subheader("Fine-tune a pretrained network")
    st.write(
        "A network that has already learnt to see (here ConvLab's own, pretrained on airplanes, cars, birds, cats "
        "and deer) can learn **your** classes from a few images: give it a new last layer (**head**) and train "
        "that, or unfreeze more of it. Compare with the same network trained from scratch on the same images."
    )
    bb = backbone()
    if bb is None:
        return
    st.caption(
        f"Backbone: {bb.config.name}, {bb.meta.get('test_acc', float('nan')):.1%} test accuracy on its five "
        "CIFAR-10 classes (assets/backbone/MODEL_CARD.md). Your images are resized to 32 x 32 colour."
    )
    if not rules.own_datasets:
        st.info("The instructor has switched off learners' own images for this class.")
        return
    plan: Comparison | None = st.session_state.get(state.TR_FT_PLAN)
    busy = plan is not None and not plan.done
    data = few_shot_data()
    if data is not None:
        counts = ", ".join(
            f"{c} ({n})"
            for c, n in zip(data.classes, data.y_train.bincount(minlength=data.num_classes).tolist(), strict=True)
        )
        st.caption(f"{data.name}: training on {counts}; testing on {data.x_test.shape[0]} other images.")
        c1, c2 = st.columns([2, 1])
        mode = c1.radio(
            "What trains", list(transfer.FREEZE_MODES), format_func=transfer.FREEZE_MODES.get, key=state.TR_FT_MODE
        )
        steps = c2.number_input("Steps per run", 10, 600, 120, step=10, key=state.TR_FT_STEPS)
        go = st.button(
            "Fine-tune and train from scratch",
            type="primary",
            disabled=busy,
            key=state.TR_FT_GO,
            icon=":material/compare:",
        )
        if go and data is not None:
            plan = plan_for(data, mode, int(steps), bb)
            st.session_state[state.TR_FT_PLAN] = plan
            if _start_next(plan):
                st.rerun()  # the page's own Start and Stop now see the run
    if plan is not None:
        _progress(plan)


def _progress(plan: Comparison) -> None:
    @st.fragment(run_every=None if plan.done else PLAN_EVERY_S)
    def live() -> None:
        started = _start_next(plan)
        results(plan)
        if started or (plan.done and st.session_state.get(state.TR_FT_WAS_BUSY)):
            st.session_state[state.TR_FT_WAS_BUSY] = not plan.done
            st.rerun()  # a run started or the comparison ended: redraw the page's buttons
        st.session_state[state.TR_FT_WAS_BUSY] = not plan.done

    live()
