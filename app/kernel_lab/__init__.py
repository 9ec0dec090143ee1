"""The Kernel Lab's glue, one module per idea; the page (``app_pages/kernel_lab.py``) is a thin
script over them, and every number it shows comes from :mod:`cnn_core`.

- :mod:`~app.kernel_lab.model`: the typed settings (and their link), the filter spec, the choices;
- :mod:`~app.kernel_lab.caches`: decoded photos, filter outputs and encoded pictures, shared read-only;
- :mod:`~app.kernel_lab.widgets`: the widgets that build the settings, the custom kernel editor;
- :mod:`~app.kernel_lab.saved`: the custom kernel kept in the workspace, the kernel and pixel in the
  link, what the instructor allows;
- :mod:`~app.kernel_lab.view`: the panels that draw a kernel, the sizes, the pictures, one dot product;
- :mod:`app.html_grids` (shared with Inside): the small grids (kernel, neighbourhood, products) as HTML tables.
"""

from app.kernel_lab.caches import (
    EncodedPicture,
    decode,
    digest,
    feature_map_picture,
    feature_map_png,
    filtered,
    full_resolution_png,
    input_picture,
    mark_window,
    working_copy,
)
from app.kernel_lab.model import (
    CUSTOM,
    DISPLAY_CHOICES,
    DISPLAY_WHY,
    PADDING_CHOICES,
    PADDING_MODES,
    WORKING_SIDE,
    FilterSpec,
    KernelLabConfig,
    as_key,
    picture_layout,
)
from app.kernel_lab.saved import class_settings, keep_kernel, publish_pixel
from app.kernel_lab.view import (
    display_caption,
    dot_product_panel,
    download_button,
    kernel_and_size_boxes,
    output_size_panel,
    pictures_panel,
    preset_panel,
)
from app.kernel_lab.widgets import (
    channel_names,
    channels_widget,
    custom_kernel_widget,
    display_widget,
    displayed,
    follow_click,
    image_source_widget,
    inspected_pixel,
    inspector_widgets,
    kernel_grid_frame,
    publish_to_url,
    sample_fallback,
    seed_widgets_from_url,
    settings_from_state,
    settings_widgets,
)

__all__ = [
    "CUSTOM",
    "DISPLAY_CHOICES",
    "DISPLAY_WHY",
    "PADDING_CHOICES",
    "PADDING_MODES",
    "WORKING_SIDE",
    "EncodedPicture",
    "FilterSpec",
    "KernelLabConfig",
    "as_key",
    "picture_layout",
    "channel_names",
    "class_settings",
    "channels_widget",
    "custom_kernel_widget",
    "decode",
    "digest",
    "display_caption",
    "display_widget",
    "displayed",
    "dot_product_panel",
    "download_button",
    "feature_map_picture",
    "feature_map_png",
    "filtered",
    "follow_click",
    "full_resolution_png",
    "image_source_widget",
    "input_picture",
    "inspected_pixel",
    "inspector_widgets",
    "keep_kernel",
    "kernel_and_size_boxes",
    "kernel_grid_frame",
    "mark_window",
    "output_size_panel",
    "pictures_panel",
    "preset_panel",
    "publish_pixel",
    "publish_to_url",
    "sample_fallback",
    "seed_widgets_from_url",
    "settings_from_state",
    "settings_widgets",
    "working_copy",
]
