"""The middleware that names the backend in each page (its browser check, a page opened at its own address
with no 404, is ``tests/e2e/test_backend_base_e2e.py``)."""

from __future__ import annotations

import asyncio
import threading

from app.server.backend_base import BackendBase, inject, is_page_request, snippet

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


def _call(path: str, headers: list) -> tuple[dict, bytes, list]:
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
    # Its own thread: the browser tests' Playwright keeps an event loop running in this one.
    run = threading.Thread(target=asyncio.run, args=(BackendBase(inner)(scope, receive, send),))
    run.start()
    run.join()
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0], body, seen


def test_an_html_page_is_rewritten_with_a_true_length_and_asked_for_uncompressed():
    start, body, seen = _call("/kernel_lab", [(b"content-type", b"text/html"), (b"content-length", b"72")])
    assert body == inject(PAGE, "")
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()
    assert (b"accept-encoding", b"gzip") not in seen


def test_other_answers_pass_through_untouched():
    _, body, _ = _call("/kernel_lab", [(b"content-type", b"application/json")])
    assert body == PAGE


def test_every_page_carries_the_chart_warm_up_of_this_streamlit_build():
    from app.server import warm_charts

    name = warm_charts.chunk()
    assert name is not None, "Streamlit's plotly module was not found once in its frontend: charts are not warmed"
    assert (warm_charts.frontend_js_dir() / name).stat().st_size > 1_000_000  # the library itself, not a stub
    out = inject(PAGE, "")
    assert warm_charts.snippet() in out and name.encode() in out
    assert out.index(b"BACKEND_BASE_URL") < out.index(name.encode()) < out.index(b"<meta")
    assert warm_charts.snippet("") == b""  # no module found: nothing added
