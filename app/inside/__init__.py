"""Glue for "Inside the model": which model and image are looked at, and the widgets of each section.

``app_pages/inside.py`` stays thin: it asks this package for the session's model (or offers the
quick demo when there is none), for the image being looked at, and then draws one section per
tab. Every number comes from :mod:`cnn_core.inspection`, every chart from :mod:`app.plots`,
every still picture (and PNG download) from :mod:`app.pictures`; tables download as CSV, and
every plotly chart can also be saved as PNG from its toolbar (camera icon).

Modules: ``demo`` (the quick demo run and its progress), ``workspace`` (the model when the session
has none: the workspace's running job or latest kept model; the class's upload setting), ``link``
(the tab and image in the address bar), ``view`` (the cached copy of the model
and its test-set answers, the status line), ``picker`` (the image: test set, upload, drawing),
``common`` (downloads, galleries, tiled maps), ``confusion_grid`` (the clickable confusion matrix, a
Components v2 element in the page), and the sections: ``layers`` (feature maps,
learned kernels), ``results`` (over time, confusion matrix, mistakes) and ``explain``
(saliency and Grad-CAM, predict), drawn by ``tabs`` (the tabs, in a fragment).
"""

from app.inside.confusion_grid import chosen_cell
from app.inside.demo import DEMO_CONFIG, DEMO_SECONDS, DEMO_TRAIN, demo_pending, no_model_panel, train_demo
from app.inside.explain import predict_section, saliency_section
from app.inside.layers import feature_maps_section, kernels_section
from app.inside.link import TABS, follow_link, link_note, publish
from app.inside.picker import Chosen, image_picker, sources
from app.inside.results import confusion_section, mistakes_section, snapshots_section
from app.inside.tabs import SECTIONS, sections
from app.inside.view import View, current_view, status
from app.inside.workspace import find_model, uploads_allowed, workspace_note

__all__ = [
    "DEMO_CONFIG",
    "DEMO_SECONDS",
    "DEMO_TRAIN",
    "SECTIONS",
    "TABS",
    "Chosen",
    "View",
    "chosen_cell",
    "confusion_section",
    "current_view",
    "demo_pending",
    "feature_maps_section",
    "find_model",
    "follow_link",
    "image_picker",
    "kernels_section",
    "link_note",
    "mistakes_section",
    "no_model_panel",
    "predict_section",
    "publish",
    "saliency_section",
    "sections",
    "snapshots_section",
    "sources",
    "status",
    "train_demo",
    "uploads_allowed",
    "workspace_note",
]
