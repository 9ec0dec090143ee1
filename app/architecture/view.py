"""What the Architecture page shows of a network: the summary table, the diagram's blocks, the workings.

Every number comes from :mod:`cnn_core.models` (the plan) and :mod:`cnn_core.summary` (measured on the
real module by forward hooks); this module only lays them out. What is costly to work out (the summary,
the diagram, the PyTorch code) is cached server-wide per network, keyed by its link (:func:`link_key`),
so a network loaded before, by anyone, is shown without working anything out again.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st
import torch
from pandas.io.formats.style import Styler
from PIL import Image

from app.plots.diagram import diagram_parts
from cnn_core import images, models
from cnn_core.models import ModelConfig
from cnn_core.summary import SummaryTable, param_formula, summarize


def link_key(config: ModelConfig) -> str:
    """The network's link without its name (``in=1x28x28&net=conv32-k3-relu_...``): what the caches are keyed by."""
    query = models.to_query(config)
    return "&".join(f"{k}={query[k]}" for k in sorted(query))


@st.cache_data(max_entries=64, show_spinner="Running one image through the network…")
def _summary(link: str, _config: ModelConfig) -> SummaryTable:
    try:  # on the meta device: the real modules and forward, shapes without numbers (AlexNet: 60 ms, not 3 s)
        with torch.device("meta"):
            module = models.build(_config)
        return summarize(module, _config.input_shape, device="meta")
    except (NotImplementedError, RuntimeError):  # an operation without a meta kernel: on the CPU, as before
        return summarize(models.build(_config), _config.input_shape)


def summary_of(config: ModelConfig) -> SummaryTable:
    """The summary of the real nn.Module of ``config`` (:func:`cnn_core.summary.summarize`, forward hooks),
    cached per network. The module is built on PyTorch's meta device: its parameters have shapes but no
    values and the forward pass works out every shape without computing, so even AlexNet's 61 million
    parameters cost nothing to set up; every number of the table is the same as on the CPU."""
    return _summary(link_key(config), config)


@st.cache_resource(max_entries=64, show_spinner=False)  # a str: shared as it is, never copied
def _diagram(link: str, scale: float, _plan: models.Plan) -> str:
    return "".join(part.html() for part in diagram_parts(diagram_blocks(_plan), scale=scale))


def diagram_of(plan: models.Plan, scale: float) -> str:
    """The diagram of ``plan`` as HTML for one ``st.html``: :func:`app.plots.diagram.diagram_parts`'s figure, or a
    long network's parts one under the other; made once per network and scale."""
    return _diagram(link_key(plan.config), scale, plan)


@st.cache_data(max_entries=64, show_spinner=False)
def _code(link: str, name: str, _config: ModelConfig) -> str:
    return models.to_pytorch_code(_config)


def code_of(config: ModelConfig) -> str:
    """The PyTorch code of ``config`` (:func:`cnn_core.models.to_pytorch_code`), cached per network and name."""
    return _code(link_key(config), config.name, config)


def _shape(shape: tuple[int, ...] | None, keras: bool) -> str:
    if shape is None:
        return ""
    if keras and len(shape) == 3:
        shape = (*shape[1:], shape[0])
    return " × ".join(str(v) for v in shape)


def _pair(v: tuple[int, int] | None) -> str:
    if v is None:
        return "—"
    return str(v[0]) if v[0] == v[1] else f"{v[0]}×{v[1]}"


def summary_frame(table: SummaryTable, plan: models.Plan, *, keras_shapes: bool = False) -> pd.DataFrame:
    """The table shown on the page: one row per torch module, then a totals row.

    A block (residual, inception) has a row of its own, with all its parameters and their formula, and
    then one indented row (``↳ conv1``: its name inside the block) per layer inside it; the Total row counts
    each parameter once.
    """
    owner = {name: lp for lp in plan.layers for name in lp.module_names}
    records = []
    for r in table.rows:
        top = r.name.split(".")[0]
        lp = owner.get(top)
        block = r.block_params is not None
        records.append({
            "#": lp.index + 1 if lp is not None and top == r.name else "",
            # a layer inside a block under the block's row, by its name in the block: "↳ b3x3.conv (Conv2d)"
            "Layer (type)": f"↳ {r.name[len(top) + 1 :]} ({r.type})" if top != r.name else f"{r.name} ({r.type})",
            "Output shape": _shape(r.output_shape, keras_shapes),
            "Params": r.block_params if block else r.total_params,
            "MACs": sum(q.macs for q in table.rows if q.name.startswith(f"{r.name}.")) if block else r.macs,
            "Memory (KiB)": round(r.activation_bytes / 1024, 1) if not block else None,
            "Receptive field": _pair(r.rf),
            "Jump": _pair(r.jump),
            # last: the longest, so that the receptive field and jump are not scrolled away at 1280x800
            "How the params are counted": (
                f"the rows below: {lp.formula}" if block and lp is not None else param_formula(r.terms)
            ),
        })  # fmt: skip
    records.append({
        "#": "", "Layer (type)": "Total", "Output shape": "",
        "Params": table.total_params, "MACs": table.total_macs, "Memory (KiB)": round(table.activation_bytes / 1024, 1),
        "Receptive field": "", "Jump": "", "How the params are counted": "",
    })  # fmt: skip
    return pd.DataFrame.from_records(records).astype({"#": str})


