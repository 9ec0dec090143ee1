"""Faults a classroom server meets, on a real server: tabs closed mid-run, two trainings at once,
downloads that must stay private, and a server restart.

Each test drives browserless sessions (``bench.load_protocol.Session``) and reads what the pages
say, as a learner would; the Training page's "This server trains N run(s) at a time; R running,
W waiting." sentence shows the server-wide slot registry. A session that trains reruns its
fragments on the server's timer, as an open browser tab does (``follow_auto_reruns``): that is the
heartbeat by which the server knows the tab is still open.
"""

from __future__ import annotations

import asyncio
import io
import os
import re

import pytest
import torch

from bench.load_protocol import Session, http_request
from tests.server.conftest import (
    SHAPES,
    run,
    slot_sentence,
    start_server,
    start_training,
    training_processes,
    wait_for_cpu,
    wait_for_slots,
    wait_for_training_processes,
)

pytestmark = pytest.mark.slow


def test_closing_the_tab_mid_training_stops_the_run_and_frees_the_slot(server):
    async def scenario() -> None:
        await wait_for_slots(server.url, "0 running, 0 waiting", 60)
        tab, r = await start_training(server.url, epochs=30)
        tab.follow_auto_reruns()
        assert "1 running" in slot_sentence(r), slot_sentence(r)
        (child,) = await wait_for_training_processes(server.pid, 1)  # the run trains in its own process
        await wait_for_cpu(child, seconds=1.0)  # it is really training now, past its start-up
        await tab.close()  # the laptop lid closes
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await wait_for_slots(server.url, "0 running, 0 waiting", 20)  # 10 s without a heartbeat, checked every 2 s
        assert loop.time() - t0 < 20
        assert training_processes(server.pid) == []  # and that process is gone, not orphaned

    run(scenario())


def test_two_sessions_train_at_once_and_keep_their_own_results(server):
    async def scenario() -> None:
        await wait_for_slots(server.url, "0 running, 0 waiting", 60)
        a, ra = await start_training(server.url, epochs=1, seed=1)
        b, rb = await start_training(server.url, epochs=1, seed=2)
        a.follow_auto_reruns()
        b.follow_auto_reruns()  # b's tab stays open while the test reads a's
        assert "2 running" in slot_sentence(rb), slot_sentence(rb)  # both train at the same time
        results = {}
        for name, s in (("a", a), ("b", b)):
            for _ in range(240):
                r = await s.rerun()
                done = any("Training finished" in t for t in r.texts())
                if done and any(e.kind == "download_button" for e in r.elements):  # the page has caught up
                    results[name] = (s, r)
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError(f"session {name} did not finish")
        (sa, ra), (sb, rb) = results["a"], results["b"]
        # Each page shows its own run: its own history file and its own model download.
        dl_a = {e.proto.label: e.proto for e in ra.elements if e.kind == "download_button"}
        dl_b = {e.proto.label: e.proto for e in rb.elements if e.kind == "download_button"}
        assert {"History (CSV)", "Model (.pt)"} <= set(dl_a) and {"History (CSV)", "Model (.pt)"} <= set(dl_b)
        csv_a = http_request(server.url, "GET", dl_a["History (CSV)"].url)[2]
        csv_b = http_request(server.url, "GET", dl_b["History (CSV)"].url)[2]
        assert csv_a != csv_b  # seeds 1 and 2 give two different runs
        raw = {}
        for name, s, dl in (("a", sa, dl_a), ("b", sb, dl_b)):
            # Fetched at once, as a browser does: Streamlit keeps a made download only until the second sweep of
            # unused files, and each finished script run of any session sweeps (CI once swept a's file while b's
            # was being made, and the address gave a 404 page).
            made = await s.deferred_download(dl["Model (.pt)"].deferred_file_id)
            status, _, raw[name], _ = http_request(server.url, "GET", made.deferred_file.url)
            assert status == 200, (name, status)
        raw_a, raw_b = raw["a"], raw["b"]
        wa = torch.load(io.BytesIO(raw_a), weights_only=True)["state_dict"]
        wb = torch.load(io.BytesIO(raw_b), weights_only=True)["state_dict"]
        assert wa.keys() == wb.keys() and any(not torch.equal(wa[k], wb[k]) for k in wa)
        await sa.close()
        await sb.close()

    run(scenario(), timeout=300)


