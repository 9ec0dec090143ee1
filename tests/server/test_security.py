"""Security of a hosted ConvLab, tried against a real server the way an attacker would.

A crafted client can skip everything the browser enforces, so each check here goes around the
browser: a websocket from another site, an upload without (or with a forged) XSRF token, an
upload over the size cap or into a session that is not yours, widget values a browser would
never send, garbage frames; and, with the hosting config, an error in a script shows no path and
no traceback.
"""

from __future__ import annotations

import asyncio
import io
import textwrap

import numpy as np
import pytest
from PIL import Image
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import InvalidStatus

from bench.load_protocol import ROOT, Session, http_request, multipart
from tests.server.conftest import run, start_server


def png(h: int, w: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "null", "http://127.0.0.1.evil.example:{port}", "https://localhost.evil.example"],
)
def test_a_websocket_from_another_site_is_refused(server, origin):
    async def scenario() -> None:
        s = Session(server.url, origin=origin.format(port=server.port))
        await s.fetch_cookies()
        with pytest.raises(InvalidStatus) as refused:
            await s.connect()
        assert refused.value.response.status_code == 403
        same = Session(server.url)  # the page's own origin, as a browser sends it: accepted
        r = await same.open("kernel_lab")
        await same.close()
        assert r.status == "ok" and not r.exceptions

    run(scenario())


def test_an_upload_needs_the_xsrf_token_of_its_own_browser(server):
    async def scenario() -> None:
        s = Session(server.url)
        await s.open("kernel_lab")
        data = png(32, 48)
        status, _ = await s.put_file("a.png", data, "image/png", xsrf=False)
        assert status == 403  # no X-Xsrftoken header: refused
        other = Session(server.url)  # a well-formed token, but another browser's: a forgery
        await other.fetch_cookies()
        urls = await s.request_file_urls("b.png")
        body, ctype = multipart("b.png", data, "image/png")
        headers = {"Content-Type": ctype, "X-Xsrftoken": other.xsrf or "", "Origin": server.url}
        status = http_request(server.url, "PUT", urls.upload_url, body=body, headers=headers, cookies=s.cookies)[0]
        assert status == 403
        # With its own token the same upload goes through, and the page uses the photo.
        await s.rerun(kl_source="Upload")
        r = await s.upload("kl_upload", "ok.png", data, "image/png")
        assert r.contains("Output size: 32 x 48 in"), r.texts("expander")
        await s.close()

    run(scenario())


def test_uploads_over_the_server_cap_or_into_another_session_are_refused(server):
    async def scenario() -> None:
        s = Session(server.url)
        await s.open("kernel_lab")
        urls = await s.request_file_urls("big.png")
        body, ctype = multipart("big.png", b"\0" * (26 * 1024 * 1024), "image/png")  # maxUploadSize is 25 MB
        headers = {"Content-Type": ctype, "X-Xsrftoken": s.xsrf}
        status = await asyncio.to_thread(
            http_request, server.url, "PUT", urls.upload_url, body=body, headers=headers, cookies=s.cookies
        )
        assert status[0] == 413
        body, ctype = multipart("x.png", png(4, 4), "image/png")
        headers["Content-Type"] = ctype
        made_up = "/_stcore/upload_file/00000000-0000-4000-8000-000000000000/f1"
        assert http_request(server.url, "PUT", made_up, body=body, headers=headers, cookies=s.cookies)[0] == 400
        await s.close()

    run(scenario())


def test_a_file_of_a_refused_type_harms_only_the_session_that_sent_it(server):
    """A browser only offers the listed types; a crafted client sends an .exe anyway.

    Streamlit refuses it while restoring that session's widgets, before any app code runs (so
    the app cannot catch it): that one session shows Streamlit's generic error (no path, no
    traceback) until it reloads; every other session goes on as before.
    """

    async def scenario() -> None:
        other = Session(server.url)
        await other.open("kernel_lab")
        s = Session(server.url)
        await s.open("kernel_lab")
        await s.rerun(kl_source="Upload")
        r = await s.upload("kl_upload", "evil.exe", b"MZ" + bytes(100), "application/octet-stream")
        assert r.exceptions and all(".exe" not in e.message and "/" not in e.message for e in r.exceptions)
        r = await other.rerun(kl_stride=2.0)
        assert not r.exceptions and r.contains("512 x 512 in, 256 x 256 out")
        await s.close()
        again = Session(server.url)  # the crafted tab reloads: a fresh, working session
        r = await again.open("kernel_lab")
        assert not r.exceptions and r.contains("512 x 512 in, 512 x 512 out")
        await again.close()
        await other.close()

    run(scenario())


