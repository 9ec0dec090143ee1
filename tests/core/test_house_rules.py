"""The house rules of ../shared/DESIGN.md that a machine can check: layering, no private
framework APIs, small modules, thin pages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("app", "app_pages", "cnn_core")
MAX_MODULE_LINES = 400  # "modules stay small (under about 400 lines)"
MAX_PAGE_LINES = 160  # "pages are thin (about 150 lines)"


def _modules(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", _modules("cnn_core"), ids=_rel)
def test_the_core_imports_no_ui_and_no_app(path: Path) -> None:
    bad = {n for n in _imports(path) if n.split(".")[0] in {"streamlit", "plotly", "app", "app_pages"}}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}: cnn_core must run in a notebook with no server"


@pytest.mark.parametrize("path", [*_modules(*CODE_DIRS), ROOT / "streamlit_app.py", ROOT / "serve.py"], ids=_rel)
def test_no_private_streamlit_api(path: Path) -> None:
    bad = {n for n in _imports(path) if n.startswith(("streamlit.runtime", "streamlit.web", "streamlit.elements", "streamlit.navigation", "streamlit.proto"))}
    assert not bad, f"{_rel(path)} imports private Streamlit modules {sorted(bad)}"


@pytest.mark.parametrize("path", _modules(*CODE_DIRS), ids=_rel)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_rel(path)} has {lines} lines; split it by idea"


@pytest.mark.parametrize("path", _modules("app_pages"), ids=_rel)
def test_pages_are_thin(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_PAGE_LINES, f"{_rel(path)} has {lines} lines; move its glue into app/"


@pytest.mark.parametrize("path", _modules(*CODE_DIRS), ids=_rel)
def test_every_module_says_what_it_owns(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{_rel(path)} has no module docstring"


def test_no_folder_named_pages_beside_the_entry_point() -> None:
    # A pages/ folder next to streamlit_app.py switches a fresh server to the legacy multipage mode.
    assert not (ROOT / "pages").exists()
