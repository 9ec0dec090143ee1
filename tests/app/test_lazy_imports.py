"""What a page imports before its first paint: Home and the Kernel Lab (and the sidebar every page
shares) never import torch, which costs seconds on a cold server; a page that trains still finds
its run in the sidebar once training is imported.

Each check runs in a fresh interpreter, since this test process has imported torch long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({script!r}, default_timeout=60)
{setup}
at.run()
print(json.dumps({{
    "exception": [str(e.value) for e in at.exception],
    "torch": "torch" in sys.modules,
    "captions": [c.value for c in at.sidebar.caption],
}}))
"""


def _probe(setup: str = "") -> dict:
    code = PROBE.format(script=str(ROOT / "streamlit_app.py"), setup=setup)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_home_and_its_sidebar_do_not_import_torch():
    got = _probe()
    assert got["exception"] == []
    assert got["torch"] is False, "Home (or the sidebar's classroom box) imported torch before its first paint"


def test_the_kernel_lab_does_not_import_torch():
    got = _probe('at.switch_page("app_pages/kernel_lab.py")')
    assert got["exception"] == []
    assert got["torch"] is False


@pytest.mark.parametrize("page", ["app_pages/training.py"])
def test_a_page_that_trains_still_imports_torch(page):
    """The probe can see torch: a page that needs it gets it (so the two tests above can fail)."""
    got = _probe(f"at.switch_page({page!r})")
    assert got["exception"] == []
    assert got["torch"] is True