def _count(v: object) -> str:
    return "" if v is None or v != v else f"{int(v):,}"  # v != v: NaN, a block row's memory


# The table's columns in groups, one group at a time (the first by default): all nine, at a projector's size in
# the half of a 1024-pixel screen beside the sidebar, needed twice the room there was, and on a phone the table
# scrolled inside itself where a keyboard cannot scroll it. ALL_COLUMNS (None) shows them all, on a wide screen.
COLUMN_GROUPS = {
    "Shape and parameters": ["Output shape", "Params"],
    "MACs and memory": ["MACs", "Memory (KiB)"],
    "Receptive field": ["Receptive field", "Jump"],
    "How the params are counted": ["How the params are counted"],
    "All columns": None,
}
ALL_COLUMNS = "All columns"


def columns_of(frame: pd.DataFrame, group: str | None) -> pd.DataFrame:
    """``frame`` with every column (``group`` None or ``ALL_COLUMNS``), or its layer number and name and the
    group's columns."""
    wanted = COLUMN_GROUPS.get(group) if group else None
    return frame if wanted is None else frame[["#", "Layer (type)", *wanted]]


def summary_styler(frame: pd.DataFrame) -> Styler:
    """The summary as ``st.table`` draws it: counts with thousands separators, a block's missing memory blank.

    An HTML table, whose cells wrap, fits the page at every screen (``st.dataframe`` draws on a canvas that
    scrolled sideways on a projector); a fresh Styler each call, since ``st.table`` works on it in place."""
    styler = frame.style
    if counts := [c for c in ("Params", "MACs") if c in frame.columns]:
        styler = styler.format(_count, subset=counts)
    if "Memory (KiB)" in frame.columns:
        styler = styler.format(lambda v: "" if v is None or v != v else f"{v:,.1f}", subset=["Memory (KiB)"])
    return styler


def bottleneck_styler(frame: pd.DataFrame) -> Styler:
    """The bottleneck savings (:func:`bottlenecks`) for ``st.table``."""
    return frame.style.format(_count, subset=["Saved"]).format("{:.1f}", subset=["Saved (%)"])


def _branches(lp: models.LayerPlan) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """An inception module's branches, or a residual block's shortcut (none for a plain block)."""
    spec = lp.spec
    if isinstance(spec, models.InceptionSpec):
        return spec.branches(lp.in_shape)
    if isinstance(spec, models.ResidualSpec) and spec.shortcut != "plain":
        return (("1×1 projection" if spec.projects(lp.in_shape[0]) else "x", lp.out_shape),)
    return ()


def diagram_blocks(plan: models.Plan) -> list[tuple]:
    """Input plus every layer its spec draws (those that change the shape), for :func:`app.plots.diagram.architecture_diagram`:
    ``(label, kind, shape, branches)``."""
    blocks: list[tuple] = [("Input", "input", tuple(plan.config.input_shape), ())]
    for lp in plan.layers:
        if (block := lp.spec.diagram_block()) is not None:
            label, kind = block
            blocks.append((f"{lp.index + 1}. {label}", kind, lp.out_shape, _branches(lp)))
    return blocks


def bottlenecks(plan: models.Plan) -> pd.DataFrame | None:
    """What the 1x1 bottlenecks of each inception module save (None when there is none), by
    :func:`cnn_core.models.bottleneck_saving`."""
    records = []
    for lp in plan.layers:
        if isinstance(lp.spec, models.InceptionSpec) and (lp.spec.reduce3 or lp.spec.reduce5):
            b = models.bottleneck_saving(lp.spec, lp.in_shape[0])
            records.append({
                "#": str(lp.index + 1),
                "3×3 and k×k branches with the 1×1 bottlenecks": b.formula_with,
                "without them (straight from the input)": b.formula_without,
                "Saved": b.saved,
                "Saved (%)": round(100 * b.saved / b.without_reduce, 1) if b.without_reduce else 0.0,
            })  # fmt: skip
    return pd.DataFrame.from_records(records) if records else None


