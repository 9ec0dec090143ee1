"""Shared test setup: the repository root on sys.path, paths to shared data, and the markers.

Markers are applied here, by directory and by fixture, so that they select what they say (a
``pytestmark`` in a conftest.py marks nothing):

- ``e2e``: every test under tests/e2e and every test that uses the ``browser`` fixture (so
  ``-m "not e2e"`` never launches Chromium);
- ``server``: every test under tests/server (real servers on loopback, no browser);
- ``slow``: every e2e test, and the tests marked ``@pytest.mark.slow`` by hand because they
  take more than about 3 seconds (a training run; check with ``pytest --durations=0``).

Every test run gets a fresh, empty ``CONVLAB_STATE_DIR`` (the workspace database and model files),
set here before anything is imported and inherited by every server a test starts, so no test reads
or writes the user's own ``~/.local/state/convlab``; it is removed when the run ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as streamlit_app.py: idle torch threads sleep
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TESTS = Path(__file__).resolve().parent
STATE_DIR = Path(tempfile.mkdtemp(prefix="convlab-test-state-"))
os.environ["CONVLAB_STATE_DIR"] = str(STATE_DIR)  # never the user's own workspace store
atexit.register(shutil.rmtree, STATE_DIR, ignore_errors=True)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def area_of(item: pytest.Item) -> str:
    """The tests/ subfolder a test lives in ("core", "app", "server", "e2e"), or "" outside one."""
    try:
        parts = item.path.resolve().relative_to(TESTS).parts
    except ValueError:
        return ""
    return parts[0] if len(parts) > 1 else ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        area = area_of(item)
        fixtures = set(getattr(item, "fixturenames", ()))
        if area == "e2e" or "browser" in fixtures:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)
        if area == "server":
            item.add_marker(pytest.mark.server)
