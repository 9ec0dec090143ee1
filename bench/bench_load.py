"""Classroom load: N browserless sessions on one ConvLab server, with trainings running.

Starts its own ``streamlit run`` on 127.0.0.1 (port 8641-8649; the repository's
``.streamlit/config.toml`` applies), then for each N in ``--levels`` (default 1, 10, 30, 100):

1. two sessions (``--trainings``) open the Training page and press **Start training** (the
   bundled MNIST subset, 50 epochs so they train all through the level), and keep rerunning the
   live fragments every second as an open browser tab does (not at N=1: that level is the
   quiet baseline);
2. N student sessions join over ``--ramp`` seconds; each opens the Kernel Lab, makes
   ``--reruns`` widget changes (kernel preset, stride, padding, dilation) with a think time of
   ``--think`` seconds between them, every 5th student also uploads a 256x256 PNG, then each
   goes to the Arithmetic page and clicks **Next** once; then it stays connected, idle. Like an
   open browser tab, each student reruns any fragment on its timer and GETs the sidebar classroom
   box's watch address every 3 s (``app/server/class_watch.py``: what its component does; a failed
   ask is an error, and the asks' latency is printed under the level). Every level runs this same
   script, 100 sessions included;
3. each trainer's page is read for how far its run got (printed under the level: training runs
   at a lower priority, and this shows it was not starved); the trainers' tabs close (the
   watchdog must stop their runs and free the slots), the server's
   memory with N idle sessions is read, the students close, and after the disconnected-session
   TTL the memory is read again.

Before the levels, right after a warm-up and with no training anywhere, the largest N sessions
open the Kernel Lab and sit idle: the memory they add, divided by N, is ``mb_per_idle_session``;
the memory after they close and expire shows whether it returns to where it was.

"Rerun latency" is the time from sending a rerun (a widget change, exactly what the browser
sends) to receiving ``script_finished``. An error is any run that raised in the script, did not
finish within ``--op-timeout`` seconds, or a websocket or upload the server refused; a session
still waiting for the server when the level's ``--level-timeout`` cap comes is counted apart, as
unfinished. CPU and memory
come from /proc for the server and every process it started (the fork server and the training
processes, whose RSS is summed: an upper bound, since they share pages); 100 % CPU = one core busy. The load client runs on the same
machine as the server, so on a 2-core box the two compete; numbers are an upper bound on what
a class would see from a server of its own.

Usage::

    .venv/bin/python -m bench.bench_load                    # 1, 10, 30, 100 sessions (~9 min)
    .venv/bin/python -m bench.bench_load --levels 1,10      # quick look (~1 min)

The last line reads ``p95_s_30=<s> errors_100=<n> mb_per_idle_session=<MB> ...``.

``--compare-proxy`` (scale-out, issue #16) runs one level (``--levels``' largest N, 100 by default)
twice in the same run, with the trainings on a local Ray head (``ray start --head``, 2 CPUs, its
own temporary folder, ended by process id): first on one ConvLab process, then on two behind
nginx with sticky sessions (the config of docs/HOSTING.md); both share one SQLite state folder.
It prints each setup's row, the Ray head's memory, and ``p95_s_one=... p95_s_two=...
errors_one=... errors_two=... mb_one=... mb_two=...`` (MB: every app process and its children
at the level's peak)::

    nice -n 5 .venv/bin/python -m bench.bench_load --compare-proxy    # ~10 min on 2 cores
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import json
import os
import platform
import random
import time
from dataclasses import dataclass, field

import numpy as np
import streamlit
from PIL import Image

from bench.load_protocol import ROOT, ProtocolError, RunResult, Session, StreamlitServer, free_port

KL_CHANGES = [
    {"kl_preset": "Gaussian blur 5x5"},
    {"kl_stride": 2.0},
    {"kl_preset": "Sobel magnitude"},
    {"kl_padding": "valid"},
    {"kl_dilation": 2.0},
    {"kl_preset": "Sharpen"},
    {"kl_stride": 1.0},
    {"kl_preset": "Emboss"},
]
TTL_S = 5  # server.disconnectedSessionTTL for the bench (a class keeps Streamlit's 120 s)


@dataclass
class Level:
    n: int
    trainings: int
    reruns: int
    first: list[float] = field(default_factory=list)  # first page load (connect + run)
    kl: list[float] = field(default_factory=list)  # Kernel Lab widget changes
    upload: list[float] = field(default_factory=list)  # upload + rerun
    ar: list[float] = field(default_factory=list)  # Arithmetic: page switch and Next
    watch: list[float] = field(default_factory=list)  # the classroom box's asks of its watch address (s)
    watch_failed: list[int] = field(default_factory=list)  # their non-200 statuses (-1: no answer)
    errors: collections.Counter = field(default_factory=collections.Counter)
    unfinished: int = 0  # sessions still waiting for the server when the level's time cap came
    wall_s: float = 0.0
    cpu_pct: float = 0.0
    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_idle: float = 0.0
    rss_after_close: float = 0.0
    slot_freed_s: float | None = None
    training_state: str = "-"  # the Training page's slot sentence just before the trainers close
    training_progress: list[str] = field(default_factory=list)  # each trainer's progress line then
    timed_out: bool = False


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def sample_png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = (rng.random((256, 256, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def record(level: Level, bucket: list[float], r: RunResult, what: str) -> None:
    if r.exceptions:
        level.errors[f"{what}: exception in the script ({r.exceptions[0].type})"] += 1
    elif r.status != "ok":
        level.errors[f"{what}: run finished {r.status}"] += 1
    else:
        bucket.append(r.latency_s)


async def student(i: int, url: str, level: Level, args: argparse.Namespace, rng: random.Random) -> Session | None:
    await asyncio.sleep(rng.uniform(0, args.ramp if level.n > 1 else 0))
    s = Session(url)
    think = lambda: asyncio.sleep(rng.uniform(*args.think))  # noqa: E731
    step = "connect"
    try:
        step = "open Kernel Lab"
        first = await s.open("kernel_lab", timeout=args.op_timeout)
        record(level, level.first, first, step)
        if not args.no_fragments:  # as an open tab: fragments rerun on their timers, the classroom box asks
            s.follow_auto_reruns()  # its watch address every 3 s (app/server/class_watch.py)
            s.follow_watch(first, level.watch, level.watch_failed)
        for j in range(level.reruns):
            await think()
            step = "Kernel Lab change"
            change = KL_CHANGES[(i + j) % len(KL_CHANGES)]
            record(level, level.kl, await s.rerun(timeout=args.op_timeout, **change), step)
        if i % 5 == 0:
            await think()
            step = "upload"
            await s.rerun(timeout=args.op_timeout, kl_source="Upload")
            r = await s.upload("kl_upload", f"photo{i}.png", sample_png(i), "image/png", timeout=args.op_timeout)
            record(level, level.upload, r, step)
            if not r.contains("Output size: 256 x 256 in"):
                level.errors["upload: the page did not show the uploaded photo"] += 1
        await think()
        step = "open Arithmetic"
        s.values.clear()  # the browser forgets the last page's widgets
        record(level, level.ar, await s.rerun(page="arithmetic", timeout=args.op_timeout), step)
        await think()
        step = "Arithmetic Next"  # the stepper draws step 2 in the browser, then reports it: a whole run here,
        # an upper bound (the browser's report reruns only the step fragment)
        report = json.dumps({"step": [1, 1]})
        record(level, level.ar, await s.rerun(ar_stepper=report, timeout=args.op_timeout), step)
        return s
    except (ProtocolError, OSError, TimeoutError) as err:
        level.errors[f"{step}: {type(err).__name__}: {str(err)[:70]}"] += 1
    except Exception as err:  # count anything else too: the bench must not die mid-level
        level.errors[f"{step}: {type(err).__name__}: {str(err)[:70]}"] += 1
    await s.close()
    return None


async def trainer(url: str, args: argparse.Namespace) -> Session:
    s = Session(url)
    opened = await s.open("training", timeout=args.op_timeout)
    await s.rerun(tr_epochs=50.0, timeout=args.op_timeout)
    r = await s.rerun(tr_start=True, timeout=args.op_timeout)
    if not any("1 running" in t or "2 running" in t or "waiting" in t for t in r.texts()):
        raise ProtocolError("the training run did not start: " + " | ".join(r.texts("markdown"))[:200])
    if not args.no_fragments:
        s.follow_auto_reruns()
        s.follow_watch(opened, [], [])  # its sidebar's classroom box asks too (not counted: the students' are)
    return s


async def slots_state(url: str, timeout: float) -> str:
    """The Training page's 'This server trains ...' sentence, read by a fresh session."""
    s = Session(url)
    try:
        r = await s.open("training", timeout=timeout)
        return next((t for t in r.texts() if "This server trains" in t), "?")
    finally:
        await s.close()


