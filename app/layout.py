"""Page furniture shared by every page: the learning path, which pages the class sees, and the
sidebar (the classroom box with the instructor's banner, link and poll, the presentation mode, the
session's training status, the "Your workspace" panel)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import streamlit as st

from app import state
from app.workspace import identity
from app.workspace.classroom import ClassSettings

PATH = [
    ("Lessons", "app_pages/lessons.py", "Guided walks through the course: predict first, then see the answer."),
    ("Kernel Lab", "app_pages/kernel_lab.py", "Pixels and kernels: what one convolution does to a photo."),
    ("Arithmetic", "app_pages/arithmetic.py", "Convolution and pooling, cell by cell, with the output-size formula."),
    ("Architecture", "app_pages/architecture.py", "Stack layers; read shapes, parameters and receptive fields."),
    ("Training", "app_pages/training.py", "Train a small CNN live and watch it learn."),
    (
        "Experiments",
        "app_pages/experiments.py",
        "Compare runs: residual or plain, dropout, augmentation, learning rates.",
    ),
    ("Inside the model", "app_pages/inside.py", "Feature maps, learned kernels, mistakes and saliency."),
]
HOME = "Home"
INSTRUCTOR = "Instructor"  # the console at /instructor: never in the students' navigation
ALL_PAGES = (HOME, *(title for title, _, _ in PATH))  # the pages a student can be shown
# The browser tab's icon, bundled, as a data address made once (a path made Streamlit read and register the file
# again on every run).
ICON = (
    "data:image/png;base64,"
    + base64.b64encode((Path(__file__).parents[1] / "assets" / "icon.png").read_bytes()).decode()
)
HIDDEN_PAGE = "The instructor has hidden this page for now. Pick another page in the sidebar."

# Always: words wrap between words, never inside one (a narrow column breaks "Filters" into "F/il/t/e/r/s"
# only because Streamlit lets labels break anywhere), button labels wrap instead of ending in "S…", and
# captions are dark enough to read (Streamlit's faded grey is under the 4.5:1 contrast of WCAG AA).
BASE_CSS = """
<style>
.stApp button p, .stApp [role="tab"] p, .stApp label p, .stApp th, .stApp [data-testid="stMetricLabel"] p,
.stApp [data-testid="stPageLink"] p, .stApp [data-testid="stCaptionContainer"], .stApp h1, .stApp h2, .stApp h3,
.stApp h4, .stApp [data-testid="stMarkdownContainer"] p, .stApp li {
  overflow-wrap: normal; word-break: normal; hyphens: manual;
}
.stApp [data-testid="stMain"] button .stMarkdownEllipsis, .stApp [data-testid="stSidebar"] button .stMarkdownEllipsis,
.stApp [data-testid="stPageLink"] .stMarkdownEllipsis, .stApp [data-testid="stWidgetLabel"] .stMarkdownEllipsis,
.stApp [role="tab"] .stMarkdownEllipsis {
  white-space: normal; text-overflow: clip; overflow: visible;
}
.stApp button .stMarkdownEllipsis p, .stApp [data-testid="stPageLink"] .stMarkdownEllipsis p,
.stApp [data-testid="stWidgetLabel"] .stMarkdownEllipsis p { white-space: normal; }
.stApp [data-testid="stMain"] button, .stApp [data-testid="stSidebar"] button { height: auto; }
.stApp [data-testid="stCaptionContainer"] { opacity: 1; color: rgba(47, 45, 43, 0.8); }
/* Metrics in narrow columns: the label wraps, the value wraps between words and shrinks with its box. */
.stApp [data-testid="stMetric"] { container-type: inline-size; }
.stApp [data-testid="stMetricLabel"], .stApp [data-testid="stMetricLabel"] * {
  white-space: normal; overflow: visible; text-overflow: clip;
}
.stApp [data-testid="stMetricValue"], .stApp [data-testid="stMetricValue"] * {
  white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: normal;
}
.stApp [data-testid="stMetricValue"] { font-size: min(2.25rem, 20cqi); }
/* A button's keyboard shortcut ("End") as dark as the button's own text. */
.stApp button kbd { color: inherit; opacity: 1; }
/* Code wraps instead of scrolling sideways: no scrolled-away text on a phone, and nothing a keyboard cannot reach. */
.stApp [data-testid="stCode"] pre, .stApp [data-testid="stCode"] code { white-space: pre-wrap !important; overflow-x: visible; }
"""
BASE_CSS += (  # the instructor's banner over the page's title (in_class.page_banner): only while the sidebar is folded
    f'.stApp:has([data-testid="stSidebar"][data-collapsed="false"]) .st-key-{state.CL_PAGE_BANNER} {{ display: none; }}\n'
    # ... and while it is folded, that copy says what a classroom toast would, so no toast covers it (on a phone one
    # sat over the poll's question for seconds). The toasts are drawn outside .stApp.
    'body:has([data-testid="stSidebar"][data-collapsed="true"]) [data-testid="stToastContainer"] { display: none; }\n'
    # the element that writes the workspace cookie draws nothing: without this it left an empty gap over the title
    f'.stApp [data-testid="stElementContainer"]:has(.{identity.COOKIE_MARK}) {{ display: none; }}\n'
    "</style>\n"
)

# Larger type for a projector: body text, widgets, tables, code, captions and metrics all grow together
# (Streamlit sizes them in rem); charts grow through :func:`chart` (their numbers, ticks and titles).
PRESENTATION_CSS = """
<style>
html, .stApp { font-size: 20px; }
.stApp [data-testid="stMarkdownContainer"] p, .stApp li, .stApp label, .stApp code { font-size: 1.15rem; }
.stApp [data-testid="stCaptionContainer"], .stApp [data-testid="stCaptionContainer"] p { font-size: 1rem; }
.stApp [data-testid="stMetricValue"] { font-size: min(2.4rem, 20cqi); }
.stApp h1 { font-size: 3rem; } .stApp h2, .stApp h3 { font-size: 2rem; }
/* Streamlit's page margins are in rem, so the larger type made them 100 px a side and 120 px on top: at 1024x768
   with the sidebar open that left the page 524 px. The projector's page keeps 32 px a side and clears the header. */