def test_a_model_download_in_one_session_is_not_visible_to_another(server):
    async def scenario() -> None:
        await wait_for_slots(server.url, "0 running, 0 waiting", 60)
        a, _ = await start_training(server.url, epochs=1, seed=3)
        a.follow_auto_reruns()
        b = Session(server.url)
        b.keep_raw = True
        await b.open("training")
        await b.rerun(tr_source=SHAPES)
        for _ in range(240):
            ra = await a.rerun()
            if any("Training finished" in t for t in ra.texts()):
                break
            await asyncio.sleep(0.5)
        button = next(e.proto for e in ra.elements if e.kind == "download_button" and e.proto.label == "Model (.pt)")
        got = await a.deferred_download(button.deferred_file_id)
        url = got.deferred_file.url
        assert url and http_request(server.url, "GET", url)[0] == 200  # A can download its model
        rb = await b.rerun()  # B's own Training page: no result to keep, no download of A's
        assert not [e for e in rb.elements if e.kind == "download_button"]
        assert not any(button.deferred_file_id.encode() in m or url.encode() in m for m in b.raw)
        # B cannot ask for A's file through A's session id either.
        refused = await b.deferred_download(button.deferred_file_id, session_id=a.session_id)
        assert refused.error_msg and not refused.deferred_file.url
        # And a guessed media address leads nowhere.
        guess = re.sub(r"[0-9a-f]{8}(?=\.pt$)", "00000000", url)
        assert guess == url or http_request(server.url, "GET", guess)[0] == 404
        await a.close()
        await b.close()

    run(scenario(), timeout=300)


def test_a_server_restart_comes_back_clean(tmp_path):
    srv = start_server("restart")
    try:

        async def before() -> str:
            s = Session(srv.url)
            await s.open("kernel_lab")
            r = await s.rerun(kl_stride=3.0)
            assert r.contains("512 x 512 in, 171 x 171 out")
            t, r = await start_training(srv.url, epochs=30)
            t.follow_auto_reruns()
            assert "1 running" in slot_sentence(r)
            old = s.session_id
            trainers = await wait_for_training_processes(srv.pid, 1)
            assert len(trainers) == 1
            # the server goes down while one session trains and another sits on the Kernel Lab
            down_s = await asyncio.to_thread(srv.stop)
            assert down_s < 15, f"the server took {down_s:.0f} s to stop"
            assert await s.wait_closed(10) is not None and await t.wait_closed(10) is not None
            for _ in range(40):  # the training process notices its server is gone and ends
                if not any(os.path.exists(f"/proc/{pid}") for pid in trainers):
                    break
                await asyncio.sleep(0.25)
            assert not any(os.path.exists(f"/proc/{pid}") for pid in trainers), "a training process outlived the server"
            return old

        old_session = run(before())
        srv.start()

        async def after() -> None:
            s = Session(srv.url)
            await s.fetch_cookies()
            await s.connect(existing_session=old_session)  # a reopened tab asks for its old session back
            r = await s.rerun(page="kernel_lab")
            assert s.session_id != old_session
            assert r.status == "ok" and not r.exceptions
            assert r.contains("512 x 512 in, 512 x 512 out")  # a clean start: stride back to 1
            r = await s.rerun(page="training")
            assert "0 running, 0 waiting" in slot_sentence(r)  # no run survived, no slot is held
            assert any("Press **Start training**" in t for t in r.texts())
            await s.close()

        run(after())
    finally:
        srv.stop()