async def wait_slots_free(url: str, timeout: float) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        state = await slots_state(url, 60)
        if "0 running, 0 waiting" in state:
            return time.perf_counter() - t0
        await asyncio.sleep(1)
    return None


async def run_level(
    server: StreamlitServer, n: int, args: argparse.Namespace, baseline: float, train_url: str
) -> Level:
    trainings = args.trainings if n > 1 else 0
    level = Level(n=n, trainings=trainings, reruns=args.reruns, rss_before=baseline)
    rng = random.Random(n)
    stats0, t0 = server.stats(), time.perf_counter()
    peak = [stats0.rss_mb]

    async def sampler() -> None:
        while True:
            peak.append(server.stats().rss_mb)
            await asyncio.sleep(0.5)

    sample_task = asyncio.create_task(sampler())
    trainers: list[Session] = []
    for _ in range(trainings):
        try:
            trainers.append(await trainer(train_url, args))
        except Exception as err:
            level.errors[f"start training: {type(err).__name__}: {str(err)[:70]}"] += 1
    tasks = [asyncio.create_task(student(i, server.url, level, args, rng)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=args.level_timeout)
    for t in pending:  # not an error the server made: it had not got to them yet
        t.cancel()
        level.unfinished += 1
        level.timed_out = True
    students = [t.result() for t in done if t.result() is not None]
    level.wall_s = time.perf_counter() - t0
    for status, count in collections.Counter(level.watch_failed).items():
        level.errors[f"classroom watch address: HTTP {status}"] += count
    stats1 = server.stats()
    level.cpu_pct = 100 * (stats1.cpu_s - stats0.cpu_s) / level.wall_s

    # The trainers' tabs close: the watchdog must stop their runs and free the slots.
    if trainers:
        level.training_state = (await slots_state(train_url, 60)).replace("This server trains ", "")
        for s in trainers:  # how far each run got while the students clicked (its page's progress line)
            r = await s.rerun(timeout=60)
            line = next((t for t in r.texts() if "images/s" in t or "Ended after" in t), "no progress shown")
            level.training_progress.append(line)
    for s in trainers:
        await s.close()
    if trainers:
        level.slot_freed_s = await wait_slots_free(train_url, 30)
    await asyncio.sleep(2)
    level.rss_idle = server.stats().rss_mb  # N students connected and idle
    sample_task.cancel()
    level.rss_peak = max(peak)
    for s in students:
        await s.close()
    await asyncio.sleep(TTL_S + 2)
    await slots_state(server.url, 60)  # one more session: expired sessions and orphaned files are swept
    await asyncio.sleep(2)
    level.rss_after_close = server.stats().rss_mb
    return level


async def idle_phase(server: StreamlitServer, n: int) -> tuple[float, float, float, int, float]:
    """Memory of N sessions that opened the Kernel Lab and sit idle (no training anywhere).

    Returns (RSS before, RSS with the N sessions open, RSS after they closed and expired, errors,
    seconds from closing until the memory was back within 10 % of what they added + 30 MB, or 60).
    """
    before = server.stats().rss_mb
    gate = asyncio.Semaphore(10)
    errors = 0

    async def one() -> Session | None:
        nonlocal errors
        async with gate:
            s = Session(server.url)
            try:
                r = await s.open("kernel_lab", timeout=120)
                if r.exceptions or r.status != "ok":
                    errors += 1
                return s
            except Exception:
                errors += 1
                await s.close()
                return None

    sessions = [s for s in await asyncio.gather(*(one() for _ in range(n))) if s is not None]
    await asyncio.sleep(3)
    open_rss = server.stats().rss_mb
    for s in sessions:
        await s.close()
    after, t0 = open_rss, time.perf_counter()
    await asyncio.sleep(TTL_S + 1)
    while time.perf_counter() - t0 < 60:  # sessions expire after the TTL; poll until the memory is back
        await slots_state(server.url, 60)  # a new session sweeps the expired ones
        await asyncio.sleep(3)
        after = server.stats().rss_mb
        if after - before < 0.1 * (open_rss - before) + 30:
            break
    return before, open_rss, after, errors, time.perf_counter() - t0


def row(level: Level) -> str:
    e = sum(level.errors.values())
    freed = "-" if level.slot_freed_s is None else f"{level.slot_freed_s:.1f}s"
    return (
        f"{level.n:>4} {level.trainings:>5} | "
        f"{pct(level.first, 50):6.2f} {pct(level.first, 95):6.2f} | "
        f"{pct(level.kl, 50):6.2f} {pct(level.kl, 95):6.2f} {len(level.kl):>4} | "
        f"{pct(level.upload, 50):6.2f} {pct(level.ar, 50):6.2f} {pct(level.ar, 95):6.2f} | "
        f"{e:>4} {level.unfinished:>4} | {level.cpu_pct:5.0f}% | {level.rss_before:6.0f} {level.rss_peak:6.0f} {level.rss_idle:6.0f} "
        f"{level.rss_after_close:6.0f} | {freed:>6} {level.wall_s:6.0f}s"
    )


HEADER = (
    "   N train | first load s | Kernel Lab rerun s  | upl s  Arithmetic s  | errs unfin |  CPU  | "
    "RSS MB (server + training): before  peak  idle  closed | slots  wall\n"
    "          |  p50    p95  |  p50    p95    runs |  p50    p50    p95  |    (at cap) |       |"
    "                            (idle = N sessions open, no training)  |  freed"
)


async def main_async(args: argparse.Namespace) -> int:
    port = free_port(range(8641, 8650))
    log = ROOT / "out" / "bench_load_server.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        "CONVLAB_TRAINING_SLOTS": str(args.slots or max(args.trainings, 1)),
        "CONVLAB_TORCH_THREADS": "1",
        "CONVLAB_SESSION_GRACE_S": "10",  # trainers' tabs close between levels: free their slots quickly
        "MALLOC_ARENA_MAX": "2",  # as scripts/serve_class.sh: fewer malloc arenas, less RSS growth
    }
    server = StreamlitServer(port, env=env, args=[f"--server.disconnectedSessionTTL={TTL_S}"], log_path=log)
    print(
        f"bench_load: python {platform.python_version()}, streamlit {streamlit.__version__}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"server 127.0.0.1:{port}, training slots {env['CONVLAB_TRAINING_SLOTS']}, 1 torch thread per run, session TTL {TTL_S} s; "
        f"each student: open Kernel Lab, {args.reruns} changes, think {args.think[0]:g}-{args.think[1]:g} s, "
        "every 5th uploads a PNG, then Arithmetic + Next; "
        "the load client shares the machine"
        + ("; trainer tabs do NOT rerun their fragments" if args.no_fragments else "")
    )
    t_start = time.perf_counter()
    server.start()
    trainer_server = None
    if args.separate_training_process:  # diagnostic: the trainings run in a second ConvLab process
        trainer_server = StreamlitServer(
            free_port(range(8641, 8650), exclude={port}),
            env=env,
            args=[f"--server.disconnectedSessionTTL={TTL_S}"],
            log_path=log,
        ).start()
        print(f"trainings run in a second ConvLab process on port {trainer_server.port} (students on {port})")
    train_url = trainer_server.url if trainer_server else server.url
    levels: list[Level] = []
    try:
        warm = Session(server.url)  # fill the shared caches once (datasets, decoded photos)
        for page in ("kernel_lab", "arithmetic", "training"):
            await (warm.open(page) if page == "kernel_lab" else warm.rerun(page=page))
        await warm.close()
        await asyncio.sleep(TTL_S + 2)
        await slots_state(server.url, 60)
        await asyncio.sleep(1)
        baseline = server.stats().rss_mb
        print(f"baseline RSS after warm-up: {baseline:.0f} MB; startup + warm-up {time.perf_counter() - t_start:.0f} s")
        biggest_n = max(args.levels)
        idle_before, idle_open, idle_after, idle_errors, idle_back_s = await idle_phase(server, biggest_n)
        per_idle = (idle_open - idle_before) / biggest_n
        print(
            f"idle sessions (no training): {biggest_n} sessions opened the Kernel Lab and sat idle: RSS "
            f"{idle_before:.0f} -> {idle_open:.0f} MB = {per_idle:.2f} MB per session; {idle_back_s:.0f} s after "
            f"they closed: {idle_after:.0f} MB ({idle_after - idle_before:+.0f} MB); errors {idle_errors}"
        )
        print(HEADER)
        for n in args.levels:
            level = await run_level(server, n, args, server.stats().rss_mb, train_url)
            levels.append(level)
            print(row(level), flush=True)
            if level.watch:
                print(
                    f"      classroom watch asks: {len(level.watch)}, p50 {1000 * pct(level.watch, 50):.0f} ms, "
                    f"p95 {1000 * pct(level.watch, 95):.0f} ms, failed {len(level.watch_failed)}"
                )
            if level.trainings:
                print(f"      trainings at the end of the level: {level.training_state}")
                for line in level.training_progress:
                    print(f"        {line}")
            for what, count in level.errors.most_common(5):
                print(f"      error x{count}: {what}")
        final = server.stats()
    finally:
        server.stop()
        if trainer_server is not None:
            trainer_server.stop()
    by_n = {lv.n: lv for lv in levels}
    print(
        f"memory: peak {max(lv.rss_peak for lv in levels):.0f} MB; after every level closed: "
        + ", ".join(f"N={lv.n}: {lv.rss_after_close - baseline:+.0f} MB" for lv in levels)
        + f" vs the {baseline:.0f} MB baseline; server threads at the end {final.threads}"
    )
    print(f"total {time.perf_counter() - t_start:.0f} s")
    figures = {
        "p95_s_30": f"{pct(by_n[30].kl, 95):.2f}" if 30 in by_n else "nan",
        "errors_100": str(sum(by_n[100].errors.values())) if 100 in by_n else "nan",
        "mb_per_idle_session": f"{per_idle:.2f}",
    }
    for lv in levels:
        figures[f"p50_s_{lv.n}"] = f"{pct(lv.kl, 50):.2f}"
        figures[f"p95_s_{lv.n}"] = f"{pct(lv.kl, 95):.2f}"
        figures[f"errors_{lv.n}"] = str(sum(lv.errors.values()))
        figures[f"unfinished_{lv.n}"] = str(lv.unfinished)
        figures[f"mb_after_close_{lv.n}"] = f"{lv.rss_after_close - baseline:+.0f}"
    figures["mb_idle_after_close"] = f"{idle_after - idle_before:+.0f}"
    figures["peak_rss_mb"] = f"{max(lv.rss_peak for lv in levels):.0f}"
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


