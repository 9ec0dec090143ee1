"""Glue for "Inside the model": which model and image are looked at, and the widgets of each section.

``app_pages/inside.py`` stays thin: it asks this module for the session's model (or offers a quick
demo training when there is none), for the image being looked at, and then draws one section
per tab. Every number comes from :mod:`cnn_core.inspection`, every chart from :mod:`app.plots`.
Pictures offered for download (feature maps, kernels, saliency, the confusion matrix) are PNGs
drawn here with Pillow from the same arrays; tables download as CSV; every plotly chart can also
be saved as PNG from its toolbar (camera icon), which the browser renders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.colors
import streamlit as st
import torch
from PIL import Image, ImageDraw
from torch import nn

from app import plots, state
from app import training as tr
from app.pictures import png_bytes
from app.trained import TrainedBundle
from cnn_core import data as datasets
from cnn_core import images, inspection, kernels, models, training, training_process

DEMO_CONFIG = models.ModelConfig(
    "Quick demo CNN",
    (1, 28, 28),
    (
        models.Conv2dSpec(16, 3, padding="same"),
        models.PoolSpec("max", 2),
        models.Conv2dSpec(32, 3, padding="same"),
        models.PoolSpec("max", 2),
        models.FlattenSpec(),
        models.DenseSpec(10, "none"),
    ),
)
DEMO_SECONDS = 20.0
# A constant learning rate: a schedule planned for whole epochs would be cut short by the time limit.
DEMO_TRAIN = training.TrainConfig(
    epochs=2, lr=3e-3, schedule="none", max_seconds=DEMO_SECONDS, evals_per_epoch=2, eval_samples=1000
)
MAX_TEST = 10_000  # test images the confusion matrix and mistakes use
MAX_MAPS = 64  # feature maps per layer drawn unless "show every channel" is ticked
SOURCES = ("Test image", "Upload", "Draw")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
CHART = {"displaylogo": False}  # keep plotly's toolbar: its camera icon saves the chart as PNG

# --------------------------------------------------------------------------------------------
# The model being looked at
# --------------------------------------------------------------------------------------------


def train_demo(*, data: datasets.ImageSet | None = None, config: training.TrainConfig = DEMO_TRAIN) -> TrainedBundle:
    """Train :data:`DEMO_CONFIG` here, in this thread (tests and notebooks; the page uses :func:`run_demo`).

    Bundled MNIST unless ``data`` is given, for at most ``config.max_seconds``. Snapshots are taken
    before training and at every evaluation, so "Over time" has something to replay.
    """
    data = data if data is not None else datasets.load_bundled("mnist")
    torch.manual_seed(config.seed)
    model = models.build(DEMO_CONFIG)
    bundle = TrainedBundle(model=model, model_config=DEMO_CONFIG, data=data, train_config=config)
    for _ in tr.follow(bundle, training_process.watch(model, data, config, snapshots="eval", weights=False)):
        pass
    return bundle


def no_model_panel() -> None:
    """What the page shows when this session has no model: where to get one, and a quick demo."""
    st.info(
        "There is no model in this session yet. Train one on the **Training** page, or train a small demo "
        f"network here on the bundled MNIST digits (at most {DEMO_SECONDS:.0f} seconds).",
        icon=":material/model_training:",
    )
    st.page_link("app_pages/training.py", label="Go to the Training page", icon=":material/model_training:")
    if st.button(f"Train a quick demo model (up to {DEMO_SECONDS:.0f} s)", key="in_demo", type="primary"):
        run_demo()


def run_demo() -> None:
    """Train the demo like any run (a server slot, a child process) and wait for it with a progress bar."""
    try:
        job = tr.start_run(
            DEMO_CONFIG, tr.shared_dataset("bundled", "mnist"), DEMO_TRAIN, label="Quick demo", snapshots="eval"
        )
    except RuntimeError as err:  # this session already has a run going
        st.error(str(err))
        return
    bar = st.progress(0.0, text="Starting the training …")
    limit = DEMO_TRAIN.max_seconds or float("inf")
    while job.active:
        time.sleep(0.3)
        events = job.events()
        start = next((e for e in events if isinstance(e, training.RunStarted)), None)
        step = next((e for e in reversed(events) if isinstance(e, training.StepEvent)), None)
        if job.status == "queued":
            position = tr.registry().queue_position(job)
            bar.progress(0.0, text=f"Waiting for a free training slot (number {position or 1} in the queue) …")
        elif step is None:
            bar.progress(0.0, text="Starting the training process …")
        elif start is not None:
            done = min(max(step.step / start.total_steps, step.train_s / limit), 1.0)
            bar.progress(done, text=f"Step {step.step}, loss {step.loss:.3f}")
    bundle = st.session_state[state.TR_BUNDLE]
    fin = bundle.events[-1] if bundle.events else None
    if job.status == "failed" or not isinstance(fin, training.RunFinished):
        st.error(job.error or "The demo training did not finish.", icon=":material/error:")
        return
    st.session_state[state.IN_DEMO_NOTE] = (
        f"Trained the quick demo CNN (two convolutions with 16 and 32 kernels of 3x3) for {fin.step} steps "
        f"({fin.epoch_fraction:.1f} epochs, {fin.train_s:.0f} s): {fin.message}"
    )
    st.rerun()


@dataclass(eq=False)
class View:
    """A frozen moment of the session's model: an eval-mode CPU copy and its test-set answers."""

    bundle: TrainedBundle
    model: nn.Module
    preds: inspection.Predictions
    step: int | None  # training step when the copy was taken (None: unknown)
    version: tuple


