// The confusion matrix as an HTML table in the page (no iframe): rows are true classes, columns the
// predicted ones, every cell a button shaded by its value with its number written in (colours, texts and
// spoken labels come ready in data.cells). A click, a tap, or Enter / Space on a cell reached with the
// arrow keys (one tab stop for the whole matrix: the selected cell) reports state "cell" =
// [true, predicted, seq]. The table is updated in place on a rerun, so the focused cell keeps its focus.
// With data.fixed the cells are plain labelled text (a matrix to read, as on Over time: nothing to click).
const INSTANCES = new Map();

function shapeOf(classes, fixed) {  // what the table's cells are built for: rebuilt only when it changes
  return classes.join("\u0000") + (fixed ? "\u0001" : "");
}

function build(inst, classes, fixed) {
  const k = classes.length;
  const cell = fixed ? (t, p) => `<span class="cm-cell" data-t="${t}" data-p="${p}"></span>`
    : (t, p) => `<button type="button" data-t="${t}" data-p="${p}" tabindex="-1"></button>`;
  const head = classes.map((c) => `<th scope="col">${esc(c)}</th>`).join("");
  const body = classes.map((c, t) =>
    `<tr><th scope="row">${esc(c)}</th>` + classes.map((_, p) => `<td>${cell(t, p)}</td>`).join("") + "</tr>").join("");
  inst.table.innerHTML = `<thead><tr><th class="cm-corner" scope="col"><span class="cm-sr">true class \\ predicted class</span></th>${head}</tr></thead><tbody>${body}</tbody>`;
  inst.buttons = [...inst.table.querySelectorAll("[data-t]")];
  inst.table.style.setProperty("--k", String(k));
  inst.k = k;
  inst.shape = shapeOf(classes, fixed);
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]);
}

function draw(inst, data) {
  const fixed = !!data.fixed;
  if (inst.shape !== shapeOf(data.classes, fixed)) build(inst, data.classes, fixed);
  const sel = data.selected || [0, 0];
  inst.buttons.forEach((b) => {
    const t = Number(b.dataset.t), p = Number(b.dataset.p);
    const [text, bg, ink, label] = data.cells[t][p];
    b.style.background = bg;
    b.style.color = ink;
    b.title = label;
    if (fixed) {  // a plain cell: its label read as text (aria-label is not allowed on a span without a role)
      b.innerHTML = `<span aria-hidden="true">${esc(text)}</span><span class="cm-sr">${esc(label)}</span>`;
      return;
    }
    b.textContent = text;
    b.setAttribute("aria-label", label);
    const on = t === sel[0] && p === sel[1];
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.tabIndex = on ? 0 : -1;
  });
  const lg = data.legend;
  inst.legend.innerHTML = `<span class="cm-legend-title">${esc(lg.title)}:</span> <span>${esc(lg.lo)}</span>` +
    `<span class="cm-bar" style="background: linear-gradient(to right, ${lg.stops.join(", ")})"></span><span>${esc(lg.hi)}</span>`;
  inst.root.classList.toggle("cm-big", !!data.presenting);
}

const MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

function wire(inst) {
  inst.table.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-t]");
    if (!b) return;
    inst.seq += 1;
    inst.setStateValue("cell", [Number(b.dataset.t), Number(b.dataset.p), inst.seq]);
  });
  inst.table.addEventListener("keydown", (e) => {
    const b = e.target.closest("button[data-t]");
    const move = MOVES[e.key];
    if (!b || !move) return;
    e.preventDefault();
    const t = Math.min(Math.max(Number(b.dataset.t) + move[0], 0), inst.k - 1);
    const p = Math.min(Math.max(Number(b.dataset.p) + move[1], 0), inst.k - 1);
    const next = inst.buttons[t * inst.k + p];
    b.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
}

export default function (component) {
  const { data, key, parentElement, setStateValue } = component;
  let inst = INSTANCES.get(key);
  if (!inst || !parentElement.contains(inst.root)) {
    parentElement.querySelectorAll(":scope > .cm-grid").forEach((old) => old.remove());
    const root = document.createElement("div");
    root.className = "cm-grid";
    root.innerHTML = `<p class="cm-axis">Rows: true class · columns: predicted class</p>` +
      `<div class="cm-scroll"><table></table></div><p class="cm-legend"></p>`;
    parentElement.appendChild(root);
    inst = { root, table: root.querySelector("table"), legend: root.querySelector(".cm-legend"), seq: Date.now(), shape: null };
    INSTANCES.set(key, inst);
    wire(inst);
  }
  inst.setStateValue = setStateValue;
  draw(inst, data);
  return () => { INSTANCES.delete(key); };
}
