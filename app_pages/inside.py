"""Inside the model: feature maps, learned kernels, snapshots, confusion matrix, mistakes, saliency, prediction."""

import streamlit as st

from app import inside, state

st.title("Inside the model")
st.write(
    "Your own network, opened up: what each layer makes of an image, the kernels training found, where the model "
    "gets confused, which pixels decided its answer, and what it says about a digit you draw."
)

bundle = st.session_state.get(state.TR_BUNDLE)
if bundle is None or inside.demo_pending():  # no model yet, or the quick demo is still training it
    inside.no_model_panel()
    st.stop()

view = inside.current_view(bundle)
inside.status(view)
with st.container(border=True):
    chosen = inside.image_picker(view)

SECTIONS = {
    "Feature maps": lambda: inside.feature_maps_section(view, chosen),
    "Learned kernels": lambda: inside.kernels_section(view),
    "Over time": lambda: inside.snapshots_section(view),
    "Confusion matrix": lambda: inside.confusion_section(view),
    "Mistakes": lambda: inside.mistakes_section(view),
    "Saliency & Grad-CAM": lambda: inside.saliency_section(view, chosen),
    "Predict": lambda: inside.predict_section(view, chosen),
}
tabs = st.tabs(list(SECTIONS), key="in_tab", on_change="rerun")
for tab, draw in zip(tabs, SECTIONS.values(), strict=True):
    if tab.open:  # only the open tab is computed
        with tab:
            draw()
