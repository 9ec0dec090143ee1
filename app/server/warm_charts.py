"""Have the browser evaluate its chart library while the page is idle, before the first chart needs it.

Streamlit's frontend loads the code that draws plotly charts (one 4.7 MB module) only when a page
first shows a chart, and evaluating that module takes the browser about 0.7 s (measured on a 2-core
Xeon in Chromium). On Inside the model that cost landed on the first tab click after the quick demo
(1.2 s instead of 0.5 s), on Training on the first curve of a run. Every page this server sends
therefore carries a small script that, once the learner has been on one of the pages whose charts
come after a click (:data:`PAGES`) for a moment and the browser is idle, imports that same module by
its address (next to Streamlit's own ``index.*.js``). The browser keeps one copy of a module per
address, so when Streamlit asks for it later it is already there; a page change inside the app keeps
the document, so one import serves every later page. Other pages do not import it: there a first
click soon after the page opened would wait for the evaluation (the browser bench saw a Kernel Lab
preset change take 1.1 s so).

The module's file name is looked up in Streamlit's installed frontend once; where it is not found
exactly once (another Streamlit build), no script is added and charts load as they did before.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import streamlit

CHUNK_GLOB = "PlotlyChart.*.js"
PAGES = ("inside", "training", "experiments")  # last part of the address: charts come after a click or a run
DELAY_MS = 1500  # on such a page this long first: its first run is drawn and a first click answered
FLAG = "__convlabWarmCharts"  # "loading", then "done" (or "failed") on window


def frontend_js_dir() -> Path:
    return Path(streamlit.__file__).parent / "static" / "static" / "js"


@lru_cache(maxsize=1)
def chunk() -> str | None:
    """The file name of Streamlit's plotly module in its frontend, or None unless exactly one matches."""
    found = sorted(p.name for p in frontend_js_dir().glob(CHUNK_GLOB))
    return found[0] if len(found) == 1 else None


@lru_cache(maxsize=4)
def snippet(name: str | None = None) -> bytes:
    """The ``<script>`` that imports the module ``name`` (default: :func:`chunk`) when the page is idle; made
    once, since every HTML page the server sends carries it."""
    name = chunk() if name is None else name
    if not name:
        return b""
    js = (
        "(function(){var go=function(){"
        f"if(window.{FLAG})return;"
        "var s=[].find.call(document.scripts,function(x){return /\\/static\\/js\\/index\\.[^\\/]*\\.js$/.test(x.src);});"
        f"if(!s)return;window.{FLAG}='loading';"
        f"import(new URL({json.dumps(name)},s.src).href).then(function(){{window.{FLAG}='done';}},"
        f"function(){{window.{FLAG}='failed';}});}};"
        f"var pages={json.dumps(list(PAGES))},since=0,t=setInterval(function(){{"
        "var here=pages.indexOf(location.pathname.replace(/\\/+$/,'').split('/').pop())>=0;"
        "if(!here){since=0;return;}if(!since){since=Date.now();return;}"
        f"if(Date.now()-since<{DELAY_MS})return;clearInterval(t);"
        "if(window.requestIdleCallback){requestIdleCallback(go,{timeout:4000});}else{go();}"
        "},500);})();"
    )
    return f"<script>{js}</script>".encode()
