// The Arithmetic page's stepper, in the browser: every step arrives at once (data.steps), and First /
// Back / Next / Last, the slider, the arrow keys, a click on an output cell and Play change the step
// here, without asking the server. The step is reported back (state "step") once it has rested
// DEBOUNCE_MS, so the URL, the lesson checks and a reload learn it.
const DEBOUNCE_MS = 350;
const SPEEDS = [0.25, 0.5, 1, 2, 3];
const INSTANCES = new Map();

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);

function skeleton(root) {
  root.innerHTML = `
    <div class="ar-controls" role="group" aria-label="Step controls">
      <button type="button" data-go="first" aria-keyshortcuts="Home">First <kbd>Home</kbd></button>
      <button type="button" data-go="back" aria-keyshortcuts="ArrowLeft">Back <kbd>←</kbd></button>
      <button type="button" data-go="next" aria-keyshortcuts="ArrowRight">Next <kbd>→</kbd></button>
      <button type="button" data-go="last" aria-keyshortcuts="End">Last <kbd>End</kbd></button>
      <button type="button" data-go="play" aria-pressed="false">Play</button>
      <label class="ar-speed">Seconds per step
        <select>${SPEEDS.map((s) => `<option value="${s}">${s}</option>`).join("")}</select></label>
    </div>
    <label class="ar-slider"><span class="ar-slider-label"></span><input type="range" min="1" step="1"></label>
    <p class="ar-hint"></p>
    <div class="ar-grids"></div>
    <p class="ar-hint ar-legend"></p>
    <p class="ar-line" aria-live="polite"><strong></strong></p>
    <pre class="ar-work"></pre>
    <p class="ar-hint ar-pool"></p>
    <p class="ar-warn" role="note"></p>`;
}

function table(grid, opts) {
  // opts: {rowLabels, colLabels, cls(i, j) -> class string, clickBase}
  const rows = grid.cells.length, cols = rows ? grid.cells[0].length : 0;
  const rl = opts.rowLabels || [...Array(rows).keys()].map(String);
  const cl = opts.colLabels || [...Array(cols).keys()].map(String);
  let h = `<table class="ar-grid"><caption>${esc(grid.title)}</caption><thead><tr><th scope="col"><span class="ar-sr">row / column</span></th>`;
  h += cl.map((c) => `<th scope="col">${esc(c)}</th>`).join("") + "</tr></thead><tbody>";
  for (let i = 0; i < rows; i++) {
    h += `<tr><th scope="row">${esc(rl[i])}</th>`;
    for (let j = 0; j < cols; j++) {
      const cls = opts.cls(i, j);
      const click = opts.clickBase !== undefined ? ` data-step="${opts.clickBase + i * cols + j}"` : "";
      h += `<td class="${cls.cls}"${click}>${esc(cls.text === undefined ? grid.cells[i][j] : cls.text)}</td>`;
    }
    h += "</tr>";
  }
  return h + "</tbody></table>";
}

function windowClass(inRow, inCol, i, j) {
  // the outline's edges: a side of a window cell whose neighbour is outside the window
  if (!(inRow(i) && inCol(j))) return "";
  let c = " ar-win";
  if (!inRow(i - 1)) c += " ar-wt";
  if (!inRow(i + 1)) c += " ar-wb";
  if (!inCol(j - 1)) c += " ar-wl";
  if (!inCol(j + 1)) c += " ar-wr";
  return c;
}

function draw(inst) {
  const d = inst.data, k = inst.k, s = d.steps[k], mp = d.maps[s.m], root = inst.root;
  const rows = new Set(s.rows), cols = new Set(s.cols), circ = new Set(s.circ.map(([i, j]) => i + "," + j));
  const inputCls = (i, j) => {
    let c = d.pad[i] && d.pad[i][j] ? "ar-pad" : "";
    if (d.dropped[i] && d.dropped[i][j]) c += " ar-drop";
    c += windowClass((x) => rows.has(x), (y) => cols.has(y), i, j);
    if (circ.has(i + "," + j)) c += " ar-circ";
    return { cls: c };
  };
  let h = `<div class="ar-col">` + mp.inputs.map((g) => table(g, { rowLabels: d.row_labels, colLabels: d.col_labels, cls: inputCls })).join("") + "</div>";
  if (mp.kernels.length) {
    h += `<div class="ar-col">` + mp.kernels.map((g) => {
      const win = g.win ? [new Set(g.win[0]), new Set(g.win[1])] : null;
      return table(g, { cls: (i, j) => ({ cls: win ? windowClass((x) => win[0].has(x), (y) => win[1].has(y), i, j) : "" }) });
    }).join("") + (mp.kernel_note ? `<p class="ar-hint">${esc(mp.kernel_note)}</p>` : "") + "</div>";
  }
  const ow = mp.out.length ? mp.out[0].length : 0;
  const outCls = (i, j) => {
    const idx = mp.start + i * ow + j;
    const cur = i === s.r && j === s.c;
    return { cls: "ar-out" + (idx <= k ? " ar-done" : "") + (cur ? " ar-cur" : ""), text: idx <= k ? undefined : "·" };
  };
  h += `<div class="ar-col">` + table({ title: mp.out_title, cells: mp.out }, { cls: outCls, clickBase: mp.start }) +
    `<p class="ar-hint">${esc(d.click_hint[s.m])}</p></div>`;
  root.querySelector(".ar-grids").innerHTML = h;
  root.querySelector(".ar-legend").textContent = d.legend[s.circ.length ? 1 : 0];
  root.querySelector(".ar-line strong").textContent = s.line;
  root.querySelector(".ar-work").textContent = s.work.join("\n");
  const pool = root.querySelector(".ar-pool");
  pool.textContent = d.pool_note || "";
  pool.hidden = !d.pool_note;
  const warn = root.querySelector(".ar-warn");
  warn.textContent = s.warn || "";
  warn.hidden = !s.warn;
  const first = k === 0, last = k >= d.n - 1;
  const btn = (g) => root.querySelector(`[data-go="${g}"]`);
  btn("first").disabled = btn("back").disabled = first;
  btn("next").disabled = btn("last").disabled = last;
  const play = btn("play");
  play.textContent = inst.playing ? "Pause" : "Play";
  play.setAttribute("aria-pressed", String(inst.playing));
  const slider = root.querySelector(".ar-slider input");
  slider.max = String(d.n);
  slider.value = String(k + 1);
  root.querySelector(".ar-slider").hidden = d.n <= 1;
  root.querySelector(".ar-slider-label").textContent = `Step (of ${d.n}): ${k + 1}`;
}

