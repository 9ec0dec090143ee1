"""A real PostgreSQL server and a real Ray head on loopback, for the cluster tests.

:class:`PgServer` runs ``initdb`` and ``postgres`` from ``/usr/lib/postgresql/*/bin`` in a temporary
folder (as the ``postgres`` user when the tests run as root: ``initdb`` refuses root), listening on
127.0.0.1 at a free port with trust authentication; :meth:`PgServer.fresh_url` makes a new empty
database per test. :class:`RayHead` runs ``ray start --head`` on 127.0.0.1 with two CPUs and no
dashboard, its workers finding this repository's code on ``PYTHONPATH``, and without Ray's token
authentication (``RAY_AUTH_MODE=disabled``: Ray turns it on whenever ``~/.ray/auth_token`` exists,
which any local ``ray.init()`` on the machine leaves behind; drivers must then say the same). Where either cannot start,
:func:`skip_reason` says why and the tests are skipped with that reason printed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PgServer:
    """One PostgreSQL server in a temporary folder; stopped (and its folder removed) by :meth:`stop`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="convlab-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def _as_owner(self) -> dict[str, str]:
        """Popen's arguments that run a command as ``postgres`` when the tests run as root."""
        return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}

    def start(self) -> PgServer:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise RuntimeError("psycopg is not installed in this environment (pip install -r requirements-dev.txt)") from None
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (no initdb under /usr/lib/postgresql)")
        data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        log = self.folder / "initdb.log"
        with open(log, "wb") as out:
            done = subprocess.run(
                [str(bindir / "initdb"), "-D", str(data), "-U", "convlab", "--auth=trust", "-E", "UTF8", "--no-sync"],
                stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False, cwd=self.folder, **self._as_owner(),
            )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {log.read_text()[-300:]}")
        self.proc = subprocess.Popen(
            [
                str(bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.folder),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=200",
            ],
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "postgres.log", "wb"), cwd=self.folder, **self._as_owner(),  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.folder / 'postgres.log').read_text()[-300:]}")
            try:
                self._admin("SELECT 1")
                return self
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("postgres did not accept connections within 60 s")

    @property
    def url(self) -> str:
        return f"postgresql://convlab@127.0.0.1:{self.port}/postgres"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql)

    def fresh_url(self) -> str:
        """A new, empty schema on this server (faster than a database), as the URL's search path."""
        name = f"t_{secrets.token_hex(6)}"
        self._admin(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: clients still connected are cut off
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.folder, ignore_errors=True)


class RayHead:
    """``ray start --head`` on 127.0.0.1 with ``cpus`` CPUs; :meth:`stop` ends it."""

    def __init__(self, cpus: int = 2) -> None:
        self.cpus = cpus
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="convlab-ray-"))
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_IMPORT_WARNING": "1", "RAY_AUTH_MODE": "disabled"}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ray(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        ray = str(Path(sys.executable).with_name("ray"))
        return subprocess.run([ray, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> RayHead:
        if not Path(sys.executable).with_name("ray").exists():
            raise RuntimeError("Ray is not installed in this environment (pip install -r requirements-dev.txt)")
        done = self._ray(
            "start", "--head", f"--port={self.port}", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}", "--num-gpus=0",
            "--include-dashboard=false", f"--temp-dir={self.folder}", "--disable-usage-stats",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"ray start failed: {(done.stderr or done.stdout)[-400:]}")
        return self

    def pids(self) -> list[int]:
        """This head's processes (their command lines name its temporary folder) and all below them."""
        from bench.load_protocol import descendants

        mine = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    if str(self.folder).encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                        mine.add(int(entry))
        for pid in list(mine):
            mine.update(descendants(pid))
        return sorted(mine - {os.getpid()})

    def stop(self) -> None:
        """End this head's processes by their ids (never ``ray stop``, which ends every Ray on the machine)."""
        for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
            pids = self.pids()
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait_s
            while pids and time.monotonic() < deadline and self.pids():
                time.sleep(0.2)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_or_skip(service: PgServer | RayHead) -> PgServer | RayHead:
    """``service`` started, or the calling test skipped with the printed reason."""
    import pytest

    try:
        return service.start()
    except Exception as err:
        service.stop()
        print(f"skipped: {type(service).__name__} could not start: {err}")
        pytest.skip(f"{type(service).__name__} could not start: {err}")
        raise  # unreachable
