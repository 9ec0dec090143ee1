"""Benchmark: the browser's main-thread work per interaction, ConvLab against a bare Streamlit page (issue #15).

Run from the repository root::

    .venv/bin/python -m bench.bench_renderer                  # 8 interactions each (~2 min)
    .venv/bin/python -m bench.bench_renderer --repeats 12 --only architecture

``bench_browser`` times a click until the new state is on screen; some work the click causes runs after that
state (a plotly chart draws itself once the run is over), and all of it keeps the page from answering the next
click. This bench adds it up: Chrome's own sampling profiler (DevTools protocol ``Profiler``, the panel's
"Performance" recorder without the screenshots) runs while the same interactions as ``bench_browser`` happen,
each followed by a rest, and the samples in script and garbage collection are the renderer's main-thread script
time of that interaction, including the pick of the option before it (style, layout and paint fall in the
profiler's ``(program)``, which is left out: on a page left alone it still counted about 130 ms a second):

| interaction | ConvLab | bare peer |
|---|---|---|
| ``architecture`` | pick a famous network, Load, until the diagram is drawn | ``filter.py``: pick a kernel, until the picture is new |
| ``kernel_lab_preset`` | pick a preset, until the feature map is new | ``filter.py``: the same |

The figure is milliseconds of main-thread script per interaction and the ratio ConvLab / bare. The last line
holds them as ``name=value``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from bench.bench_browser import (
    BARE_MAP,
    CHROMIUM,
    DECODED,
    DIAGRAM,
    IDLE,
    KL_MAP,
    PRESETS,
    ROOT,
    choose,
    open_page,
    picture_change,
    wait,
)
from bench.load_protocol import CHROMIUM_ARGS, StreamlitServer, free_port

NETWORKS = ["LeNet-5", "TinyVGG (CNN Explainer)", "Course MNIST CNN (Keras notes)", "AlexNet"]
REST_S = 0.6  # after each interaction: what it set off afterwards (a chart drawing itself) is counted too


def busy_ms(profile: dict) -> float:
    """Milliseconds of a CPU profile spent running script or collecting garbage: not ``(idle)``, and not
    ``(program)``, the profiler's catch-all for native work, which on a page left alone still took some 130 ms a
    second (measured here), so it would drown the differences."""
    idle = {n["id"] for n in profile["nodes"] if n["callFrame"]["functionName"] in ("(idle)", "(program)")}
    return sum(dt for s, dt in zip(profile["samples"], profile["timeDeltas"], strict=True) if s not in idle) / 1000


WARM = 4  # calls not measured first: each network's (each preset's) first visit in this page


def profiled(page, steps: int, step) -> float:
    """Main-thread milliseconds per call of ``step(i)``, after :data:`WARM` calls not measured (first visits)."""
    for i in range(WARM):
        step(i)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 250})
    cdp.send("Profiler.start")
    for i in range(WARM, WARM + steps):
        step(i)
    profile = cdp.send("Profiler.stop")["profile"]
    cdp.detach()
    return busy_ms(profile) / steps


def ready_page(browser, url: str, ready: str, arg=None):
    page = open_page(browser, url)
    wait(page, ready, arg)
    return page


def pick_preset(page, sel: str):
    def step(i: int) -> None:
        pick, changed = picture_change(page, "Kernel", PRESETS[i % len(PRESETS)], sel)
        pick()
        changed()
        wait(page, IDLE)
        time.sleep(REST_S)

    return step


def load_network(page):
    def step(i: int) -> None:
        url = page.url
        choose(page, "Start from a famous network", NETWORKS[i % len(NETWORKS)])()
        page.get_by_role("button", name="Load", exact=True).click()
        page.wait_for_url(lambda now: now != url)
        wait(page, IDLE)
        wait(page, DIAGRAM)
        time.sleep(REST_S)

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--only", default="", help="comma-separated: architecture,kernel_lab_preset")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs", flush=True)
    log = ROOT / "out" / "bench_renderer"
    log.mkdir(parents=True, exist_ok=True)
    ours = StreamlitServer(
        free_port(range(9300, 9400)),
        env={"CONVLAB_STATE_DIR": tempfile.mkdtemp(prefix="convlab-bench-")},
        log_path=log / "convlab.log",
    )
    bare = StreamlitServer(free_port(range(9400, 9500)), script="bench/bare/filter.py", log_path=log / "filter.log")
    figures = []
    try:
        ours.start(timeout=120)
        bare.start(timeout=120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            peer_page = ready_page(browser, bare.url, DECODED, BARE_MAP)
            peer = profiled(peer_page, args.repeats, pick_preset(peer_page, BARE_MAP))
            for name in ("architecture", "kernel_lab_preset"):
                if args.only and name not in args.only.split(","):
                    continue
                if name == "architecture":
                    page = ready_page(browser, f"{ours.url}/architecture", DIAGRAM)
                    step = load_network(page)
                else:
                    page = ready_page(browser, f"{ours.url}/kernel_lab", DECODED, KL_MAP)
                    step = pick_preset(page, KL_MAP)
                mine = profiled(page, args.repeats, step)
                page.context.close()
                print(f"{name:20s} ConvLab {mine:6.0f} ms  bare {peer:5.0f} ms  of main-thread script per interaction"
                      f"  ratio {mine / peer:5.2f}x", flush=True)  # fmt: skip
                figures += [f"ms_main_{name}={mine:.0f}", f"ratio_main_{name}={mine / peer:.2f}"]
            browser.close()
    finally:
        ours.stop()
        bare.stop()
    print(" ".join([f"ms_main_bare={peer:.0f}", *figures]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