function report(inst) {
  clearTimeout(inst.timer);
  inst.timer = setTimeout(() => {
    if (inst.playing || inst.k === inst.serverK || !inst.root.isConnected) return;
    inst.serverK = inst.k;
    inst.seq += 1;  // a new value every time: the same step reported again (after a new setting) still counts
    inst.setStateValue("step", [inst.k, inst.seq]);
  }, DEBOUNCE_MS);
}

function go(inst, k, fromPlay = false) {
  const n = inst.data.n;
  k = Math.max(0, Math.min(n - 1, k));
  if (!fromPlay && inst.playing) stop(inst);
  if (k === inst.k) return;
  inst.k = k;
  draw(inst);
  report(inst);
}

function stop(inst) {
  inst.playing = false;
  clearTimeout(inst.playTimer);
  draw(inst);
  report(inst);
}

function tick(inst) {
  inst.playTimer = setTimeout(() => {
    if (!inst.playing || !inst.root.isConnected) return;
    go(inst, inst.k + 1, true);
    if (inst.k >= inst.data.n - 1) stop(inst);
    else tick(inst);
  }, inst.speed * 1000);
}

function play(inst) {
  if (inst.playing) return stop(inst);
  inst.playing = true;
  if (inst.k >= inst.data.n - 1) { inst.k = 0; }
  draw(inst);
  tick(inst);
}

const TYPING = (el) => !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

function wire(inst) {
  const root = inst.root;
  root.querySelector(".ar-controls").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-go]");
    if (!b) return;
    const g = b.dataset.go, k = inst.k;
    if (g === "play") return play(inst);
    go(inst, { first: 0, back: k - 1, next: k + 1, last: inst.data.n - 1 }[g]);
  });
  root.querySelector(".ar-speed select").addEventListener("change", (e) => { inst.speed = Number(e.target.value); });
  root.querySelector(".ar-slider input").addEventListener("input", (e) => go(inst, Number(e.target.value) - 1));
  root.querySelector(".ar-grids").addEventListener("click", (e) => {
    const td = e.target.closest("td[data-step]");
    if (td) go(inst, Number(td.dataset.step));
  });
  inst.onKey = (e) => {
    if (!root.isConnected || e.altKey || e.ctrlKey || e.metaKey || TYPING(e.target) || e.defaultPrevented) return;
    const to = { ArrowLeft: inst.k - 1, ArrowRight: inst.k + 1, Home: 0, End: inst.data.n - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    go(inst, to);
  };
  document.addEventListener("keydown", inst.onKey);
}

export default function (component) {
  const { data, key, parentElement, setStateValue } = component;
  let inst = INSTANCES.get(key);
  if (!inst || !parentElement.contains(inst.root)) {
    if (inst) document.removeEventListener("keydown", inst.onKey);
    parentElement.querySelectorAll(":scope > .ar-stepper").forEach((old) => old.remove());
    const root = document.createElement("div");
    root.className = "ar-stepper";
    parentElement.appendChild(root);
    skeleton(root);
    inst = { root, k: -1, sig: null, serverK: -1, lastServer: -1, playing: false, speed: data.speed || 1, seq: 0 };
    INSTANCES.set(key, inst);
    wire(inst);
    root.querySelector(".ar-speed select").value = String(inst.speed);
  }
  inst.setStateValue = setStateValue;
  inst.root.classList.toggle("ar-big", !!data.presenting);
  inst.root.dataset.serverRuns = String(data.runs);  // how many times the server drew the stepper (tests read it)
  const step = Math.max(0, Math.min(data.n - 1, data.step));
  if (inst.sig !== data.sig) {  // a new setting: its steps, at the server's step
    inst.sig = data.sig;
    inst.data = data;
    if (inst.playing) { inst.playing = false; clearTimeout(inst.playTimer); }
    clearTimeout(inst.timer);
    inst.k = inst.serverK = inst.lastServer = step;
    draw(inst);
  } else if (data.step !== inst.lastServer) {  // the server moved the step (the jump box) or echoes ours
    inst.lastServer = data.step;
    if (data.step !== inst.serverK) { inst.serverK = step; go(inst, step); }
  }
  return () => {
    document.removeEventListener("keydown", inst.onKey);
    clearTimeout(inst.timer);
    clearTimeout(inst.playTimer);
    INSTANCES.delete(key);
  };
}
