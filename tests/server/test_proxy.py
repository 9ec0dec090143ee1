"""Two ConvLab processes behind nginx with sticky sessions, all on loopback.

Streamlit keeps a session (its widgets, uploads, trained model) inside one process, so every
request of one browser - the page, the websocket, each upload - must reach the same process.
The nginx config here (the one docs/HOSTING.md gives) pins a browser to a process with a cookie
that nginx itself sets, hashed onto the upstreams. The test drives sessions through the proxy,
uploads a different photo in each and reruns, then reads nginx's access log to check that each
browser stayed on one process and that both processes served someone. Skipped, with the reason,
where nginx is not installed (``apt-get install nginx``).
"""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.load_protocol import ROOT, Session, free_port, http_request, multipart
from cnn_core import geometry
from tests.server.conftest import LOGS, PORTS, nginx_binary, run, start_server

HOSTING = ROOT / "docs" / "HOSTING.md"  # the nginx config is taken from the docs, so they cannot drift apart
COOKIE = "convlab_backend"


def documented_nginx_conf() -> str:
    """The ```nginx block of docs/HOSTING.md (what an instructor drops into /etc/nginx/conf.d/)."""
    m = re.search(r"```nginx\n(.*?)```", HOSTING.read_text(), re.S)
    assert m, "docs/HOSTING.md has no nginx block"
    return m.group(1)


def nginx_conf(tmp: Path, listen: int, upstreams: list[int]) -> str:
    """The documented config with the test's ports, wrapped in a minimal nginx.conf of its own."""
    text = documented_nginx_conf()
    for literal, replacement in (
        (
            "    server 127.0.0.1:8501;\n    server 127.0.0.1:8502;\n",
            "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams),
        ),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("/var/log/nginx/convlab_access.log", str(tmp / "convlab_access.log")),
    ):
        assert literal in text, f"docs/HOSTING.md's nginx block no longer has {literal!r}"
        text = text.replace(literal, replacement)
    head = (
        f"daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\nworker_processes 1;\n"
        "events { worker_connections 512; }\n"
    )
    temp = "".join(f"    {k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return head + "http {\n" + temp + text + "}\n"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx): the reverse-proxy test is skipped")
    tmp = tmp_path_factory.mktemp("nginx")
    first = free_port(PORTS)
    ports = [first, free_port(PORTS, exclude={first})]
    listen = free_port(PORTS, exclude=set(ports))
    with ThreadPoolExecutor(2) as pool:  # two ConvLab processes, started side by side
        backends = list(pool.map(lambda i: start_server(f"proxy_backend_{i}", port=ports[i]), range(2)))
    assert len({b.port for b in backends}) == 2
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_conf(tmp, listen, [b.port for b in backends]))
    log = open(LOGS / "nginx.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.time() + 20
        while True:
            try:
                if http_request(url, "GET", "/_stcore/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("nginx did not start: " + (tmp / "error.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield url, backends, tmp
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        for b in backends:
            b.stop()


def photo(h: int, w: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(h * w).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


async def student(url: str, i: int) -> tuple[str, str]:
    """Open the Kernel Lab through the proxy, upload a photo of its own size, rerun; returns (cookie, session)."""
    h, w = 20 + i, 31 + 2 * i
    s = Session(url)
    await s.open("kernel_lab")
    assert COOKIE in s.cookies, "nginx did not set its stickiness cookie"
    await s.rerun(kl_source="Upload")
    r = await s.upload("kl_upload", f"student{i}.png", photo(h, w), "image/png")
    assert r.contains(f"Output size: {h} x {w} in, {h} x {w} out"), r.texts("expander")
    r = await s.rerun(kl_stride=2.0)  # a rerun after the upload still sees this student's photo
    oh = geometry.output_size(h, 3, stride=2, padding=geometry.same_padding(h, 3, stride=2))
    ow = geometry.output_size(w, 3, stride=2, padding=geometry.same_padding(w, 3, stride=2))
    assert r.contains(f"Output size: {h} x {w} in, {oh} x {ow} out"), r.texts("expander")
    await s.close()
    return s.cookies[COOKIE], s.session_id or ""


def upstreams_by_cookie(tmp: Path) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for line in (tmp / "convlab_access.log").read_text().splitlines():
        m = re.search(r"sticky=(\S+) upstream=(\S+)", line)
        if m and m.group(2) != "-":
            seen.setdefault(m.group(1), set()).add(m.group(2))
    return seen


async def logged_upstreams(tmp: Path, cookie: str, timeout: float = 10.0) -> set[str]:
    """The upstreams nginx logged for ``cookie``, once its line is in the log (written just after the response)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (seen := upstreams_by_cookie(tmp).get(cookie)):
        if loop.time() > deadline:
            raise AssertionError(f"nginx logged no request with cookie {cookie} within {timeout:.0f} s")
        await asyncio.sleep(0.05)
    return seen


@pytest.mark.slow  # two ConvLab processes and nginx, then up to 20 students
def test_sessions_through_the_proxy_stay_on_one_process_and_use_both(proxy):
    url, backends, tmp = proxy

    async def scenario() -> list[tuple[str, str]]:
        done: list[tuple[str, str]] = []
        for batch in range(5):  # until both processes have served two students (at most 20 students)
            done += await asyncio.gather(*(student(url, 4 * batch + k) for k in range(4)))
            used = upstreams_by_cookie(tmp)
            per_backend = [sum(1 for c, _ in done if f":{b.port}" in "".join(used.get(c, ()))) for b in backends]
            if min(per_backend) >= 2:
                break
        return done

    students = run(scenario(), timeout=240)
    used = upstreams_by_cookie(tmp)
    for cookie, _ in students:
        assert len(used[cookie]) == 1, f"browser {cookie} was sent to {used[cookie]}"
    ports = {u.rsplit(":", 1)[1] for c, _ in students for u in used[c]}
    assert ports == {str(b.port) for b in backends}, f"only {ports} served anyone"


@pytest.mark.slow
def test_without_stickiness_an_upload_lands_on_the_wrong_process_and_is_refused(proxy):
    """Why the sticky cookie matters: the same upload, sent with another process's cookie, fails."""
    url, backends, tmp = proxy

    async def scenario() -> None:
        s = Session(url)
        await s.open("kernel_lab")
        mine = await logged_upstreams(tmp, s.cookies[COOKIE])
        other = None
        for _ in range(30):  # new browsers until one is sent to the other process
            probe = Session(url)
            await probe.fetch_cookies()
            if (await logged_upstreams(tmp, probe.cookies[COOKIE])).isdisjoint(mine):
                other = probe.cookies[COOKIE]
                break
        assert other is not None, "every new browser went to the same process"
        urls = await s.request_file_urls("x.png")
        body, ctype = multipart("x.png", photo(8, 8), "image/png")
        headers = {"Content-Type": ctype, "X-Xsrftoken": s.xsrf or ""}
        wrong = {**s.cookies, COOKIE: other}
        assert http_request(url, "PUT", urls.upload_url, body=body, headers=headers, cookies=wrong)[0] == 400
        assert http_request(url, "PUT", urls.upload_url, body=body, headers=headers, cookies=s.cookies)[0] == 204
        await s.close()

    run(scenario())


def test_the_documented_config_is_valid_nginx(tmp_path):
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, free_port(PORTS), [8501, 8502]))
    out = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
