"""Kernel Lab: apply a kernel to a photo and see the single dot product behind any output pixel."""

import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from app import kernel_lab as kl
from app import plots
from cnn_core import geometry, images, kernels, pixel

st.title("Kernel Lab")
st.write(
    "A **kernel** is a small grid of weights. Sliding it over a picture and taking, at every position, "
    "the sum of *pixel × weight* gives a new picture: a **feature map**. Pick a photo and a kernel, "
    "then click any pixel to see the sum that made it."
)
kl.seed_widgets_from_url()

left, right = st.columns(2, gap="large")
with left:
    st.subheader("1. Photo")
    data, label = kl.image_source_widget()
    color = st.radio(
        "Channels",
        ["gray", "rgb"],
        horizontal=True,
        key="kl_color",
        format_func={"gray": "Grayscale", "rgb": "RGB, each channel separately"}.get,
    )
    try:
        loaded = kl.decode(data, color)
    except images.ImageError as err:
        st.error(f"{label}: {err} Showing the sample photo instead.", icon=":material/broken_image:")
        data, label = images.sample_bytes(st.session_state["kl_sample"]), st.session_state["kl_sample"]
        loaded = kl.decode(data, color)
    for note in loaded.notes:
        st.info(note, icon=":material/info:")
with right:
    st.subheader("2. Kernel")
    preset_name = st.selectbox("Kernel", [*kernels.PRESETS, kl.CUSTOM], key="kl_preset")
    partner = None
    if preset_name == kl.CUSTOM:
        kernel = kl.custom_kernel_widget()
    else:
        preset = kernels.PRESETS[preset_name]
        kernel, partner = preset.kernel, preset.partner
        st.write(preset.description)
        if partner is None:
            st.plotly_chart(kl.kernel_figure(kl.as_key(kernel)), key="kl_kernel_fig", config={"displayModeBar": False})
        else:
            a, b = st.columns(2)
            a.plotly_chart(kl.kernel_figure(kl.as_key(kernel), "Sobel x"), config={"displayModeBar": False})
            b.plotly_chart(kl.kernel_figure(kl.as_key(partner), "Sobel y"), config={"displayModeBar": False})

st.subheader("3. Stride, padding and dilation")
c = st.columns(5)
stride = c[0].number_input("Stride", 1, 8, key="kl_stride", help="How many pixels the kernel moves between outputs.")
padding_kind = c[1].selectbox(
    "Padding",
    kl.PADDING_CHOICES,
    key="kl_padding",
    help="same: output as large as the input (at stride 1); valid: no padding.",
)
custom_pad = c[2].number_input(
    "Padding cells per side", 0, 10, key="kl_custom_padding", disabled=padding_kind != "custom"
)
padding_mode = c[3].selectbox(
    "Padding holds",
    kl.PADDING_MODES,
    key="kl_padding_mode",
    help="zeros: black border; reflect: mirror the image; replicate: repeat the edge pixel.",
)
dilation = c[4].number_input(
    "Dilation", 1, 5, key="kl_dilation", help="Spread the kernel's taps this many pixels apart."
)
cfg = kl.KernelLabConfig(
    sample=st.session_state["kl_sample"],
    preset=preset_name,
    color=color,
    stride=int(stride),
    padding=padding_kind,
    custom_padding=int(custom_pad),
    padding_mode=padding_mode,
    dilation=int(dilation),
    display=st.session_state.get("kl_display", "auto"),
)
kl.publish_to_url(cfg)

work = kl.working_copy(data, color)
h, w = work.shape[:2]
try:
    sizes = [
        geometry.explain_output_size(
            n,
            k,
            stride=cfg.stride,
            dilation=cfg.dilation,
            padding=geometry.resolve_padding(cfg.padding_spec, n, k, stride=cfg.stride, dilation=cfg.dilation),
        )
        for n, k in zip((h, w), kernel.shape, strict=True)
    ]
    spec = kl.FilterSpec.of(kernel, partner, cfg)
    out = kl.filtered(data, color, spec)
except ValueError as err:
    st.error(str(err), icon=":material/block:")
    st.stop()

with st.expander(f"Output size: {h} x {w} in, {out.shape[0]} x {out.shape[1]} out", expanded=True):
    st.markdown("Output size = floor((n + padding before + padding after − dilation·(k − 1) − 1) / stride) + 1")
    for axis, work_ in zip(("Height", "Width"), sizes, strict=True):
        st.code(f"{axis}: {work_.formula()}", language=None)
        if work_.dropped:
            st.caption(
                f"{axis}: the last {work_.dropped} padded cell(s) are never covered by a window and are dropped."
            )

