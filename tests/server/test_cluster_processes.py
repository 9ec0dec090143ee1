"""Two ConvLab processes as two machines: one PostgreSQL workspace store, trainings on one Ray head.

Each server has its own ``CONVLAB_STATE_DIR`` (nothing shared on disk), ``CONVLAB_DATABASE_URL`` on a
real PostgreSQL server on loopback and ``CONVLAB_RAY_ADDRESS`` on a real Ray head on 127.0.0.1. A
student trains through the first process (the run goes to a Ray actor); the same browser, served by
the second process, finds the run and its trained model, read from the database. Skipped with the
reason printed where PostgreSQL or Ray cannot start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from app.workspace import WorkspaceStore
from bench.load_protocol import Session
from tests.server.conftest import SHAPES, run, start_server
from tests.server.services import PgServer, RayHead, start_or_skip

pytestmark = pytest.mark.slow

WS = "cluster-workspace-000000001"


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[PgServer, RayHead]]:
    pg = start_or_skip(PgServer())
    try:
        head = start_or_skip(RayHead(cpus=2))
    except BaseException:
        pg.stop()
        raise
    yield pg, head  # type: ignore[misc]
    head.stop()
    pg.stop()


def session(url: str) -> Session:
    s = Session(url)
    s.cookies["convlab_workspace"] = WS
    return s


def test_a_model_trained_on_ray_through_one_process_is_seen_through_the_other(services, tmp_path) -> None:  # noqa: ANN001
    pg, head = services
    url = pg.fresh_url()
    common = {"CONVLAB_DATABASE_URL": url, "CONVLAB_RAY_ADDRESS": head.address, "CONVLAB_RAY_CPUS_PER_RUN": "1", "RAY_AUTH_MODE": "disabled"}
    first = start_server("cluster-first", env={**common, "CONVLAB_STATE_DIR": str(tmp_path / "a")})
    second = start_server("cluster-second", env={**common, "CONVLAB_STATE_DIR": str(tmp_path / "b")})
    store = WorkspaceStore(tmp_path / "here", database_url=url)
    try:

        async def scenario() -> None:
            s = session(first.url)
            await s.open("training")
            await s.rerun(tr_source=SHAPES)
            await s.rerun(tr_epochs=1.0, tr_seed=0.0)
            r = await s.rerun(tr_start=True)
            assert not r.exceptions, r.exceptions
            deadline = time.monotonic() + 180
            while not any(x.status == "finished" and x.has_model for x in store.runs(WS)):
                assert time.monotonic() < deadline, [(x.status, x.summary) for x in store.runs(WS)]
                await s.rerun()  # the page's heartbeat, as the open tab's fragments give it
                await asyncio.sleep(1.0)
            await s.close()

            again = session(second.url)  # the same browser, served by the other machine
            r = await again.open("training")
            await again.close()
            assert not r.exceptions, r.exceptions
            assert r.contains("Your runs (1 kept in your workspace)"), r.texts()
            assert not r.contains("no longer on the server"), r.texts()

        run(scenario(), timeout=300)
        assert not (tmp_path / "a" / "models").exists() and not (tmp_path / "b" / "models").exists()
    finally:
        first.stop()
        second.stop()
