"""The hosting settings: .streamlit/config.toml, scripts/serve_class.sh, and what the app does with them.

These run without a server: they read the files and ask Streamlit's own config loader, so a
setting that a typo or a later edit breaks is caught before a class meets it.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".streamlit" / "config.toml"
SERVE = ROOT / "scripts" / "serve_class.sh"
HOSTING = {
    ("global", "developmentMode"): False,
    ("server", "headless"): True,
    ("server", "fileWatcherType"): "none",
    ("server", "runOnSave"): False,
    ("server", "allowRunOnSave"): False,
    ("server", "enableXsrfProtection"): True,
    ("server", "enableCORS"): True,
    ("browser", "gatherUsageStats"): False,
    ("client", "toolbarMode"): "viewer",
    ("client", "showErrorDetails"): "none",
}


def test_config_toml_holds_the_hosting_defaults():
    cfg = tomllib.loads(CONFIG.read_text())
    for (section, key), value in HOSTING.items():
        assert cfg[section][key] == value, f"{section}.{key}"
    assert cfg["server"]["address"] == "127.0.0.1"  # a laptop run is not exposed to the network
    assert 1 <= cfg["server"]["maxUploadSize"] <= 50
    assert 1 <= cfg["server"]["maxMessageSize"] <= 200


def test_streamlit_reads_the_file_as_written():
    """Streamlit's own loader, run from the repository root, sees the same values (no typo, no unknown key)."""
    code = (
        "from streamlit import config\n"
        "config.get_config_options(force_reparse=True)\n"
        f"keys = {[f'{s}.{k}' for s, k in HOSTING]!r}\n"
        "print({k: config.get_option(k) for k in keys + ['server.maxUploadSize', 'server.address']})\n"
    )
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    seen = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    for (section, key), value in HOSTING.items():
        assert seen[f"{section}.{key}"] == value, (section, key, seen[f"{section}.{key}"])
    assert "unknown" not in out.stderr.lower() and "deprecat" not in out.stderr.lower(), out.stderr


def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SERVE), *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, timeout=30
    )


def test_serve_class_binds_the_class_address_with_every_hosting_flag():
    out = serve("--print")
    assert out.returncode == 0, out.stderr
    (line,) = out.stdout.strip().splitlines()
    assert "streamlit run serve.py" in line
    assert "--server.address=0.0.0.0" in line and "--server.port=8501" in line
    for (section, key), value in HOSTING.items():
        text = str(value).lower() if isinstance(value, bool) else value
        assert f"--{section}.{key}={text}" in line, f"{section}.{key}"
    assert "--server.maxUploadSize=25" in line


def test_serve_class_with_two_processes_stays_on_loopback_behind_the_proxy():
    out = serve("--print", CONVLAB_PROCESSES="2", CONVLAB_PORT="9001")
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all("--server.address=127.0.0.1" in x for x in lines)
    assert [re.search(r"--server.port=(\d+)", x).group(1) for x in lines] == ["9001", "9002"]


def test_serve_class_refuses_a_dataset_cap_the_server_would_cut_off():
    out = serve("--print", CONVLAB_MAX_DATASET_MB="50", CONVLAB_MAX_UPLOAD_MB="25")
    assert out.returncode == 2 and "upload cap" in out.stderr


def test_the_dataset_cap_the_page_promises_fits_under_the_server_upload_cap():
    from app import training as tr

    server_cap = tomllib.loads(CONFIG.read_text())["server"]["maxUploadSize"] * 1024 * 1024
    assert tr.MAX_ZIP_BYTES <= server_cap
