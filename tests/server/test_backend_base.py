"""The middleware that names the backend in each page: unit checks, then a real server and Chromium
opening a page at its own address with no 404 (the probe of streamlit/streamlit#7074)."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from app.server.backend_base import BackendBase, inject, is_page_request, snippet
from bench.load_protocol import CHROMIUM_ARGS, StreamlitServer, free_port

PAGE = b"<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>"


def test_the_snippet_goes_right_after_head_and_names_the_base_path():
    out = inject(PAGE, "")
    assert out.startswith(b"<!doctype html><html><head><script>window.__streamlit=")
    assert b'BACKEND_BASE_URL:location.origin+""' in out and out.endswith(PAGE[len(b"<!doctype html><html><head>") :])
    assert b'location.origin+"/convlab"' in snippet("/convlab/")
    assert inject(b"no head here", "") == b"no head here"


def test_only_page_requests_are_rewritten():
    def scope(path: str, method: str = "GET", kind: str = "http") -> dict:
        return {"type": kind, "method": method, "path": path, "headers": []}

    assert is_page_request(scope("/")) and is_page_request(scope("/kernel_lab"))
    assert not is_page_request(scope("/_stcore/health"))
    assert not is_page_request(scope("/static/js/index.js"))
    assert not is_page_request(scope("/kernel_lab", method="POST"))
    assert not is_page_request(scope("/_stcore/stream", kind="websocket"))


def _call(app, path: str, headers: list) -> tuple[dict, bytes, list]:
    sent: list[dict] = []
    seen: list = []

    async def inner(scope, receive, send):
        seen.extend(scope["headers"])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE[:20], "more_body": True})
        await send({"type": "http.response.body", "body": PAGE[20:]})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(BackendBase(inner)(scope, receive, send) if app is None else app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0], body, seen


def test_an_html_page_is_rewritten_with_a_true_length_and_asked_for_uncompressed():
    start, body, seen = _call(None, "/kernel_lab", [(b"content-type", b"text/html"), (b"content-length", b"72")])
    assert body == inject(PAGE, "")
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()
    assert (b"accept-encoding", b"gzip") not in seen


def test_other_answers_pass_through_untouched():
    _, body, _ = _call(None, "/kernel_lab", [(b"content-type", b"application/json")])
    assert body == PAGE


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_a_page_opened_at_its_own_address_asks_the_root_and_gets_no_404(tmp_path):
    from playwright.sync_api import sync_playwright

    with StreamlitServer(free_port(range(9500, 9600)), log_path=tmp_path / "server.log") as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        failed, stcore = [], []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("request", lambda r: stcore.append(r.url.removeprefix(srv.url)) if "/_stcore/" in r.url else None)
        page.goto(f"{srv.url}/kernel_lab")
        page.get_by_role("heading", name="Kernel Lab").first.wait_for(timeout=60_000)
        browser.close()
    assert failed == []
    assert "/_stcore/health" in stcore and not any(u.startswith("/kernel_lab/") for u in stcore)
