"""Plot builders: one pure function per figure, each returning a plotly ``Figure``; no ``st.*`` here.

Colours come from colour-blind-safe palettes (Okabe-Ito for categories, cividis / a
blue-orange diverging scale for values; defined once in :mod:`app.pictures`, which draws the
still pictures in the same scales), and no figure relies on colour alone: values are also
written in the cells or shown on hover.

Modules: ``grids`` (a small matrix, and the Arithmetic page's grid with :class:`GridMarks`),
``diagram`` (the architecture figure), ``curves`` (a 1-D series, training curves),
``inside`` (the figures of "Inside the model") and ``experiments`` (runs overlaid, an experiment's
gap, the batch-norm and dropout explainers). Everything callers use is re-exported here.
"""

from __future__ import annotations

from app.pictures import DIVERGING, OKABE_ITO, SEQUENTIAL
from app.plots.curves import series_plot, training_curves
from app.plots.diagram import architecture_diagram
from app.plots.experiments import arm_curves, batch_norm_bars, dropout_strip, gap_bars, runs_overlay
from app.plots.grids import (
    AR_DROP_COLOUR,
    AR_PAD_FILL,
    NO_MARKS,
    GridMarks,
    arithmetic_grid,
    cell_text,
    grid,
    matrix_heatmap,
)
from app.plots.inside import accuracy_over_time, confusion_heatmap, probability_bars, tiled_maps

__all__ = [
    "AR_DROP_COLOUR",
    "AR_PAD_FILL",
    "DIVERGING",
    "NO_MARKS",
    "OKABE_ITO",
    "SEQUENTIAL",
    "GridMarks",
    "accuracy_over_time",
    "arm_curves",
    "architecture_diagram",
    "arithmetic_grid",
    "batch_norm_bars",
    "cell_text",
    "confusion_heatmap",
    "dropout_strip",
    "gap_bars",
    "grid",
    "matrix_heatmap",
    "probability_bars",
    "runs_overlay",
    "series_plot",
    "tiled_maps",
    "training_curves",
]
