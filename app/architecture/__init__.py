"""Architecture page glue: the page's model (the edited stack and its link), the editor, the results.

* :mod:`app.architecture.model`: the stack in the session, the preset and link it came from, the
  editor's callbacks and the config it describes;
* :mod:`app.architecture.saved`: the network kept in the learner's workspace;
* :mod:`app.architecture.editor`: the layer rows, drawn in the browser from the specs' field settings;
* :mod:`app.architecture.widgets`: adding a layer, naming the network;
* :mod:`app.architecture.view`: the summary table, the diagram's blocks and the shape workings.

Every number shown comes from :mod:`cnn_core.models` and :mod:`cnn_core.summary`.
"""

from __future__ import annotations

from app.architecture.editor import layer_editor, shown
from app.architecture.model import (
    DEFAULTS,
    TYPES,
    current_config,
    init_state,
    load,
    load_preset,
    publish_to_url,
    type_of,
)
from app.architecture.saved import keep_network, saved_network
from app.architecture.view import (
    COLUMN_GROUPS,
    HOW_COMPUTED,
    bottleneck_styler,
    bottlenecks,
    code_of,
    columns_of,
    count_text,
    diagram_blocks,
    diagram_of,
    link_key,
    memory_text,
    metrics,
    receptive_fields,
    shape_workings,
    summary_frame,
    summary_of,
    summary_styler,
)
from app.architecture.widgets import add_controls, name_widget

__all__ = [
    "COLUMN_GROUPS",
    "HOW_COMPUTED",
    "bottleneck_styler",
    "bottlenecks",
    "code_of",
    "columns_of",
    "DEFAULTS",
    "TYPES",
    "count_text",
    "current_config",
    "diagram_blocks",
    "diagram_of",
    "init_state",
    "keep_network",
    "layer_editor",
    "add_controls",
    "shown",
    "link_key",
    "load",
    "load_preset",
    "memory_text",
    "metrics",
    "name_widget",
    "publish_to_url",
    "receptive_fields",
    "saved_network",
    "shape_workings",
    "summary_frame",
    "summary_of",
    "summary_styler",
    "type_of",
]
