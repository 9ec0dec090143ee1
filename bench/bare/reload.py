"""Bare peer of a page load: a title, a sentence and one 512x512 photo, as a warm server sends them."""

import streamlit as st

from cnn_core import images

st.set_page_config(page_title="bare reload", layout="wide")
st.title("Bare page")
st.write("One photo, shown as it is.")
st.image(images.sample_bytes("Cameraman"), caption="Cameraman")
