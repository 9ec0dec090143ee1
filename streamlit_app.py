"""ConvLab entry point: process environment, page config, navigation over app_pages/, and the shared sidebar.

The students' navigation lists Home and the pages the instructor shows (class settings, read on
every run); the instructor console at /instructor is a hidden page, reached by its address only.
"""

import os

# Idle torch worker threads sleep instead of spin; this must be set before torch is first imported.
# With several sessions on a 2-core server, spinning OpenMP threads made training up to 10x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from app import layout, state  # noqa: E402
from app.instructor.class_settings import current  # noqa: E402
from app.instructor.in_class import page_banner  # noqa: E402
from app.workspace.classroom import ClassSettings  # noqa: E402


def pages(settings: ClassSettings) -> list:
    """Every page; those the instructor hides, and the console, are left out of the navigation.

    The session keeps the list while the same pages are visible: each ``st.Page`` resolves its script's path
    on the disk when made, about a tenth of a Kernel Lab rerun's server time with 100 students (issue #15).
    A page object changes as a run calls it, so a session's objects are its own, never shared.
    """
    visible = tuple(_in_navigation(title, settings) for title in layout.ALL_PAGES)
    kept = st.session_state.get(state.NAV_PAGES)
    if kept is not None and kept[0] == visible:
        return kept[1]
    made = _make_pages(settings)
    st.session_state[state.NAV_PAGES] = (visible, made)
    return made


def _in_navigation(title: str, settings: ClassSettings) -> bool:
    return layout.shown(title, settings) and title != layout.INSTRUCTOR


def _make_pages(settings: ClassSettings) -> list:
    def page(script: str, title: str, icon: str, **kwargs: str):  # -> what st.Page returns
        shown = "visible" if _in_navigation(title, settings) else "hidden"
        return st.Page(script, title=title, icon=icon, visibility=shown, **kwargs)

    return [
        page("app_pages/home.py", "Home", ":material/home:", default=True),
        page("app_pages/lessons.py", "Lessons", ":material/school:"),
        page("app_pages/kernel_lab.py", "Kernel Lab", ":material/filter:"),
        page("app_pages/arithmetic.py", "Arithmetic", ":material/calculate:"),
        page("app_pages/architecture.py", "Architecture", ":material/account_tree:"),
        page("app_pages/training.py", "Training", ":material/model_training:"),
        page("app_pages/experiments.py", "Experiments", ":material/compare_arrows:"),
        page("app_pages/inside.py", "Inside the model", ":material/visibility:"),
        page("app_pages/instructor.py", layout.INSTRUCTOR, ":material/co_present:", url_path="instructor"),
    ]


def main() -> None:
    """One run: the page config, the navigation, the sidebar, then the page (or why it is hidden)."""
    # The tab icon is bundled (a :material/ icon would be fetched from a font CDN on every page load), as a data
    # address: a file path made Streamlit read and register it again on every run.
    st.set_page_config(page_title="ConvLab", page_icon=layout.ICON, layout="wide")
    settings = current()
    page = st.navigation(pages(settings))
    if page.title != layout.INSTRUCTOR:
        page_banner()  # over the page's title, for a phone whose sidebar is folded away
    layout.sidebar(page.title, settings)
    if layout.shown(page.title, settings):
        page.run()
    else:
        st.info(layout.HIDDEN_PAGE, icon=":material/visibility_off:")


# Streamlit runs this file as __main__; a training process started by multiprocessing re-imports it
# as __mp_main__, where it must only import, never draw a page.
if __name__ == "__main__":
    main()