def test_widget_values_no_browser_would_send_are_reset_not_obeyed(server):
    """Out-of-range numbers, unknown options and paths in place of a sample name."""

    async def scenario() -> None:
        s = Session(server.url)
        s.keep_raw = True
        await s.open("kernel_lab")
        r = await s.rerun(
            kl_stride=0.0,
            kl_dilation=1e9,
            kl_custom_padding=-5.0,
            kl_preset="../../../etc/passwd",
            kl_sample="/etc/passwd",
            kl_padding="custom",
        )
        assert r.status == "ok" and not r.exceptions
        assert r.contains("Output size: 512 x 512 in")  # Cameraman, stride 1: the defaults came back
        assert not any("passwd" in t for t in r.texts())
        s.values.clear()
        r = await s.rerun(page="arithmetic")
        marker = ROOT / "out" / "server_tests" / "pwned"
        code = f"__import__('pathlib').Path('{marker}').touch()"
        r = await s.rerun(ar_w_sh=-3.0, ar_w_op="__import__('os')", ar_w_x=code)
        assert r.status == "ok" and not r.exceptions
        refused = f"The input holds \"{code}\" at row 0, column 0 (counting from 0), which is not a finite number."
        assert refused in r.texts("alert"), r.texts("alert")  # read as text, refused
        assert not marker.exists()  # and never run
        leaked = [m for m in s.raw if b"/etc/passwd" in m or b"Traceback" in m]
        assert not leaked
        await s.close()

    run(scenario())


def test_garbage_frames_close_the_connection_without_a_traceback(server):
    async def scenario() -> None:
        s = Session(server.url)
        s.keep_raw = True
        await s.open("home")
        before = len(s.raw)
        await s.send_raw(b"\xff\x00 not a protobuf \x13\x37" * 10)
        assert await s.wait_closed(10) == 1002  # protocol error
        assert len(s.raw) == before  # nothing was sent back, no traceback
        t = Session(server.url)
        await t.fetch_cookies()
        await t.connect()
        await t.send_raw("a text frame")
        assert await t.wait_closed(10) is not None
        ok = Session(server.url)  # the server itself carries on
        r = await ok.open("kernel_lab")
        await ok.close()
        assert r.status == "ok"

    run(scenario())


def test_an_error_in_a_hosted_script_shows_no_path_and_no_traceback(tmp_path):
    """client.showErrorDetails = "none" (the hosting config) hides what an exception carries."""
    script = tmp_path / "boom.py"
    secret = str(ROOT / "cnn_core" / "secret_module.py")
    script.write_text(
        textwrap.dedent(
            f"""
            import streamlit as st
            st.write("before the error")
            raise RuntimeError("cannot open {secret}")
            """
        )
    )
    srv = start_server("hidden_errors", script=script)
    try:

        async def scenario() -> list[ForwardMsg]:
            s = Session(srv.url)
            s.keep_raw = True
            r = await s.open()
            await s.close()
            assert r.exceptions, "the script's error should still be reported, without details"
            return s.raw

        raw = run(scenario())
    finally:
        srv.stop()
    deltas = []
    for blob in raw:
        msg = ForwardMsg()
        msg.ParseFromString(blob)
        if msg.WhichOneof("type") == "delta":
            deltas.append(msg.delta.SerializeToString())
    text = b"\n".join(deltas)
    assert b"before the error" in text
    for word in (secret.encode(), str(ROOT).encode(), b"Traceback", b"boom.py", b"line 4"):
        assert word not in text, word


def test_the_hosting_config_reaches_every_browser(server):
    """The new-session message carries the client settings: viewer toolbar, no usage statistics."""

    async def scenario() -> ForwardMsg:
        s = Session(server.url)
        s.keep_raw = True
        await s.open("home")
        await s.close()
        for blob in s.raw:
            msg = ForwardMsg()
            msg.ParseFromString(blob)
            if msg.WhichOneof("type") == "new_session":
                return msg
        raise AssertionError("no new_session message")

    msg = run(scenario())
    cfg = msg.new_session.config
    assert cfg.toolbar_mode == type(cfg).ToolbarMode.Value("VIEWER")
    assert not cfg.gather_usage_stats
    assert not cfg.allow_run_on_save
    env = msg.new_session.initialize.environment_info
    assert env.streamlit_version  # sanity: the message was parsed