def _last_step(bundle: TrainedBundle) -> int | None:
    steps = [getattr(e, "step", None) for e in list(bundle.events)]
    steps = [s for s in steps if s is not None]
    return steps[-1] if steps else None


def current_view(bundle: TrainedBundle) -> View:
    """The cached :class:`View`, renewed when the model finished training or a fresh copy was asked for."""
    version = (bundle.finished, st.session_state.get(state.IN_REFRESH, 0))
    view = st.session_state.get(state.IN_CACHE)
    if not isinstance(view, View) or view.bundle is not bundle or view.version != version:
        model, step = bundle.model_copy_and_step()
        preds = inspection.predict_test_set(model, bundle.data, n=MAX_TEST)
        view = View(bundle, model, preds, _last_step(bundle) if step is None else step, version)
        st.session_state[state.IN_CACHE] = view
    return view


def _refresh() -> None:
    st.session_state[state.IN_REFRESH] = st.session_state.get(state.IN_REFRESH, 0) + 1


def status(view: View) -> None:
    """One line on which model this is; while it trains, which step the copy is from and a refresh button."""
    b = view.bundle
    note = st.session_state.pop(state.IN_DEMO_NOTE, None)
    if note:
        st.success(note, icon=":material/check_circle:")
    n = len(view.preds.y_true)
    line = (
        f"Model **{b.model_config.name}** on **{b.data.name}**: {view.preds.accuracy:.1%} of {n:,} test images "
        "classified correctly."
    )
    if b.finished:
        st.caption(line)
        return
    now = _last_step(b)
    st.info(
        f"{line} The model is still training (step {now if now is not None else 0} now); you are looking at a copy "
        f"taken at step {view.step if view.step is not None else 0}.",
        icon=":material/hourglass_top:",
    )
    st.button("Take a fresh copy of the model", key="in_refresh_btn", on_click=_refresh)


# --------------------------------------------------------------------------------------------
# Pictures: colour maps, enlarging, overlays, PNG bytes
# --------------------------------------------------------------------------------------------


def _lut(name: str) -> np.ndarray:
    cols = plotly.colors.sample_colorscale(name, list(np.linspace(0, 1, 256)))
    return np.array([plotly.colors.unlabel_rgb(c) for c in cols], dtype=np.float64).round().astype(np.uint8)


LUTS = {"seq": _lut(plots.SEQUENTIAL), "div": _lut(plots.DIVERGING)}


def colourise(values: np.ndarray, *, diverging: bool, zrange: tuple[float, float]) -> np.ndarray:
    """(h, w) floats (NaN = gap) -> (h, w, 3) uint8 in the charts' colour scale; gaps white."""
    lo, hi = zrange
    t = (np.nan_to_num(values, nan=lo) - lo) / (hi - lo if hi > lo else 1.0)
    rgb = LUTS["div" if diverging else "seq"][np.clip(np.rint(t * 255), 0, 255).astype(int)]
    rgb[np.isnan(values)] = 255
    return rgb


def picture_u8(picture: np.ndarray) -> np.ndarray:
    """Float [0, 1] (H, W) or (H, W, 3) -> uint8."""
    return images.to_uint8(np.clip(picture, 0, 1))