.stApp [data-testid="stMainBlockContainer"] { padding-left: 32px; padding-right: 32px; padding-top: 4.5rem; }
</style>
"""
PROJECTOR_SCALE = 1.5  # chart text in presentation mode: 12 px ticks become 18 px, 14 px grid numbers 21 px

# No toolbar by default: plotly's floats over the figure's top right corner, where it covered titles, colour
# bars and the labels on bars. A chart a learner zooms into asks for one (``toolbar=True``): it then shows only
# while the pointer is on the chart, and the figure keeps a strip free for it at the top (its builder's margin).
CHART_CONFIG = {"displayModeBar": False}
TOOLBAR_CONFIG = {"displayModeBar": "hover", "displaylogo": False}


def url_path(title: str) -> str:
    """The page's path in the address bar: "" for Home, else its script's name (``kernel_lab``)."""
    if title == HOME:
        return ""
    return next(Path(file).stem for name, file, _ in PATH if name == title)


def shown(title: str, settings: ClassSettings) -> bool:
    """Whether students see a page: Home and the console's own page always; the rest as the instructor set."""
    return title in (HOME, INSTRUCTOR) or title in settings.pages


def presentation_default() -> bool:
    """Instructors can start every session in presentation mode with CONVLAB_PRESENTATION=1."""
    return os.environ.get("CONVLAB_PRESENTATION", "0").lower() in ("1", "true", "yes", "on")


def presenting() -> bool:
    """Whether this session is in presentation mode (the sidebar's toggle, drawn before the page)."""
    return bool(st.session_state.get(state.PRESENTATION, presentation_default()))


PREFERENCES = "preferences"  # the workspace item kind of what the sidebar keeps: presentation mode


def remembered_presentation() -> None:
    """A new session (a reload, a pasted link, a second tab, a restart) starts in the presentation mode this
    workspace last chose, else the server's default: a projector's page stays large after a reload."""
    if state.PRESENTATION not in st.session_state:
        kept = identity.with_store(lambda s, ws: s.get_item(ws, PREFERENCES, state.PRESENTATION), None)
        st.session_state[state.PRESENTATION] = kept if isinstance(kept, bool) else presentation_default()


def keep_presentation() -> None:
    """The toggle's callback: keep the choice in the workspace."""
    on = bool(st.session_state.get(state.PRESENTATION))
    identity.with_store(lambda s, ws: s.put_item(ws, PREFERENCES, state.PRESENTATION, on), None)


