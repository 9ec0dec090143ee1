"""Tell Streamlit's frontend the server's base address in every HTML page it is served.

Opened on a page's own address (``/kernel_lab``), Streamlit's frontend does not know whether the
server lives at ``/kernel_lab`` or at ``/``, so it asks ``/kernel_lab/_stcore/health`` and
``/kernel_lab/_stcore/host-config`` first, gets two 404s, and then tries the root
(streamlit/streamlit#7074). The frontend reads a public hook, ``window.__streamlit.BACKEND_BASE_URL``,
before it probes; this middleware sets it, in the page's ``<head>``, to the page's origin plus the
configured ``server.baseUrlPath``, so the first request already goes to the right place. The same
place in the page carries :mod:`app.server.warm_charts`' script (the chart library evaluated while idle).
"""

from __future__ import annotations

import json

import streamlit as st

from app.server import warm_charts

HEAD = b"<head>"


def snippet(base_path: str) -> bytes:
    """The ``<script>`` that names the backend: ``location.origin`` + ``/base_path``."""
    path = "/" + base_path.strip("/") if base_path.strip("/") else ""
    js = f"window.__streamlit=Object.assign({{}},window.__streamlit,{{BACKEND_BASE_URL:location.origin+{json.dumps(path)}}});"
    return f"<script>{js}</script>".encode()


def inject(body: bytes, base_path: str) -> bytes:
    """``body`` with the snippet and the chart warm-up right after its first ``<head>`` (unchanged when it has none)."""
    at = body.find(HEAD)
    if at < 0:
        return body
    at += len(HEAD)
    return body[:at] + snippet(base_path) + warm_charts.snippet() + body[at:]


def is_page_request(scope) -> bool:
    """A GET for an app page (``/``, ``/kernel_lab``): not the websocket, ``/_stcore/`` or a file with a suffix."""
    path = scope.get("path", "")
    last = path.rsplit("/", 1)[-1]
    return scope["type"] == "http" and scope.get("method") == "GET" and "/_stcore/" not in path and "." not in last


class BackendBase:
    """Pure ASGI middleware: rewrites ``text/html`` responses to GET requests, passes all else through."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if not is_page_request(scope):
            await self.app(scope, receive, send)
            return
        # The page itself (~8 KB) is sent uncompressed, so that it can be rewritten; its scripts stay gzipped.
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]}
        start: dict | None = None
        chunks: list[bytes] = []

        async def wrapped(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                kind = headers.get(b"content-type", b"")
                if not kind.startswith(b"text/html") or headers.get(b"content-encoding"):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = inject(b"".join(chunks), st.get_option("server.baseUrlPath") or "")
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)