def enlarge(img: np.ndarray, side: int = 168) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor so the longer side is about ``side`` px (pixels stay square)."""
    f = max(1, side // max(img.shape[:2]))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1)


def overlay(picture: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """A heat map in [0, 1] laid over the picture; the stronger the heat, the more it covers."""
    base = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=2)
    colour = LUTS["seq"][np.clip(np.rint(heat * 255), 0, 255).astype(int)] / 255.0
    a = alpha * np.clip(heat, 0, 1)[..., None]
    return picture_u8((1 - a) * (0.3 + 0.7 * base) + a * colour)


def confusion_png(counts: np.ndarray, classes: tuple[str, ...]) -> bytes:
    """The confusion matrix as a PNG table: counts in cells shaded by row share, class names on the edges."""
    k, cell, margin = len(classes), 44, 110
    img = Image.new("RGB", (margin + k * cell + 10, margin + k * cell + 10), "white")
    d = ImageDraw.Draw(img)
    share = inspection.row_normalise(counts)
    d.text((margin, 8), "predicted class ->", fill="black")
    d.text((8, margin - 16), "true class", fill="black")
    for j, name in enumerate(classes):
        d.text((margin + j * cell + 4, margin - 32), str(name)[:7], fill="black")
        d.text((8, margin + j * cell + 16), str(name)[:14], fill="black")
    for t in range(k):
        for p in range(k):
            rgb = tuple(int(v) for v in LUTS["seq"][int(round(share[t, p] * 255))])
            x0, y0 = margin + p * cell, margin + t * cell
            d.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=rgb)
            ink = "black" if share[t, p] > 0.5 else "white"
            d.text((x0 + 6, y0 + 16), str(int(counts[t, p])), fill=ink)
    return png_bytes(np.asarray(img))


def _test_picture(data: datasets.ImageSet, i: int) -> np.ndarray:
    x = data.x_test[i].numpy()  # (C, H, W) uint8
    return (x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)).astype(np.float32) / 255.0


def gallery(data: datasets.ImageSet, idx: np.ndarray, captions: list[str]) -> None:
    """Test images side by side, each enlarged to 84 px with a caption."""
    if len(idx) == 0:
        return
    pics = [enlarge(picture_u8(_test_picture(data, int(i))), 84) for i in idx]
    st.image(pics, caption=captions, width=84)


def download_png(label: str, make: Callable[[], bytes], file_name: str, key: str) -> None:
    st.download_button(label, make, file_name=file_name, mime="image/png", key=key, on_click="ignore",
                       icon=":material/download:")  # fmt: skip


def download_csv(label: str, frame: pd.DataFrame, file_name: str, key: str) -> None:
    st.download_button(label, lambda: frame.to_csv(index=False), file_name=file_name, mime="text/csv", key=key,
                       on_click="ignore", icon=":material/download:")  # fmt: skip


# --------------------------------------------------------------------------------------------
# The image being looked at
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Chosen:
    """The image the feature maps, saliency and prediction are about."""

    label: str  # e.g. "Test image 12" or "Your drawing"
    x: torch.Tensor  # (1, C, H, W) normalised model input
    picture: np.ndarray  # float [0, 1] (H, W) or (H, W, 3): the input before normalising
    true: int | None  # the label, for test images
    pre: inspection.Preprocessed | None  # the preprocessing stages, for uploads and drawings


def _random_test(n: int) -> None:
    st.session_state["in_test_index"] = int(np.random.default_rng().integers(n))


def _from_test(data: datasets.ImageSet, i: int) -> Chosen:
    x = data.normalize(data.x_test[i : i + 1])
    return Chosen(f"Test image {i}", x, _test_picture(data, i), int(data.y_test[i]), None)


def _uploaded() -> np.ndarray | None:
    f = st.file_uploader("Upload an image", type=UPLOAD_TYPES, key="in_upload")
    if f is None:
        return None
    if f.size > images.MAX_BYTES:
        st.error(f"The file is {f.size / 1e6:.1f} MB; ConvLab accepts images up to {images.MAX_BYTES / 1e6:.0f} MB.")
        return None
    try:
        loaded = images.load_image(f.getvalue())
    except images.ImageError as err:
        st.error(f"{f.name}: {err}", icon=":material/broken_image:")
        return None
    for note in loaded.notes:
        st.caption(note)
    return loaded.pixels


def _drawn() -> np.ndarray | None:
    try:  # imported here: the component registers itself with a running Streamlit server
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # not installed, or a version that does not fit this Streamlit
        st.warning("Drawing needs the streamlit-drawable-canvas package, which is not available here.")
        return None
    st.space("small")  # room for the canvas's toolbar, which floats above it
    result = st_canvas(stroke_width=18, stroke_color="#000000", background_color="#FFFFFF", width=280, height=280,
                       key="in_canvas", return_image_data=True)  # fmt: skip
    st.caption("Draw one digit, large, with the mouse or a finger; the arrow icons undo, the bin icon clears.")
    rgba = result.image_data
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] < 3:
        return None
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    if rgba.shape[2] == 4:
        a = rgba[..., 3:4].astype(np.float32) / 255.0
        rgb = rgb * a + (1.0 - a)  # transparent parts are white paper
    return None if rgb.min() > 0.9 else rgb  # nothing drawn yet


def image_picker(view: View) -> Chosen:
    """Choose the image (test set, upload or drawing) and show what the model sees and says."""
    data = view.bundle.data
    n = int(data.x_test.shape[0])
    left, right = st.columns([3, 2], gap="large")
    with left:
        source = st.radio("Image to look at", SOURCES, horizontal=True, key="in_source")
        st.session_state.setdefault("in_test_index", 0)
        st.session_state["in_test_index"] = min(int(st.session_state["in_test_index"]), n - 1)
        chosen: Chosen | None = None
        if source == "Test image":
            a, b = st.columns([2, 1], vertical_alignment="bottom")
            a.number_input(f"Test image number (0 to {n - 1})", 0, n - 1, key="in_test_index")
            b.button("Random", key="in_random", on_click=_random_test, args=(n,), icon=":material/casino:")
        else:
            raw = _uploaded() if source == "Upload" else _drawn()
            a, b = st.columns(2)
            invert = a.radio("Invert colours", ["auto", "yes", "no"], horizontal=True, key="in_invert",
                             format_func={"auto": "Automatic", "yes": "Invert", "no": "Don't invert"}.get,
                             help="MNIST digits are white on black; a drawing is usually black on white.")  # fmt: skip
            centre = b.checkbox("Crop and centre like MNIST", value=True, key="in_centre",
                                disabled=data.input_shape[0] != 1)  # fmt: skip
            if raw is None:
                what = "Upload an image" if source == "Upload" else "Draw a digit on the canvas"
                st.info(f"{what}; until then the test image {st.session_state['in_test_index']} is shown.")
            else:
                try:
                    pre = inspection.preprocess(raw, data, invert=invert, centre=centre and data.input_shape[0] == 1)
                except ValueError as err:
                    st.warning(f"{err} Showing test image {st.session_state['in_test_index']} instead.")
                else:
                    label = "Your drawing" if source == "Draw" else "Your upload"
                    chosen = Chosen(label, pre.x, pre.stages[-2].image, None, pre)
        if chosen is None:
            chosen = _from_test(data, int(st.session_state["in_test_index"]))
    with right:
        probs = inspection.predict_proba(view.model, chosen.x)
        k = int(np.argmax(probs))
        c, h, w = data.input_shape
        st.image(enlarge(picture_u8(chosen.picture), 168), caption=f"What the model sees: {chosen.label}, {w}x{h} px")
        verdict = f"The model says **{data.classes[k]}** ({probs[k]:.1%} sure)."
        if chosen.true is not None:
            right_or_wrong = "right" if k == chosen.true else "wrong"
            verdict += f" The true class is **{data.classes[chosen.true]}**: {right_or_wrong}."
        st.markdown(verdict)
    return chosen


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------

SCALE_HELP = {
    "shared": "One colour scale for all maps of a layer: the same colour is the same number in every map, so "
    "strong and weak channels can be compared (weak ones look flat). Maps with negative values use blue for "
    "positive, red for negative and white for 0; maps that are never negative (after ReLU) go from dark blue (0) "
    "to yellow (largest).",
    "per_map": "Each map stretched to its own largest value: the pattern of even a weak channel shows, but "
    "colours cannot be compared between maps. Hover to read the real numbers.",
}


def _zrange(v: np.ndarray) -> tuple[tuple[float, float], bool]:
    """Colour range and whether it is diverging: symmetric around 0 when there are negatives."""
    top = float(np.nanmax(np.abs(v))) if v.size else 0.0
    top = top or 1.0
    return ((-top, top), True) if np.nanmin(v) < 0 else ((0.0, top), False)


def _maps_figure(
    maps: np.ndarray, per_map: bool, names: list[str] | None = None, cols: int | None = None, cell_px: float = 16
):
    """(N, h, w) maps -> (figure, PNG maker) with the chosen colour scale."""
    shown = inspection.per_map_scale(maps) if per_map else maps
    t = inspection.tile(shown, cols=cols)
    raw = inspection.tile(maps, cols=cols).values
    zr, div = _zrange(t.values)
    if per_map:
        zr = (-1.0, 1.0) if div else (0.0, 1.0)
    label = "share of map's max" if per_map else "value"
    fig = plots.tiled_maps(
        t.values, raw, t.index, diverging=div, zrange=zr, colourbar=label, names=names, max_cell_px=cell_px
    )
    scale = max(1, 56 // max(t.tile_shape))
    return fig, lambda: png_bytes(
        np.kron(colourise(t.values, diverging=div, zrange=zr), np.ones((scale, scale, 1), np.uint8))
    )


def feature_maps_section(view: View, chosen: Chosen) -> None:
    st.write(
        "Each layer turns the image into a stack of **feature maps**, one per channel. Early maps respond to edges "
        "and strokes; deeper ones are smaller and respond to larger parts of the digit."
    )
    a, b = st.columns([2, 1])
    scale = a.radio("Colour scale", ["shared", "per_map"], horizontal=True, key="in_fm_scale",
                    format_func={"shared": "Shared by the layer", "per_map": "Each map its own"}.get)  # fmt: skip
    show_all = b.checkbox(f"Show every channel (else the first {MAX_MAPS})", key="in_fm_all")
    st.caption(SCALE_HELP[scale])
    acts = inspection.feature_maps(view.model, chosen.x)
    c, h, w = view.bundle.data.input_shape
    st.markdown(f"**Input** · {chosen.label} · {c} x {h} x {w}")
    st.image(enlarge(picture_u8(chosen.picture), 112))
    classes = view.bundle.data.classes
    for i, act in enumerate(acts):
        shape = " x ".join(str(s) for s in act.shape)
        st.markdown(f"**{i + 1}. {act.name}** · {act.description} · output {shape}")
        if act.is_spatial:
            maps = act.values if show_all else act.values[:MAX_MAPS]
            if len(maps) < len(act.values):
                st.caption(f"Showing the first {len(maps)} of {len(act.values)} channels.")
            fig, make = _maps_figure(maps, scale == "per_map", [f"channel {j + 1}" for j in range(len(maps))])
            st.plotly_chart(fig, key=f"in_fm_fig_{i}", config=CHART, width="content")
            download_png("PNG", make, f"feature_maps_{i + 1}_{act.name}.png", key=f"in_fm_png_{i}")
        elif i == len(acts) - 1 and act.shape == (len(classes),):
            probs = np.exp(act.values - act.values.max())
            probs /= probs.sum()
            st.caption("The last layer gives one score (logit) per class; softmax turns them into probabilities:")
            st.plotly_chart(plots.probability_bars(list(classes), probs), key=f"in_fm_fig_{i}", config=CHART)
        else:
            st.caption("A flat vector: the numbers of the previous layer in one row (or dense-layer outputs).")
            fig, _ = _maps_figure(act.values[None, None, :], scale == "per_map", ["vector"])
            st.plotly_chart(fig, key=f"in_fm_fig_{i}", config=CHART, width="content")


def _similarity_table(weights: np.ndarray) -> pd.DataFrame:
    rows = []
    for o, k in enumerate(weights):
        m = inspection.nearest_preset(k)
        rows.append({"kernel": o + 1, "nearest preset": m.preset, "inverted": m.inverted,
                     "similarity": round(m.similarity, 3)})  # fmt: skip
    return pd.DataFrame(rows)


def kernels_section(view: View) -> None:
    conv_list = inspection.conv_layers(view.model)
    if not conv_list:
        st.info("This model has no convolution layer, so it has no kernels to show.")
        return
    name, conv = conv_list[0]
    w = conv.weight.detach().float().numpy()  # (O, C, kh, kw)
    o, c, kh, kw = w.shape
    st.write(
        f"The first convolution (**{name}**) learned **{o} kernels** of {c} x {kh} x {kw} weights. Nobody wrote "
        "them: training found them. Blue weights are positive, red negative; hover to read the numbers."
    )
    if c == 3:
        rgb = w - w.min(axis=(1, 2, 3), keepdims=True)
        rgb = rgb / np.maximum(rgb.max(axis=(1, 2, 3), keepdims=True), 1e-12)  # each kernel stretched to [0, 1]
        tiles = [inspection.tile(rgb[:, ch]) for ch in range(3)]
        img = np.stack([np.nan_to_num(t.values, nan=1.0) for t in tiles], axis=-1)
        pic = picture_u8(np.kron(img, np.ones((12, 12, 1))))
        st.image(pic, caption="Colour kernels: each stretched to its own range; red, green and blue weights as colour.")
        download_png("PNG of the kernels", lambda: png_bytes(pic), "first_layer_kernels.png", key="in_k_png")
    else:
        fig, make = _maps_figure(w[:, 0], False, [f"kernel {j + 1}" for j in range(o)], cols=8, cell_px=36)
        st.plotly_chart(fig, key="in_k_fig", config=CHART, width="content")
        download_png("PNG of the kernels", make, "first_layer_kernels.png", key="in_k_png")

    st.subheader("Learned kernels next to the hand-made ones")
    st.write(
        "Each learned kernel is compared with the presets of the Kernel Lab by **cosine similarity** of their "
        "patterns (after subtracting each kernel's mean): +1 is the same pattern at any strength, -1 the same "
        "pattern inverted (dark and bright swapped), 0 unrelated. Colour kernels are compared through the sum of "
        "their three channels, which is what they do to a gray image."
    )
    table = _similarity_table(w)
    pick = st.columns(3)[0].number_input(f"Kernel (1 to {o})", 1, o, key="in_k_pick")
    match = inspection.nearest_preset(w[pick - 1])
    learned = w[pick - 1].sum(axis=0)
    a, b = st.columns(2)
    a.plotly_chart(plots.matrix_heatmap(learned, title=f"Learned kernel {pick}"), key="in_k_learned", config=CHART)
    b.plotly_chart(plots.matrix_heatmap(match.compared, title=match.preset), key="in_k_preset", config=CHART)
    st.success(f"Kernel {pick} {match.phrase}.", icon=":material/compare:")
    base = match.preset.split(" (")[0]
    if base in kernels.PRESETS:
        st.caption(f"{base}: {kernels.PRESETS[base].description}")
    if match.flat:
        st.caption("This kernel is mostly one constant value: it averages its neighbourhood, like a blur.")
    with st.expander("All first-layer kernels and their nearest presets"):
        st.dataframe(table, hide_index=True, key="in_k_table")
        download_csv("CSV", table, "kernel_matches.csv", key="in_k_csv")

    if len(conv_list) > 1:
        st.subheader("Deeper layers")
        names = [n for n, _ in conv_list[1:]]
        layer = st.selectbox("Convolution layer", names, key="in_k_layer")
        wd = dict(conv_list)[layer].weight.detach().float().numpy()  # (O, I, kh, kw)
        oo, ii = min(16, wd.shape[0]), min(16, wd.shape[1])
        maps = wd[:oo, :ii].reshape(oo * ii, *wd.shape[2:])
        labels = [f"output {r + 1}, input {q + 1}" for r in range(oo) for q in range(ii)]
        st.caption(
            f"{wd.shape[0]} x {wd.shape[1]} kernels of {wd.shape[2]}x{wd.shape[3]}: row = the feature map it makes, "
            f"column = the input channel it reads"
            + (f" (the first {oo} x {ii} shown)." if (oo, ii) != wd.shape[:2] else ".")
        )
        fig, make = _maps_figure(maps, False, labels, cols=ii)
        st.plotly_chart(fig, key="in_k_deep_fig", config=CHART, width="content")
        download_png("PNG", make, f"kernels_{layer}.png", key="in_k_deep_png")


def _snap_label(s: inspection.Snapshot) -> str:
    return "before training" if s.step == 0 else f"epoch {s.epoch}, step {s.step}"


def snapshots_section(view: View) -> None:
    snaps: dict[int, inspection.Snapshot] = {}
    for s in view.bundle.snapshots_now():
        snaps[s.step] = s  # the last one taken at a step wins
    items = [snaps[k] for k in sorted(snaps)]
    if not items:
        st.info("No snapshots yet: a training run records the first-layer kernels and the confusion matrix "
                "after every epoch, and they appear here.")  # fmt: skip
        return
    labels = [_snap_label(s) for s in items]
    if st.session_state.get("in_snap") not in labels:
        st.session_state["in_snap"] = labels[-1]
    if len(items) > 1:
        chosen = st.select_slider("Moment of training", labels, key="in_snap")
    else:
        chosen = labels[0]
        st.caption("Only one snapshot so far; more appear as training goes on.")
    i = labels.index(chosen)
    s = items[i]
    st.plotly_chart(plots.accuracy_over_time(labels, [x.val_acc for x in items], i), key="in_snap_acc", config=CHART)
    n = int(s.confusion.sum())
    st.markdown(f"At **{chosen}**: {s.val_acc:.1%} of {n:,} test images right.")
    a, b = st.columns(2)
    with a:
        st.markdown("**First-layer kernels** (one colour scale for all moments)")
        if s.first_kernels.size:
            k2 = s.first_kernels.sum(axis=1)  # (O, kh, kw)
            top = max(float(np.abs(x.first_kernels.sum(axis=1)).max()) for x in items) or 1.0
            t = inspection.tile(k2, cols=8)
            fig = plots.tiled_maps(t.values, t.values, t.index, diverging=True, zrange=(-top, top),
                                   names=[f"kernel {j + 1}" for j in range(len(k2))], max_width_px=420,
                                   max_cell_px=24)  # fmt: skip
            st.plotly_chart(fig, key="in_snap_k", config=CHART, width="content")
    with b:
        st.markdown("**Confusion matrix** (share of each true class)")
        classes = view.bundle.data.classes
        fig = plots.confusion_heatmap(inspection.row_normalise(s.confusion), s.confusion, classes, normalised=True)
        st.plotly_chart(fig, key="in_snap_cm", config=CHART)
    frame = pd.DataFrame({"moment": labels, "epoch": [x.epoch for x in items], "step": [x.step for x in items],
                          "accuracy": [round(x.val_acc, 4) for x in items]})  # fmt: skip
    download_csv("CSV of accuracy over time", frame, "accuracy_over_time.csv", key="in_snap_csv")


def cell_from_selection(event: object, k: int) -> tuple[int, int] | None:
    """(true, predicted) of the first clicked cell of the confusion chart's selection event, or None.

    The cells' invisible markers were added row by row, so point number n is cell divmod(n, k).
    """
    try:
        point = event["selection"]["points"][0]  # type: ignore[index]
        if point.get("curve_number", 1) != 1:  # only the markers trace (trace 1) stands for cells
            return None
        n = point.get("point_index", point.get("point_number"))
        t, p = divmod(int(n), k)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return (t, p) if 0 <= t < k else None


def _cm_click(k: int) -> None:
    cell = cell_from_selection(st.session_state.get("in_cm_fig"), k)
    if cell is not None:
        st.session_state["in_cm_true"], st.session_state["in_cm_pred"] = cell


def confusion_section(view: View) -> None:
    data, preds = view.bundle.data, view.preds
    classes, k = data.classes, data.num_classes
    cm = inspection.confusion_matrix(preds.y_true, preds.y_pred, k)
    st.write(
        f"Each row is a true class, each column what the model answered, on {len(preds.y_true):,} test images it "
        "never trained on. The diagonal holds the right answers; everything else is a confusion."
    )
    if "in_cm_true" not in st.session_state:  # start on the most common confusion
        off = cm - np.diag(np.diag(cm))
        t, p = np.unravel_index(int(np.argmax(off)), off.shape) if off.any() else (0, 0)
        st.session_state["in_cm_true"], st.session_state["in_cm_pred"] = int(t), int(p)
    mode = st.radio("Show", ["counts", "share"], horizontal=True, key="in_cm_mode",
                    format_func={"counts": "Counts", "share": "Share of each true class (row-normalised)"}.get)  # fmt: skip
    values = inspection.row_normalise(cm) if mode == "share" else cm.astype(float)
    sel = (int(st.session_state["in_cm_true"]), int(st.session_state["in_cm_pred"]))
    fig = plots.confusion_heatmap(values, cm, classes, normalised=mode == "share", selected=sel)
    st.plotly_chart(fig, key="in_cm_fig", on_select=lambda: _cm_click(k), selection_mode="points",
                    config=CHART)  # fmt: skip
    st.caption("Click a cell, or choose the two classes below, to see the test images behind it.")
    a, b = st.columns(2)
    t = a.selectbox("True class", range(k), format_func=lambda i: classes[i], key="in_cm_true")
    p = b.selectbox("Predicted as", range(k), format_func=lambda i: classes[i], key="in_cm_pred")
    idx = inspection.cell_examples(preds, t, p)
    what = "correctly classified" if t == p else f"predicted as **{classes[p]}**"
    st.markdown(
        f"**{len(idx)}** test images of **{classes[t]}** were {what}"
        + (" (most confident first):" if len(idx) else ".")
    )
    shown = idx[:24]
    if len(shown):
        st.caption("Under each image: its number in the test set and how sure the model was of its answer.")
    gallery(data, shown, [f"#{i} · {preds.confidence[i]:.0%}" for i in shown])

    rep = inspection.class_report(cm)
    st.subheader("Per class")
    st.write(
        "**Precision**: of the images the model called this class, the share that really were. **Recall**: of "
        "the images that really are this class, the share the model found. **F1** combines the two (their "
        "harmonic mean): high only when both are."
    )
    table = pd.DataFrame({"class": list(classes), "precision": rep.precision.round(3), "recall": rep.recall.round(3),
                          "F1": rep.f1.round(3), "test images": rep.support})  # fmt: skip
    st.dataframe(table, hide_index=True, key="in_cm_table")
    c1, c2, c3 = st.columns(3)
    with c1:
        download_csv("Per-class CSV", table, "per_class.csv", key="in_cm_csv")
    with c2:
        cm_frame = pd.DataFrame(cm, index=list(classes), columns=list(classes)).reset_index(names="true \\ predicted")
        download_csv("Confusion matrix CSV", cm_frame, "confusion_matrix.csv", key="in_cm_csv2")
    with c3:
        download_png("Confusion matrix PNG", lambda: confusion_png(cm, classes), "confusion_matrix.png", "in_cm_png")


def mistakes_section(view: View) -> None:
    data, preds = view.bundle.data, view.preds
    wrong = inspection.confident_mistakes(preds)
    st.write(
        f"The model got **{len(wrong)}** of {len(preds.y_true):,} test images wrong. Here are the mistakes it was "
        "surest about: often a badly written or oddly cropped image, sometimes a label a person would argue with."
    )
    if len(wrong) == 0:
        st.success("No mistakes on these test images.")
        return
    n = st.slider("How many", 4, min(64, max(4, len(wrong))), min(16, len(wrong)), step=4, key="in_mis_n")
    shown = wrong[:n]
    caps = [
        f"{data.classes[preds.y_true[i]]} → {data.classes[preds.y_pred[i]]} {preds.confidence[i]:.0%}" for i in shown
    ]
    st.caption("Each caption: true class → predicted class, and how sure the model was.")
    gallery(data, shown, caps)
    frame = pd.DataFrame({
        "test image": shown, "true": [data.classes[i] for i in preds.y_true[shown]],
        "predicted": [data.classes[i] for i in preds.y_pred[shown]],
        "probability of predicted": preds.confidence[shown].round(4),
        "probability of true": preds.probs[shown, preds.y_true[shown]].round(4),
    })  # fmt: skip
    st.dataframe(frame, hide_index=True, key="in_mis_table")
    download_csv("CSV", frame, "mistakes.csv", key="in_mis_csv")


ACTIVATIONS = (nn.ReLU, nn.ELU, nn.LeakyReLU, nn.GELU, nn.Tanh, nn.Sigmoid)


def _default_cam_layer(model: nn.Module, layers: list[str], convs: list[str]) -> str:
    """The last convolution's activation when it directly follows it, else the last convolution."""
    if not convs:
        return layers[-1]
    i = layers.index(convs[-1])
    modules = dict(model.named_modules())
    if i + 1 < len(layers) and isinstance(modules[layers[i + 1]], ACTIVATIONS):
        return layers[i + 1]
    return convs[-1]


