"""The tabbed sections of "Inside the model", in a fragment: a tab switch reruns only this part.

Opening another tab (or a widget inside one: the confusion cell, the number of mistakes shown)
reruns the fragment, not the page above it (the sidebar, the status line, the image picker), and
only the open tab's section is built. What a section computes is kept per model version in the
:class:`~app.inside.view.View` (:func:`app.inside.view.remember`), so coming back to a tab costs
little more than sending it. A change above the tabs (another image, a fresh copy of the model)
reruns the whole page, and the fragment with it, with the new view and image.
"""

from __future__ import annotations

import streamlit as st

from app import state
from app.inside.explain import predict_section, saliency_section
from app.inside.layers import feature_maps_section, kernels_section
from app.inside.link import TABS, publish
from app.inside.picker import Chosen
from app.inside.results import confusion_section, mistakes_section, snapshots_section
from app.inside.view import View

SECTIONS = {  # tab label -> the section drawn in it (the labels are app.inside.link.TABS')
    "Feature maps": lambda view, chosen: feature_maps_section(view, chosen),
    "Learned kernels": lambda view, chosen: kernels_section(view),
    "Over time": lambda view, chosen: snapshots_section(view),
    "Confusion matrix": lambda view, chosen: confusion_section(view),
    "Mistakes": lambda view, chosen: mistakes_section(view),
    "Saliency & Grad-CAM": lambda view, chosen: saliency_section(view, chosen),
    "Predict": lambda view, chosen: predict_section(view, chosen),
}
assert list(SECTIONS) == list(TABS), "every tab has its word in the link"


@st.fragment
def sections(view: View, chosen: Chosen) -> None:
    """The seven tabs; only the open one's section is computed and drawn."""
    tabs = st.tabs(list(SECTIONS), key=state.IN_TAB, on_change="rerun")
    for (label, draw), tab in zip(SECTIONS.items(), tabs, strict=True):
        if tab.open:
            publish(label)  # the address bar names this tab and the image
            with tab:
                draw(view, chosen)
