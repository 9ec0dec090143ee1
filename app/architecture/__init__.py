"""Architecture page glue: the page's model (the edited stack and its link), the editor, the results.

* :mod:`app.architecture.model`: the stack in the session, the preset and link it came from, the
  editor's callbacks and the config it describes;
* :mod:`app.architecture.widgets`: one row of widgets per layer, drawn from the specs' field settings;
* :mod:`app.architecture.view`: the summary table, the diagram's blocks and the shape workings.

Every number shown comes from :mod:`cnn_core.models` and :mod:`cnn_core.summary`.
"""

from __future__ import annotations

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
from app.architecture.view import (
    count_text,
    diagram_blocks,
    memory_text,
    shape_workings,
    summary_frame,
    summary_of,
)
from app.architecture.widgets import layer_editor, layer_row

__all__ = [
    "DEFAULTS",
    "TYPES",
    "count_text",
    "current_config",
    "diagram_blocks",
    "init_state",
    "layer_editor",
    "layer_row",
    "load",
    "load_preset",
    "memory_text",
    "publish_to_url",
    "shape_workings",
    "summary_frame",
    "summary_of",
    "type_of",
]