def saliency_section(view: View, chosen: Chosen) -> None:
    data = view.bundle.data
    probs = inspection.predict_proba(view.model, chosen.x)
    pred = int(np.argmax(probs))
    options = [-1, *range(data.num_classes)]

    def fmt(i: int) -> str:
        return f"the predicted class ({data.classes[pred]})" if i < 0 else f"{data.classes[i]} ({probs[i]:.1%})"

    a, b = st.columns(2)
    target = a.selectbox("Explain the score of", options, format_func=fmt, key="in_sal_class")
    target = pred if target < 0 else int(target)
    layers = inspection.spatial_layers(view.model, chosen.x)
    if not layers:
        st.info("This model has no layer with feature maps, so Grad-CAM cannot be computed.")
        return
    convs = [n for n, _ in inspection.conv_layers(view.model) if n in layers]
    if st.session_state.get("in_gc_layer") not in layers:
        st.session_state["in_gc_layer"] = _default_cam_layer(view.model, layers, convs)
    layer = b.selectbox("Grad-CAM layer", layers, key="in_gc_layer",
                        help="Usually the last convolution (after its activation).")  # fmt: skip
    sal = inspection.saliency(view.model, chosen.x, target)
    sal_n = sal / sal.max() if sal.max() > 0 else sal
    gc = inspection.grad_cam(view.model, chosen.x, target, layer=layer)
    pic = chosen.picture
    sal_img = enlarge(colourise(sal_n, diverging=False, zrange=(0, 1)), 168)
    sal_over = enlarge(overlay(pic, sal_n), 168)
    gc_img = enlarge(colourise(gc.heatmap, diverging=False, zrange=(0, 1)), 168)
    gc_over = enlarge(overlay(pic, gc.heatmap), 168)
    shown = [
        (enlarge(picture_u8(pic), 168), chosen.label),
        (sal_img, "Saliency (bright = mattered most)"),
        (sal_over, "Saliency over the image"),
        (gc_img, f"Grad-CAM at {layer} ({gc.cam.shape[0]}x{gc.cam.shape[1]})"),
        (gc_over, "Grad-CAM over the image"),
    ]
    for col, (img, caption) in zip(st.columns(5), shown, strict=True):
        col.image(img, caption=caption, width=150)
    st.write(
        f"**Saliency** asks: if one pixel changed a little, how much would the score of **{data.classes[target]}** "
        "change? It is the size of that gradient, pixel by pixel, so it is sharp but noisy. **Grad-CAM** looks at "
        f"the feature maps of layer {layer} instead: it weighs each map by how much raising it would raise the "
        "score, adds them up and keeps the positive part, so it shows coarse regions that spoke *for* the class."
    )
    if gc.cam.max() == 0:
        st.caption("Grad-CAM is zero everywhere here: no region of this layer pushed this class's score up.")
    c1, c2 = st.columns(2)
    with c1:
        download_png("Saliency PNG", lambda: png_bytes(np.hstack([sal_img, sal_over])), "saliency.png", "in_sal_png")
    with c2:
        download_png("Grad-CAM PNG", lambda: png_bytes(np.hstack([gc_img, gc_over])), "grad_cam.png", "in_gc_png")


