"""Kernel Lab: apply a kernel to a photo and see the single dot product behind any output pixel."""

import streamlit as st

from app import kernel_lab as kl
from app import state
from cnn_core import images, kernels

st.title("Kernel Lab")
st.write(
    "A **kernel** is a small grid of weights. Sliding it over a picture and taking, at every position, "
    "the sum of *pixel × weight* gives a new picture: a **feature map**. Pick a photo and a kernel, "
    "then click any pixel to see the sum that made it."
)
kl.seed_widgets_from_url()
for problem in st.session_state.pop(state.KL_LINK_ERRORS, []):
    st.warning(problem, icon=":material/link_off:")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("1. Photo")
    data, label = kl.image_source_widget()
    color = kl.channels_widget()
    try:
        loaded = kl.decode(data, color)
    except images.ImageError as err:
        st.error(f"{label}: {err} Showing the sample photo instead.", icon=":material/broken_image:")
        data, label = kl.sample_fallback()
        loaded = kl.decode(data, color)
    for note in loaded.notes:
        st.info(note, icon=":material/info:")
with right:
    st.subheader("2. Kernel")
    preset_name = st.selectbox("Kernel", [*kernels.PRESETS, kl.CUSTOM], key=state.KL_PRESET)
    if preset_name == kl.CUSTOM:
        kernel, partner = kl.custom_kernel_widget(), None
        kl.keep_kernel()
    else:
        if st.session_state.get(state.KL_KERNEL_RESTORED):
            st.caption(f"Your custom kernel is kept: choose *{kl.CUSTOM}* to use it.")
        preset = kernels.PRESETS[preset_name]
        kernel, partner = preset.kernel, preset.partner
        kl.preset_panel(preset)

st.subheader("3. Stride, padding and dilation")
cfg = kl.settings_widgets(preset_name, color)
kl.publish_to_url(cfg)

work = kl.working_copy(data, color)
try:
    sizes = cfg.output_sizes(work.shape, kernel.shape)
    spec = kl.FilterSpec.of(kernel, partner, cfg)
    out = kl.filtered(data, color, spec)
except ValueError as err:
    st.error(str(err), icon=":material/block:")
    st.stop()
kl.output_size_panel(work.shape, out.shape, sizes)

st.subheader("4. Input and feature map")
shown = kl.display_widget(kernels.auto_display(kernel, color, magnitude=partner is not None))
kl.display_caption(shown, color)
kl.follow_click(work.shape[:2], out.shape[:2], kernel.shape, cfg)
kl.publish_pixel(out.shape)
pw, channel = kl.inspected_pixel(work, kernel, cfg)
kl.pictures_panel(data, label, color, out.shape, spec, shown, pw)

st.subheader("5. The dot product behind one pixel")
kl.inspector_widgets(out.shape, kl.channel_names(work))
kl.dot_product_panel(pw, kernel, out, channel, magnitude=partner is not None)
kl.download_button(data, color, spec, shown)
