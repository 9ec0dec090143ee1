"""Inside the model: feature maps, learned kernels, snapshots, confusion matrix, mistakes, saliency, prediction."""

import streamlit as st

from app import inside

st.title("Inside the model")
st.write(
    "Your own network, opened up: what each layer makes of an image, the kernels training found, where the model "
    "gets confused, which pixels decided its answer, and what it says about a digit you draw."
)

bundle = inside.find_model()  # the session's model, else the workspace's running or latest kept one
inside.workspace_note()
if bundle is None or inside.demo_pending():  # no model yet, or the quick demo is still training it
    inside.no_model_panel()
    st.stop()

view = inside.current_view(bundle)
choices = inside.sources(inside.uploads_allowed())
inside.follow_link(int(bundle.data.x_test.shape[0]), choices)  # a link's tab and image, before their widgets
inside.status(view)
inside.link_note()
with st.container(border=True):
    chosen = inside.image_picker(view, choices)

inside.sections(view, chosen)  # a fragment: a tab switch reruns the tabs only, and builds the open one
