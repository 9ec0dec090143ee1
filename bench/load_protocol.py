"""A browserless Streamlit client: one websocket session speaking the browser's protocol.

Used by ``bench/bench_load.py`` (many sessions at once) and by ``tests/server`` (security,
faults, the reverse proxy). It does what the browser's JavaScript does, no more:

* ``GET /`` once to receive the ``_streamlit_xsrf`` cookie (and any cookie a proxy sets);
* open ``/_stcore/stream`` with the subprotocols ``["streamlit", <xsrf cookie>]``;
* send ``BackMsg`` protobufs (``rerun_script`` with the page and the widget values,
  ``file_urls_request`` before an upload) and read ``ForwardMsg`` protobufs (``new_session``,
  ``delta``, ``script_finished``, ``file_urls_response``, ``auto_rerun``);
* upload a file with ``PUT /_stcore/upload_file/<session>/<file>`` (multipart, with the
  ``X-Xsrftoken`` header), then rerun with the uploader's new state.

Widgets are found by their ``key=`` (the tail of the element id Streamlit builds from it).
Everything runs on asyncio; nothing here starts or stops a server.
"""

from __future__ import annotations

import asyncio
import http.client
import http.cookies
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackendOperationRequest, BackMsg, DeferredFileRequestPayload
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLs, FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
XSRF_COOKIE = "_streamlit_xsrf"
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "interrupted",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment_ok",
}
# Widget kind -> the WidgetState field its value travels in (see streamlit/elements/widgets).
VALUE_FIELD = {
    "number_input": "double_value",
    "selectbox": "string_value",
    "radio": "string_value",
    "text_area": "string_value",
    "text_input": "string_value",
    "checkbox": "bool_value",
    "toggle": "bool_value",
    "button": "trigger_value",
    "download_button": "trigger_value",
    "slider": "double_array_value",
    "select_slider": "string_array_value",
    "file_uploader": "file_uploader_state_value",
    "bidi_component": "json_value",  # a Components v2 element's state, as JSON text (Arithmetic's stepper)
}


class ProtocolError(RuntimeError):
    """The server answered something a browser would not accept (or not in time)."""


@dataclass
class Element:
    """One element of a script run: its kind (``markdown``, ``alert``, ``number_input`` ...) and proto."""

    kind: str
    proto: Any

    @property
    def text(self) -> str:
        p = self.proto
        for name in ("body", "label", "message", "code_text", "text"):
            value = getattr(p, name, None)
            if isinstance(value, str) and value:
                return value
        return ""


@dataclass
class RunResult:
    """What one script run sent: how it finished, how long it took and its elements."""

    status: str
    latency_s: float
    elements: list[Element] = field(default_factory=list)

    def texts(self, *kinds: str) -> list[str]:
        return [e.text for e in self.elements if not kinds or e.kind in kinds]

    @property
    def exceptions(self) -> list[Any]:
        return [e.proto for e in self.elements if e.kind == "exception"]

    def contains(self, words: str) -> bool:
        return any(words in t for t in self.texts())


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def http_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes, dict[str, str]]:
    """One blocking HTTP request; returns (status, headers, body, cookies it set)."""
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = _cookie_header(cookies)
    try:
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        set_cookies: dict[str, str] = {}
        for raw in resp.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(raw)
            set_cookies.update({k: m.value for k, m in jar.items()})
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, set_cookies
    finally:
        conn.close()


async def http_get_status(base_url: str, path: str, cookies: dict[str, str], timeout: float = 30.0) -> int:
    """One GET on asyncio's own sockets (no worker thread, so many tabs' asks never queue behind uploads)."""
    u = urllib.parse.urlsplit(base_url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(u.hostname, u.port), timeout)
    try:
        cookie = f"Cookie: {_cookie_header(cookies)}\r\n" if cookies else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n{cookie}\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.read(), timeout)
        return int(head.split(b" ", 2)[1])
    finally:
        writer.close()


