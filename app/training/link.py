"""The Training page's link: its dataset, network and training settings in ``st.query_params``.

:func:`publish` keeps the address bar equal to what is on screen (only what differs from the
defaults); :func:`seed_from_link` presets the widgets from a link once per session (and from the
last settings when the learner comes back from another page, or when any widget's value was dropped).
A network built on the Architecture page travels as that page's own link tokens (``in``, ``net``).
A value that cannot be read gets a sentence and its default; epochs above the instructor's limit
are brought down to it. The Architecture page's "Train this network" is such a link
(:func:`from_architecture`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import streamlit as st

from app import state
from app.training.settings import BATCH_SIZES, FROM_ARCHITECTURE, OPTIMIZERS, SCHEDULES
from app.workspace import ClassSettings
from cnn_core import models, training

DATA_KEYS: dict[str, str] = {  # link value -> the dataset's label in SOURCES
    "mnist": "MNIST digits (bundled subset, 10,000 images)",
    "fashion": "Fashion-MNIST clothing (bundled subset, 10,000 images)",
    "shapes": "Shapes (generated: lines, circles, squares, triangles, crosses)",
    "mnist-full": "MNIST (full 70,000, from the data folder)",
    "fashion-full": "Fashion-MNIST (full 70,000, from the data folder)",
    "cifar10": "CIFAR-10 (full 60,000 colour images, from the data folder)",
    "zip": "My own images (a zip of class folders)",
}
LABEL_KEYS = {label: key for key, label in DATA_KEYS.items()}
ARCHITECTURE = "architecture"


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError


def _choice(options: list[Any], cast: Callable[[str], Any] = str) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        value = cast(text)
        if value not in options:
            raise ValueError
        return value

    return read


def _ranged(cast: Callable[[str], Any], low: float, high: float) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        value = cast(text)
        if not low <= value <= high:
            raise ValueError
        return value

    return read


# link key -> (TrainConfig field, widget key, reader of the link's text)
SETTINGS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "opt": ("optimizer", state.TR_OPT, _choice(OPTIMIZERS)),
    "lr": ("lr", state.TR_LR, _ranged(float, 1e-5, 10.0)),
    "batch": ("batch_size", state.TR_BATCH, _choice(BATCH_SIZES, int)),
    "epochs": ("epochs", state.TR_EPOCHS, _ranged(int, 1, 10_000)),
    "schedule": ("schedule", state.TR_SCHEDULE, _choice(SCHEDULES)),
    "wd": ("weight_decay", state.TR_WD, _ranged(float, 0.0, 0.1)),
    "seed": ("seed", state.TR_SEED, _ranged(int, 0, 10_000)),
    "flip": ("augment_flip", state.TR_FLIP, _bool),
    "shift": ("augment_shift", state.TR_SHIFT, _ranged(int, 0, 4)),
    "rotate": ("augment_rotate", state.TR_ROTATE, _ranged(float, 0.0, 30.0)),
}


# The widget each link key sets ("model" and a built network's tokens set the Network box). Streamlit drops a
# widget's value after a completed run that did not draw it (another page's run), and the page would then show
# that widget's default: each one missing takes its last value back.
_WIDGET_OF = {"data": state.TR_SOURCE, "model": state.TR_MODEL, **{k: w for k, (_, w, _) in SETTINGS.items()}}
_WIDGETS = tuple(_WIDGET_OF.values())


def to_query(
    source: str, network: str, cfg: training.TrainConfig, arch: models.ModelConfig | None, *, flip_default: bool
) -> dict[str, str]:
    """The link for what is on screen: the dataset, the network and the settings that differ from the
    defaults (random flips default to on for colour images)."""
    default = dataclasses.replace(training.TrainConfig(), augment_flip=flip_default)
    query = {"data": LABEL_KEYS.get(source, "mnist")}
    if network == FROM_ARCHITECTURE and arch is not None:
        query |= {"model": ARCHITECTURE, **models.to_query(arch)}
    else:
        query["model"] = network
    for key, (name, _, _) in SETTINGS.items():
        value = getattr(cfg, name)
        if value != getattr(default, name):
            query[key] = str(int(value) if isinstance(value, bool) else value)
    return query


def publish(query: dict[str, str]) -> None:
    """Keep the address bar (and the settings kept for coming back to the page) equal to ``query``."""
    st.session_state[state.TR_LAST_QUERY] = query
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def from_architecture(config: models.ModelConfig) -> dict[str, str]:
    """The link parameters of the Architecture page's "Train this network": the Training page opens
    with this network chosen (and the last settings otherwise). The Training page's next run honours
    such a link once (a rerun there keeps the learner's own choice)."""
    st.session_state[state.TR_HANDOFF] = True
    return {"model": ARCHITECTURE, **models.to_query(config)}


def seed_from_link(settings: ClassSettings) -> None:
    """Preset the widgets from the link (first visit, or arriving through the Architecture page's "Train
    this network"), else from the last settings for each widget whose value is gone (back from another page)."""
    ss = st.session_state
    handoff = ss.pop(state.TR_HANDOFF, False) and st.query_params.get("model") == ARCHITECTURE
    if not ss.get(state.TR_SEEDED):
        ss[state.TR_SEEDED] = True
        params, quiet = st.query_params.to_dict(), False
    elif handoff:
        params, quiet = {**ss.get(state.TR_LAST_QUERY, {}), **st.query_params.to_dict()}, False
    elif state.TR_LAST_QUERY in ss and (lost := [k for k in _WIDGETS if k not in ss]):
        params, quiet = _only(ss[state.TR_LAST_QUERY], lost), True
    else:
        return
    problems = apply(params, settings)
    if problems and not quiet:
        ss[state.TR_LINK_ERROR] = " ".join(problems)


def _only(query: dict[str, str], widgets: list[str]) -> dict[str, str]:
    """The part of a link that sets ``widgets`` (a widget still holding a value keeps it)."""
    return {k: v for k, v in query.items() if _WIDGET_OF.get(k, state.TR_MODEL) in widgets}


def apply(params: dict[str, str], settings: ClassSettings) -> list[str]:
    """Set the widgets from link parameters; a sentence for each one that could not be used."""
    ss, problems = st.session_state, []
    if "data" in params:
        label = DATA_KEYS.get(params["data"])
        if label is None:
            problems.append(f"The link's dataset “{params['data']}” is not one ConvLab knows; showing the MNIST digits.")
        else:
            ss[state.TR_SOURCE] = label
    model = params.get("model")
    if model == ARCHITECTURE:
        try:
            net = models.from_query(params)
            if (err := models.validate(net)) is not None:
                raise ValueError(str(err))
        except ValueError as err:
            problems.append(f"The link's network cannot be used: {err}")
        else:
            ss[state.TR_LINK_NET] = net
            ss[state.TR_MODEL] = FROM_ARCHITECTURE
    elif model is not None:
        if model in models.PRESETS:
            ss[state.TR_MODEL] = model
        else:
            problems.append(f"The link's network “{model}” is not one ConvLab knows; showing {models.FAST_PRESET}.")
    for key, (name, widget, read) in SETTINGS.items():
        if key not in params:
            continue
        try:
            value = read(params[key])
        except ValueError:
            default = getattr(training.TrainConfig(), name)
            problems.append(f"The link's {key}={params[key]!r} cannot be used; the default ({default}) is.")
            continue
        if key == "epochs" and value > settings.max_epochs:
            problems.append(
                f"The link asks for {value} epochs; the instructor allows at most {settings.max_epochs} per run, "
                f"so {settings.max_epochs} are set."
            )
            value = settings.max_epochs
        ss[widget] = value
    return problems

