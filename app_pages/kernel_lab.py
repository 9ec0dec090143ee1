"""Kernel Lab: apply a kernel to a photo and see the single dot product behind any output pixel.

The settings column and the two pictures share the top of the page, so a change and what it does
are on one screen. The lab is one fragment: a setting, a click or an edit reruns the lab, not the
page around it (the sidebar, the navigation).
"""

import streamlit as st

from app import kernel_lab as kl
from app import state
from cnn_core import images, kernels

st.title("Kernel Lab")
st.write(
    "A **kernel** is a small grid of weights; the sum of *pixel × weight* at every position of a photo "
    "makes a new picture, a **feature map**. Click any pixel of the photo to see the sum that made it."
)
kl.seed_widgets_from_url()
for problem in st.session_state.pop(state.KL_LINK_ERRORS, []):
    st.warning(problem, icon=":material/link_off:")


@st.fragment
def lab() -> None:
    """The pictures, the settings bar under them, then the kernel, the output size and one pixel's sum.

    The feature map is sent as soon as the settings that make it are read (from session state), before the
    settings' own widgets and the panels that explain it (the kernel's grid, the output size, the dot
    product): the browser draws the map while the rest of the run goes on (issue #15).
    """
    pictures = st.container()
    kernel_bar, photo_bar = (st.container(horizontal=True, gap="small") for _ in range(2))
    below_bar = st.container()
    with kernel_bar:
        preset_name = st.selectbox("Kernel", [*kernels.PRESETS, kl.CUSTOM], key=state.KL_PRESET, width=220)
    kernel_box, size_box = kl.kernel_and_size_boxes(preset_name)
    with photo_bar:
        data, label = kl.image_source_widget(photo_bar, below_bar)
        color = kl.channels_widget()
    with below_bar:
        try:
            loaded = kl.decode(data, color)
        except images.ImageError as err:
            st.error(f"{label}: {err} Showing the sample photo instead.", icon=":material/broken_image:")
            data, label = kl.sample_fallback()
            loaded = kl.decode(data, color)
        for note in loaded.notes:
            st.info(note, icon=":material/info:")
    cfg = kl.settings_from_state(preset_name, color)  # their widgets are drawn after the pictures
    with kernel_box:
        st.subheader("The kernel")
        preset = None if preset_name == kl.CUSTOM else kernels.PRESETS[preset_name]
        if preset is None:
            kernel, partner = kl.custom_kernel_widget(), None
            kl.keep_kernel()
        else:
            kernel, partner = preset.kernel, preset.partner
    kl.publish_to_url(cfg)

    work = kl.working_copy(data, color)
    try:
        sizes = cfg.output_sizes(work.shape, kernel.shape)
        spec = kl.FilterSpec.of(kernel, partner, cfg)
        out = kl.filtered(data, color, spec)
    except ValueError as err:
        pictures.error(str(err), icon=":material/block:")
        with kernel_bar:
            kl.settings_widgets()
        if preset is not None:
            kl.preset_panel(preset, kernel_box)
        return
    shown = kl.displayed(kernels.auto_display(kernel, color, magnitude=partner is not None))
    kl.follow_click(work.shape[:2], out.shape[:2], kernel.shape, cfg)
    kl.publish_pixel(out.shape)
    pw, channel = kl.inspected_pixel(work, kernel, cfg)
    with pictures:
        kl.pictures_panel(data, label, color, out.shape, spec, shown, pw)
    with kernel_bar:
        kl.settings_widgets()
    with photo_bar:
        kl.display_widget()

    if preset is not None:
        kl.preset_panel(preset, kernel_box)
    with size_box:
        kl.output_size_panel(work.shape, out.shape, sizes)
    with below_bar:
        kl.display_caption(shown, color, automatic=st.session_state[state.KL_DISPLAY] == "auto")
    st.subheader("The dot product behind one pixel")
    kl.inspector_widgets(out.shape, kl.channel_names(work))
    kl.dot_product_panel(pw, kernel, out, channel, magnitude=partner is not None)
    kl.download_button(data, color, spec, shown)


lab()
