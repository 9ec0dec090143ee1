"""Benchmark: ConvLab's main interactions and reloads in Chromium, against bare Streamlit pages doing
the same work, in the same run (issue #15).

Run from the repository root::

    .venv/bin/python -m bench.bench_browser              # 7 timings per interaction (~3 min)
    .venv/bin/python -m bench.bench_browser --repeats 11
    .venv/bin/python -m bench.bench_browser --floor --only floor   # the Kernel Lab against its elements in plain Streamlit

It starts ConvLab and the bare peers of ``bench/bare/`` (each its own ``streamlit run`` on
loopback, the same config), opens them in Debian's Chromium with the flags the browser tests use,
and times, from the click (or the reload) to the new state on screen, never with fixed sleeps:

| interaction | waits for | bare peer |
|---|---|---|
| Kernel Lab preset change | the feature map's image src changes and the new picture is decoded | `filter.py`: a 512x512 photo, a 3x3 kernel chosen in a selectbox, `st.image` |
| Kernel Lab reload | the photo (in its click component) and the feature map decoded | `reload.py`: a title and a 512x512 photo |
| Arithmetic Next | "Step k+1 of" on screen | `swap.py`: Next swaps one small picture |
| Architecture preset load | the address bar names the loaded network, the run is over and the diagram's picture decoded | `filter.py`'s selectbox |
| Inside the model tab switch | after the quick demo trained: the chosen tab's panel drawn (elements, pictures, charts) | `tabs.py`: seven `st.tabs(on_change="rerun")`, the open one draws a picture |

Each interaction is timed ``--repeats`` times, ConvLab and its peer alternately, so background load
hits them alike; the figure is the median, and the ratio ConvLab / peer is printed against the
targets (1.3x for an interaction, 1.5x for a reload). Kernel Lab presets cycle through kernels the
server has not filtered yet in this run (a first look, the harder case). The last line holds every
figure as ``name=value``.

``--floor`` adds two figures without a target: the Kernel Lab's preset change and reload against
``lab_page.py``, the lab's widgets, text and pictures written in plain Streamlit (no fragment, no custom
component, no cache). Their ratio is ConvLab's own overhead over what Streamlit costs for the same page;
the gap between that peer and ``filter.py`` / ``reload.py`` is the framework's per-element cost.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.load_protocol import CHROMIUM_ARGS, IDLE_JS, StreamlitServer, free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
TARGET_INTERACTION, TARGET_RELOAD = 1.3, 1.5
PRESETS = [
    "Box blur",
    "Sharpen",
    "Laplacian (4-neighbour)",
    "Outline",
    "Emboss",
    "Sobel y",
    "Prewitt x",
    "Prewitt y",
    "Laplacian (8-neighbour)",
    "Gaussian blur 3x3",
    "Identity",
]
IDLE = IDLE_JS
KL_MAP = ".st-key-kl_map_box [data-testid='stImage'] img"
BARE_MAP = "[data-testid='stImage'] img"
LAB_PAGE_MAP = ".st-key-bare_map [data-testid='stImage'] img"
DECODED = "(sel) => { const im = document.querySelector(sel); return !!im && im.complete && im.naturalWidth > 0; }"
# The src before the click stays in the page (``KEEP_SRC``), so a poll does not ship a long data: address over
# the DevTools pipe each time: the check costs the same for a media URL and for a data address.
KEEP_SRC = "(sel) => { window.__benchSrc = document.querySelector(sel).getAttribute('src'); }"
CHANGED = (
    "(sel) => { const im = document.querySelector(sel);"
    " return !!im && im.getAttribute('src') !== window.__benchSrc && im.complete && im.naturalWidth > 0; }"
)
DIAGRAM = (  # the Architecture page's diagram: its figures' pictures decoded
    "() => { const ims = [...document.querySelectorAll('figure.an-dg img')];"
    " return ims.length > 0 && ims.every(im => im.complete && im.naturalWidth > 0); }"
)
PHOTO = (  # the Kernel Lab's photo, drawn in the page by its component (no iframe), decoded
    "() => { const im = document.querySelector('.st-key-kl_photo_box img.kl-photo-img');"
    " return !!im && im.complete && im.naturalWidth > 0; }"
)


BARE_TABS = ["Feature maps", "Learned kernels", "Over time", "Confusion matrix", "Mistakes", "Saliency", "Predict"]
# The tab named ``name`` is selected and its panel drawn: it has elements, none fading as stale, its pictures
# decoded and its plotly charts drawn. (An st.tabs panel is empty until the rerun its click causes fills it.)
TAB_SHOWN = """(name) => {
  const tab = [...document.querySelectorAll('[role="tab"]')].find(t => t.textContent.trim() === name);
  if (!tab || tab.getAttribute('aria-selected') !== 'true') return false;
  const panel = document.getElementById(tab.getAttribute('aria-controls'))
    || [...document.querySelectorAll('[role="tabpanel"]')].find(p => !p.hidden && p.offsetParent);
  if (!panel) return false;
  const els = [...panel.querySelectorAll('[data-testid="stElementContainer"]')];
  if (!els.length || els.some(e => e.dataset.stale === 'true')) return false;
  if ([...panel.querySelectorAll('img')].some(im => !(im.complete && im.naturalWidth > 0))) return false;
  return [...panel.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'));
}"""


def timed(action: Callable[[], None], done: Callable[[], None]) -> float:
    """Seconds from the action to the state ``done`` waits for."""
    t0 = time.perf_counter()
    action()
    done()
    return time.perf_counter() - t0


def choose(page, label: str, option: str) -> Callable[[], None]:
    """Open a selectbox now; the returned action picks the option (the click that is timed)."""
    page.get_by_label(label, exact=True).first.click()
    target = page.get_by_role("option", name=option, exact=True)
    target.wait_for()
    return target.click


def wait(page, js: str, arg=None) -> None:
    page.wait_for_function(js, arg=arg, polling=20, timeout=60_000)


def open_page(browser, url: str):
    """``url`` in a fresh 1280x800 context, once its first run is over."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    wait(page, IDLE)
    return page


def picture_change(page, label: str, option: str, sel: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """Open the selectbox ``label`` now; return the click that picks ``option`` and the wait for the
    picture ``sel`` to change (a new src, decoded)."""
    page.evaluate(KEEP_SRC, sel)
    return choose(page, label, option), lambda: wait(page, CHANGED, sel)


class Bench:
    def __init__(self, browser, convlab: str, bare: dict[str, str], repeats: int) -> None:
        self.browser, self.convlab, self.bare, self.repeats = browser, convlab, bare, repeats
        self.results: dict[str, tuple[float, float, float | None]] = {}  # name -> (ours, peer, target)

    def page(self, url: str):
        return open_page(self.browser, url)

    def record(self, name: str, ours: list[float], peer: list[float], target: float | None) -> None:
        """A figure; one without a ``target`` (a peer of the same elements) is printed, not judged."""
        o, p = statistics.median(ours), statistics.median(peer)
        self.results[name] = (o, p, target)
        verdict = (
            "no target" if target is None else f"target {target:.1f}x: " + ("meets" if o / p <= target else "MISSES")
        )
        print(
            f"{name:28s} ConvLab {1000 * o:7.0f} ms  bare {1000 * p:6.0f} ms  ratio {o / p:5.2f}x"
            f"  {verdict}   (ConvLab all: {', '.join(f'{1000 * t:.0f}' for t in ours)})",
            flush=True,
        )

    def select_change(self, pg, label: str, option: str, sel: str) -> float:
        return timed(*picture_change(pg, label, option, sel))

    def kernel_lab_preset(
        self, peer: str = "filter", peer_map: str = BARE_MAP, name: str = "kernel_lab_preset"
    ) -> None:
        kl, bare = self.page(f"{self.convlab}/kernel_lab"), self.page(self.bare[peer])
        wait(kl, DECODED, KL_MAP)
        wait(bare, DECODED, peer_map)  # idle can be seen before the first run has begun (a run once failed so)
        ours, theirs = [], []
        for i in range(self.repeats):
            option = PRESETS[i % len(PRESETS)]
            ours.append(self.select_change(kl, "Kernel", option, KL_MAP))
            theirs.append(self.select_change(bare, "Kernel", option, peer_map))
            wait(kl, IDLE)
            wait(bare, IDLE)
        self.record(name, ours, theirs, TARGET_INTERACTION if peer == "filter" else None)
        kl.context.close()
        bare.context.close()

    def kernel_lab_reload(
        self, peer: str = "reload", peer_map: str = BARE_MAP, name: str = "kernel_lab_reload"
    ) -> None:
        kl, bare = self.page(f"{self.convlab}/kernel_lab"), self.page(self.bare[peer])
        ours, theirs = [], []
        for _ in range(self.repeats):
            ours.append(
                timed(lambda: kl.reload(wait_until="commit"), lambda: (wait(kl, PHOTO), wait(kl, DECODED, KL_MAP)))
            )
            theirs.append(timed(lambda: bare.reload(wait_until="commit"), lambda: wait(bare, DECODED, peer_map)))
            wait(kl, IDLE)
        self.record(name, ours, theirs, TARGET_RELOAD if peer == "reload" else None)
        kl.context.close()
        bare.context.close()

    def kernel_lab_floor(self) -> None:
        """The Kernel Lab against ``lab_page.py``, the same elements in plain Streamlit: no target, the
        part of each gap that is ConvLab's own."""
        self.kernel_lab_preset("lab_page", LAB_PAGE_MAP, "floor_kernel_lab_preset")
        self.kernel_lab_reload("lab_page", LAB_PAGE_MAP, "floor_kernel_lab_reload")

    def arithmetic_next(self) -> None:
        ar, bare = self.page(f"{self.convlab}/arithmetic"), self.page(self.bare["swap"])
        ours, peer = [], []
        for i in range(self.repeats):
            step = re_step(ar)
            ours.append(
                timed(
                    ar.get_by_role("button", name="Next").first.click,
                    lambda s=step: ar.get_by_text(f"Step {s + 1} of", exact=False).first.wait_for(),
                )
            )
            peer.append(
                timed(
                    bare.get_by_role("button", name="Next").click,
                    lambda i=i: bare.get_by_text(f"Step {i + 2} of 49").wait_for(),
                )
            )
            # the stepper steps in the browser and reports the step once it rests: let that quick run land
            # (the link holds the new step) before the next click, so no click competes with it
            wait(ar, "(c) => new URLSearchParams(location.search).get('cell') === String(c)", step)
            wait(ar, IDLE)
            wait(bare, IDLE)
        self.record("arithmetic_next", ours, peer, TARGET_INTERACTION)
        ar.context.close()
        bare.context.close()

    def inside_tab(self) -> None:
        """Switch tabs of Inside the model on the quick demo's model, against the bare tabs page."""
        ins, bare = self.page(f"{self.convlab}/inside"), self.page(self.bare["tabs"])
        ins.get_by_role("button", name=re.compile(r"^Train a quick demo model")).click()
        wait(ins, TAB_SHOWN, "Feature maps")  # the demo trained (up to 20 s) and the page shows its first tab
        order = ["Learned kernels", "Confusion matrix", "Mistakes", "Feature maps"]
        ours, peer = [], []
        for i in range(self.repeats):
            name, bare_name = order[i % len(order)], BARE_TABS[(i + 1) % len(BARE_TABS)]
            ours.append(
                timed(ins.get_by_role("tab", name=name, exact=True).click, lambda n=name: wait(ins, TAB_SHOWN, n))
            )
            peer.append(
                timed(
                    bare.get_by_role("tab", name=bare_name, exact=True).click,
                    lambda n=bare_name: wait(bare, TAB_SHOWN, n),
                )
            )
            wait(ins, IDLE)
            wait(bare, IDLE)
        self.record("inside_tab_switch", ours, peer, TARGET_INTERACTION)
        ins.context.close()
        bare.context.close()


def re_step(page) -> int:
    """The step the Arithmetic page shows now ("Step k of n")."""
    text = page.get_by_text(re.compile(r"^Step \d+ of \d+")).first.inner_text()
    return int(re.match(r"Step (\d+)", text).group(1))


def architecture_preset(bench: Bench) -> None:
    """Load famous networks in turn (Load), against the bare filter page's selectbox."""
    an, bare = bench.page(f"{bench.convlab}/architecture"), bench.page(bench.bare["filter"])
    wait(bare, DECODED, BARE_MAP)
    names = ["LeNet-5", "TinyVGG (CNN Explainer)", "Course MNIST CNN (Keras notes)", "AlexNet"]
    ours, peer = [], []
    for i in range(bench.repeats):
        name = names[i % len(names)]
        url = an.url
        choose(an, "Start from a famous network", name)()
        load = an.get_by_role("button", name="Load", exact=True)
        ours.append(
            timed(load.click, lambda u=url: (an.wait_for_url(lambda now: now != u), wait(an, IDLE), wait(an, DIAGRAM)))
        )
        peer.append(bench.select_change(bare, "Kernel", PRESETS[i % len(PRESETS)], BARE_MAP))
        wait(bare, IDLE)
    bench.record("architecture_preset_load", ours, peer, TARGET_INTERACTION)
    an.context.close()
    bare.context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: kernel_lab_preset,kernel_lab_reload,arithmetic_next,architecture,inside,floor",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the Kernel Lab against bare/lab_page.py, its elements in plain Streamlit (no target)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, {os.cpu_count()} CPUs",
        flush=True,
    )
    log = ROOT / "out" / "bench_browser"
    log.mkdir(parents=True, exist_ok=True)
    env = {"CONVLAB_STATE_DIR": tempfile.mkdtemp(prefix="convlab-bench-")}
    servers = {"convlab": StreamlitServer(free_port(range(9300, 9400)), env=env, log_path=log / "convlab.log")}
    for name in ("filter", "swap", "reload", "tabs") + (("lab_page",) if args.floor else ()):
        servers[name] = StreamlitServer(
            free_port(range(9400 + 10 * len(servers), 9500)),
            script=f"bench/bare/{name}.py",
            log_path=log / f"{name}.log",
        )
    try:
        for srv in servers.values():
            srv.start(timeout=120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            bench = Bench(browser, servers["convlab"].url, {k: s.url for k, s in servers.items()}, args.repeats)
            for url in [f"{bench.convlab}/{p}" for p in ("kernel_lab", "arithmetic", "architecture")] + list(
                bench.bare.values()
            ):
                bench.page(url).context.close()  # warm: each page's first visit (imports, caches) is not timed
            steps = {
                "kernel_lab_preset": bench.kernel_lab_preset,
                "kernel_lab_reload": bench.kernel_lab_reload,
                "arithmetic_next": bench.arithmetic_next,
                "architecture": lambda: architecture_preset(bench),
                "inside": bench.inside_tab,
            }
            if args.floor:
                steps["floor"] = bench.kernel_lab_floor
            for name, step in steps.items():
                if not args.only or name in args.only.split(","):
                    step()
            browser.close()
    finally:
        for srv in servers.values():
            srv.stop()
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)
    figures = []
    for name, (o, p, _target) in bench.results.items():
        figures += [f"ms_{name}={1000 * o:.0f}", f"ms_bare_{name}={1000 * p:.0f}", f"ratio_{name}={o / p:.2f}"]
    met = all(o / p <= t for o, p, t in bench.results.values() if t is not None)
    print(" ".join(figures + [f"all_targets_met={int(met)}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
