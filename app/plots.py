"""Plot builders: one pure function per figure, each returning a plotly ``Figure``; no ``st.*`` here.

Colours come from colour-blind-safe palettes (Okabe-Ito for categories, cividis / a
blue-orange diverging scale for values), and no figure relies on colour alone: values are
also written in the cells or shown on hover.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
DIVERGING = "RdBu"  # red-blue reads for red-green colour blindness; zero is white
SEQUENTIAL = "cividis"


def _base_layout(fig: go.Figure, *, height: int | None = None) -> go.Figure:
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), height=height)
    return fig