class Front:
    """Several ConvLab processes behind one address, measured together (``url`` is nginx's)."""

    def __init__(self, servers: list[StreamlitServer], url: str) -> None:
        self.servers, self.url = servers, url

    def stats(self):  # noqa: ANN201 - a ProcStats summed over the processes
        from dataclasses import replace

        each = [s.stats() for s in self.servers]
        return replace(each[0], cpu_s=sum(x.cpu_s for x in each), rss_mb=sum(x.rss_mb for x in each), threads=sum(x.threads for x in each))


def start_nginx(folder, upstreams: list[int]):  # noqa: ANN001, ANN201 - (Popen, url)
    """nginx with docs/HOSTING.md's sticky config in front of ``upstreams`` (as tests/server/test_proxy.py)."""
    import re
    import shutil
    import subprocess

    text = re.search(r"```nginx\n(.*?)```", (ROOT / "docs" / "HOSTING.md").read_text(), re.S).group(1)  # type: ignore[union-attr]
    listen = free_port(range(8630, 8640))
    text = text.replace("    server 127.0.0.1:8501;\n    server 127.0.0.1:8502;\n", "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams))
    text = text.replace("listen 80;", f"listen 127.0.0.1:{listen};").replace("/var/log/nginx/convlab_access.log", f"{folder}/access.log")
    temp = "".join(f"    {k}_temp_path {folder}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(
        f"daemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\nworker_processes 1;\n"
        "events { worker_connections 4096; }\nhttp {\n" + temp + text + "}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return proc, f"http://127.0.0.1:{listen}"


async def compare_proxy(args: argparse.Namespace) -> int:
    """One process vs two behind nginx at N sessions, trainings on a local Ray head, in one run."""
    import tempfile
    from pathlib import Path

    from tests.server.services import RayHead

    n = max(args.levels)
    folder = Path(tempfile.mkdtemp(prefix="convlab-bench-cluster-"))
    folder.chmod(0o755)  # nginx's workers (not root) write uploads to their temp folders in it
    head = RayHead(cpus=2).start()
    log = ROOT / "out" / "bench_load_cluster.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        "CONVLAB_TRAINING_SLOTS": str(max(args.trainings, 1)), "CONVLAB_TORCH_THREADS": "1", "CONVLAB_SESSION_GRACE_S": "10",
        "MALLOC_ARENA_MAX": "2", "CONVLAB_STATE_DIR": str(folder / "state"), "CONVLAB_RAY_ADDRESS": head.address,
        "CONVLAB_RAY_CPUS_PER_RUN": "1", "RAY_AUTH_MODE": "disabled",
    }  # fmt: skip
    print(
        f"bench_load --compare-proxy: {n} sessions, {args.trainings} trainings on a Ray head ({head.address}, 2 CPUs), "
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(HEADER)
    results: dict[str, tuple[Level, float]] = {}
    try:
        for name, count in (("one", 1), ("two", 2)):
            ports: list[int] = []
            for _ in range(count):
                ports.append(free_port(range(8641, 8650), exclude=set(ports)))
            servers = [StreamlitServer(p, env=env, args=[f"--server.disconnectedSessionTTL={TTL_S}"], log_path=log).start() for p in ports]
            proxy = None
            try:
                for srv in servers:  # fill each process's caches once
                    warm = Session(srv.url)
                    for page in ("kernel_lab", "arithmetic", "training"):
                        await (warm.open(page) if page == "kernel_lab" else warm.rerun(page=page))
                    await warm.close()
                url = servers[0].url
                if count > 1:
                    proxy, url = start_nginx(folder, ports)
                front = Front(servers, url)
                level = await run_level(front, n, args, front.stats().rss_mb, url)  # type: ignore[arg-type]
                ray_mb = sum(_rss_mb(pid) for pid in head.pids())
                results[name] = (level, ray_mb)
                print(f"{row(level)}   <- {name} process{'es behind nginx' if count > 1 else ''}; Ray head + workers {ray_mb:.0f} MB")
                for what, c in level.errors.most_common(3):
                    print(f"      error x{c}: {what}")
            finally:
                if proxy is not None:
                    proxy.terminate()
                    proxy.wait(10)
                for srv in servers:
                    srv.stop()
    finally:
        head.stop()
    figures = {}
    for name, (level, ray_mb) in results.items():
        figures[f"p95_s_{name}"] = f"{pct(level.kl, 95):.2f}"
        figures[f"p50_s_{name}"] = f"{pct(level.kl, 50):.2f}"
        figures[f"errors_{name}"] = str(sum(level.errors.values()))
        figures[f"unfinished_{name}"] = str(level.unfinished)
        figures[f"mb_{name}"] = f"{level.rss_peak:.0f}"
        figures[f"ray_mb_{name}"] = f"{ray_mb:.0f}"
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


def _rss_mb(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):  # noqa: SIM115
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", default="1,10,30,100", help="session counts, comma-separated")
    p.add_argument("--reruns", type=int, default=3, help="Kernel Lab widget changes per student")
    p.add_argument("--think", default="1,3", help="think time between actions, min,max seconds")
    p.add_argument("--ramp", type=float, default=5.0, help="students join over this many seconds")
    p.add_argument("--trainings", type=int, default=2, help="training runs during each level (N > 1)")
    p.add_argument("--slots", type=int, default=None, help="CONVLAB_TRAINING_SLOTS (default: --trainings)")
    p.add_argument(
        "--separate-training-process",
        action="store_true",
        help="diagnostic: the trainers use a second ConvLab process (as behind the nginx proxy), not the students'",
    )
    p.add_argument(
        "--no-fragments",
        action="store_true",
        help="diagnostic: no tab reruns its fragments or asks the classroom watch address (students' sidebar classroom "
        "box, trainers' live panels; as if frozen: with no heartbeat, the server stops the trainers' runs after about 10 s)",
    )
    p.add_argument(
        "--compare-proxy",
        action="store_true",
        help="one process vs two behind nginx at the largest N, trainings on a local Ray head, in one run",
    )
    p.add_argument("--op-timeout", type=float, default=120.0, help="seconds one run may take before it is an error")
    p.add_argument("--level-timeout", type=float, default=200.0, help="cap on one level's seconds")
    args = p.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    args.think = tuple(float(x) for x in args.think.split(","))
    if args.compare_proxy:
        if args.levels == [1, 10, 30, 100]:
            args.levels = [100]
        return asyncio.run(compare_proxy(args))
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
