"""The hosting kit in deploy/ and the Dockerfile, checked by the tools that will read them.

- ``deploy/nginx-convlab.conf`` passes ``nginx -t`` as shipped (only the certificate and log paths
  pointed at a self-signed certificate made here with ``openssl``), then runs on loopback in front
  of a stand-in backend: HTTP answers with a redirect to HTTPS, HTTPS proxies with the websocket
  upgrade headers and the sticky cookie, and a body over the cap is refused by nginx (413). It keeps
  the stickiness lines of the config docs/HOSTING.md documents (and tests/server/test_proxy.py runs).
- ``deploy/convlab.service`` parses with ``systemd-analyze verify`` (paths pointed at this checkout).
- The Dockerfile cannot be built here (no Docker daemon, no network to Docker Hub), so it is read:
  base image, CPU-only torch at the pinned versions, a non-root user, the volumes, what it copies;
  its HEALTHCHECK command is run against a stand-in server.

Each tool's test is skipped with the reason where the tool is not installed.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.server.conftest import nginx_binary
from tests.server.test_proxy import documented_nginx_conf

DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx-convlab.conf"
UNIT = DEPLOY / "convlab.service"
DOCKERFILE = ROOT / "Dockerfile"
CERT, KEY = "/etc/ssl/convlab/fullchain.pem", "/etc/ssl/convlab/privkey.pem"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def nginx() -> str:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx): the nginx config is not checked")
    return binary


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no self-signed certificate for the TLS server block")
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def wrapped(tmp: Path, conf: str) -> Path:
    """``conf`` (what goes in /etc/nginx/conf.d/) inside a minimal nginx.conf of its own under ``tmp``."""
    (tmp / "convlab.conf").write_text(conf)
    temp = "".join(f"    {k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # bodies stay in memory: nginx's workers (user nobody under root) cannot enter pytest's private tmp folder
    temp += "    client_body_buffer_size 32m;\n"
    main = (
        f"daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\nworker_processes 1;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n{temp}    include {tmp}/convlab.conf;\n}}\n"
    )
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


def shipped_with(cert: Path, key: Path, tmp: Path) -> str:
    text = NGINX_CONF.read_text()
    for literal, replacement in ((CERT, str(cert)), (KEY, str(key)), ("/var/log/nginx/", f"{tmp}/")):
        assert literal in text, f"deploy/nginx-convlab.conf no longer has {literal!r}"
        text = text.replace(literal, replacement)
    return text


def test_the_tls_config_passes_nginx_t_as_shipped(nginx, certificate, tmp_path):
    conf = wrapped(tmp_path, shipped_with(*certificate, tmp_path))
    done = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


def test_the_deploy_config_keeps_the_documented_stickiness_and_websocket_lines():
    shipped = NGINX_CONF.read_text()
    documented = documented_nginx_conf()
    for line in (
        "map $cookie_convlab_backend $convlab_sticky {",
        '""      $request_id;',
        "hash $convlab_sticky consistent;",
        "proxy_set_header Host $http_host;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_read_timeout 1h;",
        "client_max_body_size 26m;",
    ):
        assert line in documented, f"docs/HOSTING.md's nginx block lost {line!r}"
        assert line in shipped, f"deploy/nginx-convlab.conf lacks {line!r}"
    assert re.search(r"listen 80;.*?return 301 https://\$host\$request_uri;", shipped, re.S)
    assert "listen 443 ssl;" in shipped and "Secure; SameSite=Lax" in shipped


class Backend(BaseHTTPRequestHandler):
    """A stand-in for a ConvLab process: answers 200 and remembers each request's headers."""

    seen: list[dict[str, str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Backend.seen.append(
            {**{k.lower(): v for k, v in self.headers.items()}, "path": self.path, "bytes": str(len(body))}
        )
        payload = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def backend() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def proxy(nginx, certificate, backend, tmp_path_factory) -> Iterator[tuple[int, int, ssl.SSLContext]]:
    tmp = tmp_path_factory.mktemp("nginx_tls")
    http_port, https_port = free_port(), free_port()
    text = shipped_with(*certificate, tmp)
    for literal, replacement in (
        ("    server 127.0.0.1:8501;\n    server 127.0.0.1:8502;\n", f"    server 127.0.0.1:{backend};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
    ):
        assert literal in text, f"deploy/nginx-convlab.conf no longer has {literal!r}"
        text = text.replace(literal, replacement)
    conf = wrapped(tmp, text)
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")])
    context = ssl.create_default_context(cafile=str(certificate[0]))
    try:
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        "nginx did not start: " + (tmp / "error.log").read_text(errors="replace")
                    ) from None
                time.sleep(0.1)
        yield http_port, https_port, context
    finally:
        proc.terminate()
        proc.wait(10)


def test_plain_http_is_sent_to_https_with_the_same_path(proxy):
    http_port, _, _ = proxy
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    conn.request("GET", "/kernel_lab?kernel=Sobel+y")
    r = conn.getresponse()
    assert r.status == 301
    assert r.getheader("Location") == "https://127.0.0.1/kernel_lab?kernel=Sobel+y"


def test_https_proxies_with_the_websocket_headers_and_a_secure_sticky_cookie(proxy):
    _, https_port, context = proxy
    Backend.seen.clear()
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=10, context=context)
    conn.request("GET", "/_stcore/stream", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    r = conn.getresponse()
    r.read()
    assert r.status == 200
    cookie = r.getheader("Set-Cookie") or ""
    assert re.fullmatch(r"convlab_backend=[0-9a-f]{32}; Path=/; HttpOnly; Secure; SameSite=Lax", cookie), cookie
    assert r.getheader("Strict-Transport-Security") == "max-age=31536000"
    seen = Backend.seen[-1]
    assert (seen["path"], seen["upgrade"], seen["connection"]) == ("/_stcore/stream", "websocket", "upgrade")
    assert seen["host"] == f"127.0.0.1:{https_port}"  # with the port, as Streamlit's origin check needs
    assert seen["x-forwarded-proto"] == "https"
    sticky = cookie.split(";")[0]
    conn.request("GET", "/_stcore/health", headers={"Cookie": sticky})
    r = conn.getresponse()
    r.read()
    assert (r.getheader("Set-Cookie") or "").startswith(sticky + ";"), "the browser's key must stay the same"
    assert Backend.seen[-1]["connection"] == "close"  # no Upgrade header: an ordinary request


def test_an_upload_over_the_cap_is_refused_by_nginx_and_one_under_it_passes(proxy):
    _, https_port, context = proxy
    with context.wrap_socket(
        socket.create_connection(("127.0.0.1", https_port), timeout=10), server_hostname="127.0.0.1"
    ) as s:
        s.sendall(
            f"POST /_stcore/upload_file/x/y HTTP/1.1\r\nHost: 127.0.0.1:{https_port}\r\n"
            f"Content-Length: {27 * 2**20}\r\n\r\n".encode()
        )
        assert s.recv(64).startswith(b"HTTP/1.1 413")
    Backend.seen.clear()
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=30, context=context)
    conn.request("POST", "/_stcore/upload_file/x/y", body=b"\0" * (2 * 2**20))
    r = conn.getresponse()
    r.read()
    assert r.status == 200 and Backend.seen[-1]["bytes"] == str(2 * 2**20)


def test_the_systemd_unit_parses_with_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed: the systemd unit is not verified")
    text = UNIT.read_text()
    assert "ExecStart=/srv/convlab/scripts/serve_class.sh" in text and "WorkingDirectory=/srv/convlab" in text
    assert "Environment=CONVLAB_STATE_DIR=/var/lib/convlab/state" in text and "StateDirectory=convlab" in text
    unit = tmp_path / "convlab.service"
    unit.write_text(text.replace("/srv/convlab", str(ROOT)))  # ExecStart must exist for verify
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "convlab.service" in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr
    broken = tmp_path / "broken.service"  # the same check does catch a bad line in this environment
    broken.write_text(text.replace("Restart=on-failure", "Restart=sometimes"))
    done = subprocess.run([tool, "verify", str(broken)], capture_output=True, text=True, timeout=60)
    assert "Failed to parse service restart specifier" in done.stdout + done.stderr


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^(\w+)\s+(.*)$", joined, re.M)]


def test_the_dockerfile_reads_right():
    steps = instructions(DOCKERFILE.read_text())
    keywords = [k for k, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    run = " ".join(a for k, a in steps if k == "RUN")
    assert "grep -E '^(torch|torchvision)==' requirements.txt" in run  # the project's own pins ...
    assert "--index-url https://download.pytorch.org/whl/cpu" in run  # ... as CPU-only builds
    assert "useradd --system --uid 10001" in run
    env = " ".join(a for k, a in steps if k == "ENV")
    assert "CONVLAB_STATE_DIR=/var/lib/convlab/state" in env and "CONVLAB_DATA_DIR=/var/lib/convlab/datasets" in env
    assert ("VOLUME", '["/var/lib/convlab/state", "/var/lib/convlab/datasets"]') in steps
    assert ("USER", "convlab") in steps and keywords.index("USER") < keywords.index("CMD")
    assert keywords.index("COPY") < keywords.index("USER")  # code copied as root, so the server cannot change it
    assert steps[-1] == ("CMD", '["scripts/serve_class.sh"]')
    for src in (a.split()[0] for k, a in steps if k == "COPY"):
        assert (ROOT / src).exists(), src
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"}
    assert {".venv", ".git", "tests"} <= ignored
    needed = {"app", "app_pages", "cnn_core", "assets", "scripts", "streamlit_app.py", "serve.py", ".streamlit", "requirements.txt"}
    assert not needed & ignored


def test_the_dockerfile_healthcheck_and_cmd_work(backend):
    steps = instructions(DOCKERFILE.read_text())
    check = json.loads(next(a for k, a in steps if k == "HEALTHCHECK").split(" CMD ", 1)[1])
    assert check[:2] == ["python", "-c"] and "/_stcore/health" in check[2]
    env = {"PATH": "/usr/bin:/bin", "CONVLAB_PORT": str(backend)}
    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else shutil.which("python3")
    assert subprocess.run([python, "-c", check[2]], env=env, timeout=30).returncode == 0
    env["CONVLAB_PORT"] = str(free_port())  # nothing listens there: unhealthy
    assert subprocess.run([python, "-c", check[2]], env=env, timeout=30, capture_output=True).returncode == 1
    printed = subprocess.run(
        [str(ROOT / "scripts" / "serve_class.sh"), "--print"],
        env={"PATH": "/usr/bin:/bin", "CONVLAB_PYTHON": "python", "CONVLAB_ADDRESS": "0.0.0.0", "CONVLAB_PORT": "8501"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert printed.stdout.startswith(
        "python -m streamlit run serve.py --server.address=0.0.0.0 --server.port=8501 "
    )