def metrics(table: SummaryTable) -> list[tuple[str, str, str]]:
    """The page's five metrics of ``table``: (label, value, help)."""
    return [
        ("Parameters", f"{table.total_params:,}", "Numbers learned by gradient descent."),
        ("MACs (one image)", count_text(table.total_macs), f"{table.total_macs:,} multiply-accumulates of "
         "convolutions and dense layers (M: million, G: billion)."),
        ("FLOPs (one image)", count_text(table.total_flops),
         f"{table.total_flops:,} = 2 × MACs: each multiply-accumulate is a multiply and an add."),
        ("Feature-map memory", memory_text(table.activation_bytes), "All outputs of one image, float32."),
        ("Weight memory", memory_text(table.param_bytes), "Parameters × 4 bytes (float32)."),
    ]  # fmt: skip


def count_text(n: int) -> str:
    """Large counts short enough for a metric: 2,794,240 -> "2.79 M", 1,135,256,032 -> "1.14 G"."""
    for unit, size in (("G", 10**9), ("M", 10**6)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:,}"


def memory_text(n_bytes: int) -> str:
    """Bytes as KiB / MiB / GiB."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} B"


def shape_workings(plan: models.Plan) -> list[str]:
    """The output-height formula of every convolution and pooling layer, with its numbers."""
    return [
        f"Layer {lp.index + 1} ({models.describe_layer(lp.spec)}): {lp.working.formula()}"
        for lp in plan.layers
        if lp.working is not None
    ]


HOW_COMPUTED = (  # the page's "How each number is computed"
    "- **Output shape.** For a convolution or pooling layer each side is "
    "`floor((n + 2p − d(k − 1) − 1) / s) + 1` (input n, padding p, dilation d, kernel k, stride s); "
    "the channels are the number of filters (convolution) or unchanged (pooling). Keras' `same` padding "
    "chooses p so that the output is `ceil(n / s)`.\n"
    "- **Params.** A convolution learns C_in·kh·kw weights per filter plus one bias: (C_in·kh·kw + 1)·C_out. "
    "A dense layer learns one weight per input per unit plus one bias per unit: (inputs + 1)·units. "
    "Pooling, Flatten, Dropout and activations learn nothing.\n"
    "- **MACs.** Each output value of a convolution is one dot product of C_in·kh·kw multiply-adds, so "
    "C_in·kh·kw·C_out·H_out·W_out in all; a dense layer needs inputs·units.\n"
    "- **Output memory.** Values in the output × 4 bytes (float32), for one image; training keeps them "
    "all for the backward pass, for every image in the batch.\n"
    "- **Receptive field and jump.** The receptive field is how many input pixels (per side) one output cell "
    "depends on; the jump is how far apart, in input pixels, two neighbouring cells are. Through a layer "
    "with kernel k, dilation d and stride s: RF_out = RF_in + d(k − 1)·jump_in and jump_out = jump_in·s.\n"
    "- **Blocks.** A residual block's two 3×3 convolutions (the first with stride s) see a window of 3 + 2s; "
    "its shortcut adds x, or a 1×1 convolution of x when the shape changes. An inception module sees as far "
    "as its widest branch; its output channels are the sum of its branches'. A block's row counts every "
    "parameter inside it; the rows marked ↳ below it show where they are."
)


PICTURE = "Chelsea the cat"  # the bundled photo the receptive fields are drawn on


@st.cache_data(max_entries=8, show_spinner=False)
def picture(height: int, width: int, gray: bool) -> np.ndarray:
    """The bundled photo at the network's input size, (H, W, 3) uint8 (gray repeated for a 1-channel input)."""
    img = Image.open(io.BytesIO(images.sample_bytes(PICTURE))).convert("L" if gray else "RGB")
    img = np.asarray(img.resize((width, height), Image.Resampling.LANCZOS))
    return np.repeat(img[..., None], 3, axis=2) if gray else img


def receptive_fields(plan: models.Plan) -> tuple[np.ndarray, list[tuple[str, int, int, int, int]]]:
    """The picture and, for every layer whose output is a map, the pixels the unit at its centre sees
    (:func:`cnn_core.models.unit_region`), for :func:`app.plots.diagram.receptive_field_picture`."""
    c, h, w = plan.config.input_shape
    boxes = []
    for lp in plan.layers:
        if lp.rf is None or len(lp.out_shape) != 3 or lp.window == models.Window():
            continue  # flat, or element-wise (the same field as the layer before)
        _, oh, ow = lp.out_shape
        r = models.unit_region(plan, lp.index, oh // 2, ow // 2)
        top, bottom, left, right = r.clipped(h, w)
        label = f"{lp.index + 1}. {lp.spec.describe().split(' ')[0]}: {r.rf}×{r.rf}"
        boxes.append((label, top, bottom, left, right))
    return picture(h, w, c == 1), boxes
