"""A lesson step's page link: the page's script, title and query, built and checked by that page's own code.

A step's ``settings`` are either the page's own link keys or a short form the page's code expands:

* Arithmetic: ``example = "<worked example>"`` (expanded by :func:`app.arithmetic.config.config_from_example`)
  plus any of the page's link keys (``quiz``, ``cell``, or ``op``/``x``/``k``/``s``/``p``... for own
  numbers); the result is read back with ``ArithmeticConfig.from_query``, which must report no problem.
* Kernel Lab: :class:`app.kernel_lab.model.KernelLabConfig` fields; it must read them all back.
* Architecture: ``preset = "<network>"`` (its link is :func:`cnn_core.models.to_query`), or ``in``/``net``.
* Training: the page's link keys (``data``, ``model``, ``batch``, ``epochs``...), each read by the
  page's own reader in :data:`app.training.link.SETTINGS`.
* Inside the model: ``tab`` (a word of :data:`app.inside.link.TABS`) and ``image``.
* Experiments: ``experiment = "<id>"`` (a key of :data:`cnn_core.training.experiments.EXPERIMENTS`), or none.

:func:`step_link` raises :class:`ValueError` with a sentence when the settings are not a valid
link of their page: the lessons' test opens every step, so a bad step fails there, not for a student.
No Streamlit calls here (the page modules' readers are plain functions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from app.arithmetic.config import ArithmeticConfig, config_from_example
from app.inside import link as inside_link
from app.kernel_lab.model import KernelLabConfig
from app.training import link as training_link
from cnn_core import models
from cnn_core.lessons import Step
from cnn_core.training.experiments import EXPERIMENTS
from cnn_core.worked_examples import EXAMPLES

PAGES = {  # a step's page -> (its title in the navigation, its script)
    "kernel_lab": ("Kernel Lab", "app_pages/kernel_lab.py"),
    "arithmetic": ("Arithmetic", "app_pages/arithmetic.py"),
    "architecture": ("Architecture", "app_pages/architecture.py"),
    "training": ("Training", "app_pages/training.py"),
    "inside": ("Inside the model", "app_pages/inside.py"),
    "experiments": ("Experiments", "app_pages/experiments.py"),
}


@dataclass(frozen=True)
class PageLink:
    """Where a step opens: the page's title and script, and its query (the page's own link)."""

    title: str
    script: str
    page: str
    query: dict[str, str]

    @property
    def path(self) -> str:
        """``/arithmetic?op=...``: the path a pushed link or a new tab opens."""
        return f"/{self.page}" + (f"?{urlencode(self.query)}" if self.query else "")


def _arithmetic(settings: Mapping[str, str]) -> dict[str, str]:
    rest = dict(settings)
    query: dict[str, str] = {}
    if "example" in rest:
        name = rest.pop("example")
        if name not in EXAMPLES:
            raise ValueError(f"There is no worked example called {name!r}.")
        query = config_from_example(EXAMPLES[name]).to_query()
    query |= rest
    cfg, problems = ArithmeticConfig.from_query(query)
    if problems:
        raise ValueError(" ".join(problems))
    return cfg.to_query()


def _kernel_lab(settings: Mapping[str, str]) -> dict[str, str]:
    cfg = KernelLabConfig.from_query(dict(settings))
    query = cfg.to_query()
    unread = {k: v for k, v in settings.items() if query.get(k) != v and str(getattr(KernelLabConfig, k, None)) != v}
    if unread:
        raise ValueError(f"The Kernel Lab cannot read the settings {unread}.")
    return query | {k: str(getattr(cfg, k)) for k in settings}  # named settings stay in the link, defaults too


def _architecture(settings: Mapping[str, str]) -> dict[str, str]:
    if "preset" in settings:
        name = settings["preset"]
        if name not in models.PRESETS:
            raise ValueError(f"There is no network called {name!r}.")
        return models.to_query(models.PRESETS[name])
    config = models.from_query(dict(settings))
    if (err := models.validate(config)) is not None:
        raise ValueError(str(err))
    return models.to_query(config)


def _training(settings: Mapping[str, str]) -> dict[str, str]:
    for key, text in settings.items():
        if key == "data":
            if text not in training_link.DATA_KEYS:
                raise ValueError(f"The Training page has no dataset {text!r}.")
        elif key == "model":
            if text not in models.PRESETS:
                raise ValueError(f"The Training page has no network {text!r}.")
        elif key in training_link.SETTINGS:
            try:
                training_link.SETTINGS[key][2](text)
            except ValueError:
                raise ValueError(f"The Training page cannot use {key}={text!r}.") from None
        else:
            raise ValueError(f"The Training page's link has no setting {key!r}.")
    return dict(settings)


def _inside(settings: Mapping[str, str]) -> dict[str, str]:
    for key, text in settings.items():
        if key == inside_link.TAB_PARAM and text not in inside_link.LABELS:
            raise ValueError(f"Inside the model has no view {text!r}.")
        if key == inside_link.IMAGE_PARAM and not (text.isdigit() or text in ("upload", "draw")):
            raise ValueError(f"Inside the model cannot open the image {text!r}.")
        if key not in (inside_link.TAB_PARAM, inside_link.IMAGE_PARAM):
            raise ValueError(f"Inside the model's link has no setting {key!r}.")
    return dict(settings)


def _experiments(settings: Mapping[str, str]) -> dict[str, str]:
    rest = dict(settings)
    chosen = rest.pop("experiment", None)
    if rest:
        raise ValueError(f"The Experiments page's link has only the setting 'experiment', not {sorted(rest)}.")
    if chosen is None:
        return {}
    if chosen not in EXPERIMENTS:
        raise ValueError(f"There is no ready-made experiment {chosen!r} (there are {', '.join(EXPERIMENTS)}).")
    return {"experiment": chosen}


_BUILDERS = {
    "kernel_lab": _kernel_lab,
    "arithmetic": _arithmetic,
    "architecture": _architecture,
    "training": _training,
    "inside": _inside,
    "experiments": _experiments,
}


def step_link(step: Step) -> PageLink:
    """The page link of ``step``; ValueError with a sentence when its settings are not a valid link."""
    title, script = PAGES[step.page]
    return PageLink(title, script, step.page, _BUILDERS[step.page](step.settings))