st.subheader("4. Input and feature map")
auto = kl.auto_display(kernel, color, magnitude=partner is not None)
display = st.radio(
    "Show output values as",
    list(kl.DISPLAY_CHOICES),
    horizontal=True,
    key="kl_display",
    format_func=lambda d: kl.DISPLAY_CHOICES[d] + (f" ({kl.DISPLAY_CHOICES[auto].lower()})" if d == "auto" else ""),
)
shown = auto if display == "auto" else display
st.caption(
    kl.DISPLAY_WHY[shown]
    + (" Signed colours need grayscale, so RGB shows absolute values." if shown == "signed" and color == "rgb" else "")
)
kl.follow_click(st.session_state.get("kl_click"), (h, w), out.shape[:2], kernel.shape, cfg)
channels = ["R", "G", "B"] if work.ndim == 3 else ["gray"]
ch = st.session_state.get("kl_channel", channels[0]) if len(channels) > 1 else "gray"
plane = work[..., channels.index(ch)] if work.ndim == 3 else work
pw = pixel.explain_pixel(
    plane * 255,
    kernel,
    (st.session_state["kl_row"], st.session_state["kl_col"]),
    stride=cfg.stride,
    padding=cfg.padding_spec,
    padding_mode=cfg.padding_mode,
    dilation=cfg.dilation,
)
scale = min(1.0, kl.DISPLAY_SIDE / max(h, w))  # both pictures drawn at this many screen pixels per pixel
a, b = st.columns(2)
with a:
    st.caption(f"Input ({h} x {w} working copy of {label}). Click a pixel: the orange box is the kernel's window.")
    picture = kl.input_picture(data, color, pw.rows, pw.cols)
    streamlit_image_coordinates(
        picture,
        image_format=picture.format,
        width=max(1, round(w * scale)),
        height=max(1, round(h * scale)),
        key="kl_click",
        cursor="crosshair",
    )
with b:
    st.caption(f"Feature map ({out.shape[0]} x {out.shape[1]}, same scale)")
    shown_width = max(1, round(out.shape[1] * scale))
    st.image(
        kl.feature_map_png(data, color, spec, shown, shown_width),
        width=shown_width,
    )

st.subheader("5. The dot product behind one pixel")
i1, i2, i3 = st.columns(3)
i1.number_input("Output row", 0, out.shape[0] - 1, key="kl_row")
i2.number_input("Output column", 0, out.shape[1] - 1, key="kl_col")
if len(channels) > 1:
    i3.selectbox("Channel", channels, key="kl_channel")
row, col = pw.out_index
cols3 = st.columns([3, 3, 3])
cols3[0].plotly_chart(
    plots.matrix_heatmap(pw.window, title="Neighbourhood (0–255)", hatched=pw.is_padding, pixels=True),
    config={"displayModeBar": False},
    key="kl_win",
)
cols3[1].plotly_chart(kl.kernel_figure(kl.as_key(kernel), "× Kernel"), config={"displayModeBar": False}, key="kl_k2")
cols3[2].plotly_chart(
    plots.matrix_heatmap(pw.products, title="= Products", hatched=pw.is_padding),
    config={"displayModeBar": False},
    key="kl_prod",
)
terms = " + ".join(f"{v:.4g}×{k_:.4g}" for v, k_ in zip(pw.window.ravel(), kernel.ravel(), strict=True))
st.markdown(
    f"**Sum** of the products = **{pw.total:.4g}**" + (" (crossed cells are padding)" if pw.is_padding.any() else "")
)
with st.expander("The whole sum written out"):
    st.code(f"{terms}\n= {pw.total:.6g}", language=None, wrap_lines=True)
if partner is not None:
    st.caption("Sobel magnitude combines this sum with the Sobel y sum as sqrt(x² + y²).")
elif out.ndim == 2 or len(channels) > 1:
    shown_value = float((out[..., channels.index(ch)] if out.ndim == 3 else out)[int(row), int(col)]) * 255
    st.caption(f"Feature map value at ({int(row)}, {int(col)}): {shown_value:.4g} on the 0–255 scale.")

st.download_button(
    "Download the full-resolution feature map (PNG)",
    lambda: kl.full_resolution_png(data, color, spec, shown),
    file_name="feature_map.png",
    mime="image/png",
    icon=":material/download:",
)