def multipart(name: str, data: bytes, mime: str) -> tuple[bytes, str]:
    """A one-file multipart/form-data body, as the browser's FormData sends it."""
    boundary = "----convlab" + uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Session:
    """One browser tab's worth of Streamlit session, driven over a websocket.

    Parameters
    ----------
    base_url : str
        ``http://127.0.0.1:PORT`` of the server (or of a proxy in front of it).
    origin : str, optional
        The ``Origin`` header of the websocket handshake; a browser sends the page's own
        origin, which is the default here.
    """

    def __init__(self, base_url: str, *, origin: str | None = "same") -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = self.base_url if origin == "same" else origin
        self.cookies: dict[str, str] = {}
        self.session_id: str | None = None
        self.pages: dict[str, str] = {}  # url path ("" for the default page) -> page_script_hash
        self.page_hash: str = ""
        self.widgets: dict[str, Element] = {}  # widget key (or label) -> element of the latest run
        self.values: dict[str, WidgetState] = {}  # widget id -> value the "browser" holds
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval (s) the server asked for
        self.closed_code: int | None = None
        self.messages_in = 0
        self.bytes_in = 0
        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._elements: list[Element] = []
        self._finished: asyncio.Queue[tuple[str, list[Element], float]] = asyncio.Queue()
        self._file_urls: dict[str, asyncio.Future] = {}
        self._backend_ops: dict[str, asyncio.Future] = {}
        self.raw: list[bytes] = []  # every ForwardMsg as received, when keep_raw is set
        self.keep_raw = False
        self._auto_tasks: list[asyncio.Task] = []

    # --- connecting ------------------------------------------------------------------------

    async def fetch_cookies(self) -> int:
        """GET the page and the health check like a browser does first.

        Keeps the cookies: a proxy's stickiness cookie (set on the page) and Streamlit's XSRF
        cookie (set on ``/_stcore/health``, which the browser polls before connecting).
        """
        status = 0
        for path in ("/", "/_stcore/health"):
            status, _, _, cookies = await asyncio.to_thread(
                http_request, self.base_url, "GET", path, cookies=self.cookies
            )
            self.cookies.update(cookies)
        return status

    @property
    def xsrf(self) -> str | None:
        return self.cookies.get(XSRF_COOKIE)

    async def connect(self, *, xsrf: bool = True, existing_session: str | None = None, timeout: float = 30.0) -> None:
        """Open the websocket (after :meth:`fetch_cookies`); raises on a refused handshake.

        ``existing_session`` asks for an earlier session back, as a reconnecting tab does.
        """
        url = self.base_url.replace("http://", "ws://") + "/_stcore/stream"
        protocols = ["streamlit", (self.xsrf or "") if xsrf else ""]
        if existing_session:
            protocols.append(existing_session)
        while protocols and not protocols[-1]:
            protocols.pop()
        headers = {"Cookie": _cookie_header(self.cookies)} if self.cookies else {}
        self._ws = await connect(
            url,
            subprotocols=protocols,  # type: ignore[arg-type]
            additional_headers=headers,
            origin=self.origin,  # type: ignore[arg-type]
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
            compression=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def open(self, page: str = "", query: str = "", timeout: float = 60.0) -> RunResult:
        """Cookies, websocket and the first run of ``page`` (a url path such as ``kernel_lab``)."""
        await self.fetch_cookies()
        await self.connect()
        return await self.rerun(page=page, query=query, timeout=timeout)

    async def close(self) -> None:
        for t in self._auto_tasks:
            t.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except (TimeoutError, asyncio.CancelledError):
                self._reader.cancel()

    # --- reading ---------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                self.messages_in += 1
                self.bytes_in += len(raw)
                if self.keep_raw:
                    self.raw.append(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
        except Exception:  # the connection went away; waiters time out or see closed_code
            pass
        finally:
            self.closed_code = getattr(self._ws, "close_code", None) or -1
            self._finished.put_nowait(("closed", self._elements, time.perf_counter()))

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            ns = msg.new_session
            if ns.initialize.session_id:
                self.session_id = ns.initialize.session_id
            for p in ns.app_pages:
                self.pages[p.url_pathname] = p.page_script_hash
            self.page_hash = ns.page_script_hash or self.page_hash
            self._elements = []
        elif kind == "navigation":
            for p in msg.navigation.app_pages:
                self.pages[p.url_pathname] = p.page_script_hash
            if msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
        elif kind == "delta":
            d = msg.delta
            which = d.WhichOneof("type")
            if which == "new_element":
                el = d.new_element
                sub_kind = el.WhichOneof("type") or ""
                e = Element(sub_kind, getattr(el, sub_kind) if sub_kind else el)
                self._elements.append(e)
                wid = getattr(e.proto, "id", "")
                if isinstance(wid, str) and wid.startswith("$$ID"):
                    self.widgets[widget_key(wid)] = e
                    if e.text:
                        self.widgets.setdefault(e.text, e)
            elif which == "add_block":
                blk = d.add_block
                if blk.WhichOneof("type") == "expandable":
                    self._elements.append(Element("expander", blk.expandable))
        elif kind == "script_finished":
            status = FINISHED.get(msg.script_finished, str(msg.script_finished))
            self._finished.put_nowait((status, self._elements, time.perf_counter()))
        elif kind == "file_urls_response":
            fut = self._file_urls.pop(msg.file_urls_response.response_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.file_urls_response)
        elif kind == "backend_operation_response":
            fut = self._backend_ops.pop(msg.backend_operation_response.request_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.backend_operation_response)
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)

    # --- running ---------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Set the widget with ``key`` (or label) the way the browser would, for the next rerun."""
        e = self.widget(key)
        state = WidgetState(id=e.proto.id)
        field_name = VALUE_FIELD[e.kind]
        if field_name == "double_array_value":
            state.double_array_value.data.extend(value)
        elif field_name == "string_array_value":
            state.string_array_value.data.extend(value)
        elif field_name == "file_uploader_state_value":
            state.file_uploader_state_value.CopyFrom(value)
        else:
            setattr(state, field_name, value)
        if field_name == "trigger_value":
            self._trigger = state
        else:
            self.values[state.id] = state

    def widget(self, key: str) -> Element:
        try:
            return self.widgets[key]
        except KeyError:
            raise ProtocolError(f"no widget {key!r}; known: {sorted(k for k in self.widgets if k)[:40]}") from None

    _trigger: WidgetState | None = None

    async def rerun(
        self,
        page: str | None = None,
        query: str = "",
        *,
        fragment_id: str = "",
        timeout: float = 60.0,
        **values: Any,
    ) -> RunResult:
        """Send one rerun (like a widget change) and wait for its ``script_finished``.

        ``page`` switches page (url path); keyword arguments set widgets by key first.
        """
        for key, value in values.items():
            self.set(key, value)
        while not self._finished.empty():  # forget runs nobody waited for (auto-reruns)
            self._finished.get_nowait()
        cs = ClientState(query_string=query, fragment_id=fragment_id, is_auto_rerun=bool(fragment_id))
        if page is not None:
            target = self.pages.get(page)
            if target:
                cs.page_script_hash = target
            else:
                cs.page_name = page
        else:
            cs.page_script_hash = self.page_hash
        states = list(self.values.values()) + ([self._trigger] if self._trigger is not None else [])
        self._trigger = None
        cs.widget_states.CopyFrom(WidgetStates(widgets=states))
        t0 = time.perf_counter()
        await self._ws.send(BackMsg(rerun_script=cs).SerializeToString())
        deadline = t0 + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ProtocolError(f"no script_finished within {timeout:.0f} s")
            try:
                status, elements, t1 = await asyncio.wait_for(self._finished.get(), left)
            except TimeoutError:
                raise ProtocolError(f"no script_finished within {timeout:.0f} s") from None
            if status == "interrupted":
                continue
            if status == "closed":
                raise ProtocolError(f"the server closed the websocket (code {self.closed_code})")
            if bool(fragment_id) != (status == "fragment_ok"):
                continue  # a fragment's auto-rerun finishing is not the end of a full rerun, nor the reverse
            return RunResult(status, t1 - t0, list(elements))

    async def upload(self, key: str, name: str, data: bytes, mime: str = "application/octet-stream", **kw) -> RunResult:
        """Upload ``data`` into the file uploader ``key`` and rerun, as the browser does."""
        status, urls = await self.put_file(name, data, mime)
        if status != 204:
            raise ProtocolError(f"upload refused with HTTP {status}")
        info = UploadedFileInfo(
            file_id=urls.file_id,
            name=name,
            size=len(data),
            file_urls=FileURLs(file_id=urls.file_id, upload_url=urls.upload_url, delete_url=urls.delete_url),
        )
        self.set(key, FileUploaderState(uploaded_file_info=[info]))
        return await self.rerun(**kw)

    async def request_file_urls(self, name: str, timeout: float = 30.0) -> Any:
        rid = uuid.uuid4().hex
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._file_urls[rid] = fut
        req = FileURLsRequest(request_id=rid, file_names=[name], session_id=self.session_id or "")
        await self._ws.send(BackMsg(file_urls_request=req).SerializeToString())
        resp = await asyncio.wait_for(fut, timeout)
        if resp.error_msg:
            raise ProtocolError(resp.error_msg)
        return resp.file_urls[0]

    async def put_file(
        self, name: str, data: bytes, mime: str = "application/octet-stream", *, xsrf: bool = True
    ) -> tuple[int, Any]:
        """Ask for an upload URL and PUT the file there; returns (HTTP status, the URLs)."""
        urls = await self.request_file_urls(name)
        body, ctype = multipart(name, data, mime)
        headers = {"Content-Type": ctype}
        if xsrf and self.xsrf:
            headers["X-Xsrftoken"] = self.xsrf
        if self.origin:
            headers["Origin"] = self.origin
        status, _, _, _ = await asyncio.to_thread(
            http_request, self.base_url, "PUT", urls.upload_url, body=body, headers=headers, cookies=self.cookies
        )
        return status, urls

    async def deferred_download(self, file_id: str, *, session_id: str | None = None, timeout: float = 60.0) -> Any:
        """Click a download button whose data is made on demand; returns the server's response.

        ``response.deferred_file.url`` is the URL to GET, or ``response.error_msg`` says why not.
        """
        rid = uuid.uuid4().hex
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._backend_ops[rid] = fut
        req = BackendOperationRequest(
            request_id=rid,
            session_id=self.session_id if session_id is None else session_id,
            deferred_file=DeferredFileRequestPayload(file_id=file_id),
        )
        await self._ws.send(BackMsg(backend_operation_request=req).SerializeToString())
        return await asyncio.wait_for(fut, timeout)

    async def send_raw(self, frame: bytes | str) -> None:
        """Send a frame as it is (for tests of malformed input)."""
        await self._ws.send(frame)

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Wait until the server closes the websocket; returns the close code."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.closed_code

    # --- auto-reruns (st.fragment(run_every=...)) -----------------------------------------

    def follow_auto_reruns(self) -> None:
        """Rerun fragments on the server's timer, as an open browser tab does."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(min(self.auto_reruns.values(), default=1.0))
                for fid in list(self.auto_reruns):
                    cs = ClientState(page_script_hash=self.page_hash, fragment_id=fid, is_auto_rerun=True)
                    cs.widget_states.CopyFrom(WidgetStates(widgets=list(self.values.values())))
                    try:
                        await self._ws.send(BackMsg(rerun_script=cs).SerializeToString())
                    except Exception:
                        return

        self._auto_tasks.append(asyncio.create_task(loop()))

    def follow_watch(self, result: RunResult, asks: list[float], failures: list[int]) -> bool:
        """Ask the classroom box's watch address on its timer, as its browser component does.

        The sidebar's box (``app/server/class_watch.py``) has no ``run_every``: a component in the
        page GETs ``./_convlab/class?t=<token>`` every ``every_ms``, and reruns the box only when the
        stamp it gets differs from the one drawn (nothing a student's tab does in the load bench
        changes it). Each ask's seconds go to ``asks``, each non-200 status (or -1) to ``failures``.
        Returns False when ``result`` has no such component.
        """
        import json

        found = next(
            (e for e in result.elements if e.kind == "bidi_component" and "class_watch" in e.proto.component_name), None
        )
        if found is None:
            return False
        data = json.loads(found.proto.json)
        path = "/" + data["url"].removeprefix("./")
        every = data["every_ms"] / 1000

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                t0 = time.perf_counter()
                try:
                    status = await http_get_status(self.base_url, path, self.cookies)
                except (OSError, TimeoutError, ValueError, IndexError):
                    status = -1
                asks.append(time.perf_counter() - t0)
                if status != 200:
                    failures.append(status)

        self._auto_tasks.append(asyncio.create_task(loop()))
        return True


def widget_key(element_id: str) -> str:
    """The user key inside a Streamlit element id (``$$ID-<hash>-<key>``), or the id itself."""
    parts = element_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] and parts[2] != "None" else element_id


# --- a server process to drive -----------------------------------------------------------------


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Headless Chromium as the browser bench and the browser tests launch it: offline, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# A page's runs are over: Streamlit's app root says no script runs or waits to (``data-test-script-state``;
# "initial" before the first run, "running" from the moment the browser asks for one) and no status widget
# shows. The status widget alone appears only ~0.5 s into a run, so a page just opened looked idle while its
# first run was still drawing it.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const run = app && app.dataset.testScriptState;
  return !!run && !['initial', 'running', 'rerunRequested'].includes(run)
    && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


def free_port(candidates: range, exclude: set[int] | frozenset[int] = frozenset()) -> int:
    """The first free loopback port of ``candidates`` not in ``exclude`` (else one the OS picks)."""
    for port in candidates:
        if port not in exclude and port_is_free(port):
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ProcStats:
    """CPU seconds (user + system) and memory of a process and its descendants, from /proc (no psutil).

    ``cpu_s`` and ``rss_mb`` cover the whole tree: the server, the fork server it starts for
    training and the training processes (their RSS counts pages they share with the fork server
    in each process, so the sum is an upper bound); ``server_rss_mb`` is the server alone.
    ``cpu_s`` includes children that have already exited and been waited for.
    """

    cpu_s: float
    rss_mb: float
    peak_rss_mb: float
    threads: int
    server_rss_mb: float = 0.0
    processes: int = 1


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds of the process and of its waited-for children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # fields 14-17 of stat: utime, stime, cutime, cstime
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / ticks


def _status(pid: int) -> dict[str, str]:
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return status


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents.setdefault(_stat(int(entry))[0], []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def proc_stats(pid: int) -> ProcStats:
    kb = lambda st, k: int(st.get(k, "0 kB").split()[0]) / 1024  # noqa: E731
    own = _status(pid)
    cpu, rss = _stat(pid)[1], kb(own, "VmRSS")
    alive = 1
    for child in descendants(pid):
        try:
            cpu += _stat(child)[1]
            rss += kb(_status(child), "VmRSS")
            alive += 1
        except (OSError, IndexError, ValueError):
            continue
    return ProcStats(cpu, rss, kb(own, "VmHWM"), int(own.get("Threads", "0")), kb(own, "VmRSS"), alive)


class StreamlitServer:
    """``streamlit run serve.py`` (ConvLab's server around ``streamlit_app.py``) on 127.0.0.1, with the repository's .streamlit/config.toml.

    Parameters
    ----------
    port : int
    env : dict, optional
        Extra environment (e.g. ``CONVLAB_TRAINING_SLOTS``).
    args : list of str
        Extra ``--option=value`` flags for ``streamlit run``.
    script : str or Path
        The app to run (ConvLab's entry point unless a test needs another).
    """

    def __init__(
        self,
        port: int,
        *,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        script: str | Path = "serve.py",
        log_path: Path | None = None,
    ) -> None:
        self.port = port
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.args = args or []
        self.script = str(script)
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 90.0) -> StreamlitServer:
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.address=127.0.0.1",
            f"--server.port={self.port}",
            *self.args,
        ]
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode} (see {self.log_path})")
            try:
                if http_request(self.url, "GET", "/_stcore/health", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not answer on {self.url} within {timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM, then SIGKILL after ``timeout``; returns the seconds it took to exit."""
        if self.proc is None:
            return 0.0
        t0 = time.time()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self.proc = None
        return time.time() - t0

    def stats(self) -> ProcStats:
        return proc_stats(self.pid)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