def predict_section(view: View, chosen: Chosen) -> None:
    data = view.bundle.data
    probs = inspection.predict_proba(view.model, chosen.x)
    c, h, w = data.input_shape
    if chosen.pre is None:
        st.write(f"{chosen.label} comes from the test set, so it is already {w}x{h} with {c} channel(s); it is only "
                 "normalised like every training image. Upload an image or draw one (top of the page) to see how "
                 "a picture of any size is made to look like the training data.")  # fmt: skip
    else:
        st.write("How your image was made to look like the training images, step by step:")
        cols = st.columns(len(chosen.pre.stages))
        for col, stage in zip(cols, chosen.pre.stages, strict=True):
            col.image(enlarge(picture_u8(stage.image), 140), caption=stage.name, width=120)
            col.caption(stage.note)
        for note in chosen.pre.notes:
            st.caption(note)
        if not chosen.pre.inverted:
            st.caption(chosen.pre.invert_reason)
    k = min(data.num_classes, 10)
    top = np.argsort(-probs)[:k]
    title = f"Top {k} classes for {chosen.label}"
    st.plotly_chart(plots.probability_bars([data.classes[i] for i in top], probs[top], title=title),
                    key="in_pred_bars", config=CHART)  # fmt: skip
    frame = pd.DataFrame({"class": list(data.classes), "probability": probs.round(5)})
    a, b = st.columns(2)
    with a:
        download_csv("Probabilities CSV", frame, "prediction.csv", key="in_pred_csv")
    with b:
        download_png("Model input PNG", lambda: png_bytes(picture_u8(chosen.picture)), "model_input.png", "in_pred_png")