TABLE_LABEL = "Numbers as a table"  # the expander under every chart (issue #13: a screen reader reads a table)


def chart(fig, *, toolbar: bool = False, table=None, name: str | None = None, **kwargs):
    """``st.plotly_chart`` without a toolbar (or one shown on hover, ``toolbar=True``) and, in presentation
    mode, every text of the figure :data:`PROJECTOR_SCALE` times larger (:func:`app.plots.for_projector`, on
    a copy: cached figures are shared). ``config`` given by the caller is applied on top. Returns what
    ``st.plotly_chart`` returns (a selection with ``on_select``).

    Under the chart, a collapsed expander :data:`TABLE_LABEL` holds the chart's numbers as an HTML table
    (``st.table``: a screen reader reads it cell by cell, a keyboard opens it with Enter), captioned with
    the chart's ``name`` (default: :func:`app.plots.table.chart_name`). ``table`` is what it shows: None,
    the figure's own numbers (:func:`app.plots.table.figure_table`); a DataFrame or a sentence of the
    caller's; False, no expander (a caller that already shows the numbers beside the chart); a picture
    (:func:`app.plots.table.is_picture`: feature maps, a photo) gets none unless given one. When the chart
    has a ``key`` the table is built only while the expander is open (``on_change="rerun"``); without a key
    it is built every run (the expander needs a key to keep its state).
    """
    from app.plots import for_projector
    from app.plots.table import is_picture

    drawn = for_projector(fig, PROJECTOR_SCALE) if presenting() else fig
    kwargs["config"] = {**(TOOLBAR_CONFIG if toolbar else CHART_CONFIG), **kwargs.get("config", {})}
    result = st.plotly_chart(drawn, **kwargs)
    if table is None and is_picture(fig):
        table = False  # feature maps, a photo: no table of their pixels (a caller may pass one, or the note)
    if table is not False:
        key = kwargs.get("key")
        box = st.expander(TABLE_LABEL, key=f"{key}_table", on_change="rerun") if key else st.expander(TABLE_LABEL)
        if box.open is not False:  # None: no state kept (no key), so always drawn
            with box:
                _numbers(fig, table, name)
    return result


def _numbers(fig, table, name: str | None) -> None:
    """The chart's numbers (or the sentence why there are none) with a caption naming the chart."""
    import pandas as pd

    from app.plots.table import chart_name, figure_table
    from cnn_core.numbers import format_number

    numbers = figure_table(fig) if table is None else table
    unit = numbers.attrs.get("values") if isinstance(numbers, pd.DataFrame) else None
    st.caption(f"The numbers of the chart “{name or chart_name(fig)}”" + (f", in {unit}." if unit else "."))
    if isinstance(numbers, pd.DataFrame):

        def cell(v) -> str:  # numbers as the charts write them; a series missing at this row: a dash
            if isinstance(v, float) and v != v:
                return "–"
            return format_number(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)

        def labels(index: pd.Index) -> pd.Index:  # written like the cells (st.table writes 0.1 as 0.1000)
            written = [cell(v) for v in index]
            return pd.Index(written if len(set(written)) == len(written) else [str(v) for v in index], name=index.name)

        shown = numbers.copy()
        shown.index, shown.columns = labels(numbers.index), labels(numbers.columns)
        st.table(shown.style.format(cell))
    else:
        st.write(str(numbers))


def sidebar(page: str = "", settings: ClassSettings | None = None) -> None:
    """The sidebar every page shares; ``page`` is the title of the page being shown, ``settings``
    the class settings it is drawn with (when they change, the classroom box reruns the page)."""
    from app.instructor.in_class import class_panel
    from app.instructor.my_workspace import workspace_panel

    workspace = identity.workspace_id()
    if settings is not None:
        st.session_state[state.CL_SETTINGS_DRAWN] = settings
    with st.sidebar:
        st.markdown(BASE_CSS, unsafe_allow_html=True)  # styles the whole page; in the sidebar it takes no room
        if page != INSTRUCTOR:
            class_panel(page or HOME, workspace)
        st.caption("ConvLab: learn convolutional neural networks by touching every step.")
        remembered_presentation()
        if st.toggle(
            "Presentation mode",
            key=state.PRESENTATION,
            on_change=keep_presentation,
            help="Large text for projecting in a classroom; kept for your next visit.",
        ):
            st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
        if page != INSTRUCTOR:
            workspace_panel(workspace)
