// The Architecture page's layer editor, in the browser: one row per layer (its type, its settings, move and
// remove), drawn from data.rows. Rows are kept by their layer's uid: a Load or an edit updates the inputs in
// place (an input being typed in keeps what is typed), so focus and scroll stay where they were.
// Each edit is reported as the state "edit" = [op, uid, ...args, seq]; the server changes the stack and
// sends the rows again.

const INSTANCES = new Map();

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function signature(r) {
  return `${r.uid}|${r.type}|${r.fields.map((f) => f.name).join(",")}`;
}

function fieldHTML(inst, r, f) {
  const id = `${inst.prefix}-${r.uid}-${f.name}`;
  // the "?" shows the help on hover, and in the row's tip line on a tap or a click (a touch screen has no hover);
  // a screen reader reads the help as the control's description (not its name)
  const help = f.help ? `<button type="button" class="an-help" title="${esc(f.help)}" aria-expanded="false" ` +
    `aria-controls="${inst.prefix}-${r.uid}-tip" data-tip="${esc(f.label)}: ${esc(f.help)}" ` +
    `aria-label="What is ${esc(f.label)}?">?</button>` : "";
  const helpText = f.help ? `<span class="an-sr" id="${id}-help">${esc(f.help)}</span>` : "";
  const described = f.help ? ` aria-describedby="${id}-help"` : "";
  let control;
  if (f.kind === "select") {
    control = `<select id="${id}" data-field="${esc(f.name)}"${described}>` +
      f.options.map((o, i) => `<option value="${i}">${esc(o)}</option>`).join("") + "</select>";
  } else {
    const step = f.kind === "float" ? f.step : 1;
    control = `<input id="${id}" type="number" inputmode="${f.kind === "float" ? "decimal" : "numeric"}" ` +
      `min="${f.lo}" max="${f.hi}" step="${step}" data-field="${esc(f.name)}"${described}>`;
  }
  return `<div class="an-field" style="--w:${f.width}"><span class="an-label"><label for="${id}">${esc(f.label)}</label>${help}</span>` +
    `${control}${helpText}</div>`;
}

function buildRow(inst, r) {
  const el = document.createElement("div");
  el.className = "an-row";
  el.dataset.uid = String(r.uid);
  el.dataset.sig = signature(r);
  const tid = `${inst.prefix}-${r.uid}-type`;
  const types = inst.types.map((t) => `<option value="${esc(t)}">${esc(t)}</option>`).join("");
  const settings = r.fields.map((f) => fieldHTML(inst, r, f)).join("");
  el.innerHTML =
    `<div class="an-line"><div class="an-field an-type"><label for="${tid}" class="an-pos"></label>` +
    `<select id="${tid}" data-type>${types}</select></div>${settings}` +
    `<div class="an-buttons"><button type="button" data-op="up"><span aria-hidden="true">↑</span></button>` +
    `<button type="button" data-op="down"><span aria-hidden="true">↓</span></button>` +
    `<button type="button" data-op="remove"><span aria-hidden="true">✕</span></button></div></div>` +
    `<p class="an-tip" id="${inst.prefix}-${r.uid}-tip" hidden></p>` +
    (r.fields.length ? "" : `<p class="an-note">${esc(r.note)}</p>`) + `<div class="an-error" hidden></div>`;
  return el;
}

function updateRow(el, r, pos, n, error, typing) {
  el.querySelector(".an-pos").textContent = `Layer ${pos + 1}`;
  const type = el.querySelector("select[data-type]");
  type.value = r.type;
  for (const f of r.fields) {
    const input = el.querySelector(`[data-field="${CSS.escape(f.name)}"]`);
    if (input && input !== typing) input.value = String(f.value);  // not under the learner's fingers
  }
  const labels = { up: `Move layer ${pos + 1} up`, down: `Move layer ${pos + 1} down`, remove: `Remove layer ${pos + 1}` };
  for (const b of el.querySelectorAll("button[data-op]")) {
    b.setAttribute("aria-label", labels[b.dataset.op]);
    b.title = labels[b.dataset.op];
    b.disabled = (b.dataset.op === "up" && pos === 0) || (b.dataset.op === "down" && pos === n - 1);
  }
  const box = el.querySelector(".an-error");
  box.hidden = !error;
  box.textContent = error ? error.message : "";
  el.classList.toggle("an-has-error", !!error);
}

// What has the focus, as a place that a rebuilt row has too: [uid, what] ("type", a field's name, a button's op).
function focusPlace(inst) {
  const el = document.activeElement;
  const row = el && inst.root.contains(el) ? el.closest(".an-row") : null;
  if (!row) return null;
  const what = el.matches("[data-type]") ? "[data-type]" : el.dataset.field ? `[data-field="${CSS.escape(el.dataset.field)}"]`
    : el.dataset.op ? `[data-op="${el.dataset.op}"]` : null;
  return what ? [row.dataset.uid, what, el] : null;
}

function draw(inst, data) {
  const place = focusPlace(inst);
  const list = inst.list;
  const old = new Map([...list.children].map((el) => [el.dataset.uid, el]));
  const rows = data.rows.map((r) => {
    let el = old.get(String(r.uid));
    if (!el || el.dataset.sig !== signature(r)) el = buildRow(inst, r);
    return el;
  });
  rows.forEach((el, i) => {
    if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
  });
  while (list.children.length > rows.length) list.lastElementChild.remove();
  rows.forEach((el, i) => {
    const error = data.error && data.error.index === i ? data.error : null;
    updateRow(el, data.rows[i], i, rows.length, error, inst.typing);
  });
  if (place && document.activeElement !== place[2]) {  // moved (a move re-inserts its row) or rebuilt (a type change)
    const row = [...list.children].find((el) => el.dataset.uid === place[0]);
    const again = row && (row.querySelector(place[1]) || row.querySelector("[data-type]"));
    if (again) again.focus({ preventScroll: true });
  }
  inst.empty.hidden = rows.length > 0;
}

function send(inst, op, uid, ...args) {
  inst.seq += 1;
  inst.setStateValue("edit", [op, uid, ...args, inst.seq]);
}

// A "?" shows its field's help in the row's tip line; the same "?" again, or another one, hides or replaces it.
function toggleTip(button) {
  const row = button.closest(".an-row");
  const tip = row.querySelector(".an-tip");
  const open = button.getAttribute("aria-expanded") !== "true";
  row.querySelectorAll("button.an-help").forEach((b) => b.setAttribute("aria-expanded", "false"));
  button.setAttribute("aria-expanded", String(open));
  tip.textContent = open ? button.dataset.tip : "";
  tip.hidden = !open;
}

function wire(inst) {
  inst.root.addEventListener("input", (e) => { if (e.target.matches("input[data-field]")) inst.typing = e.target; });
  inst.root.addEventListener("change", (e) => {
    inst.typing = null;
    const row = e.target.closest(".an-row");
    if (!row) return;
    const uid = Number(row.dataset.uid);
    if (e.target.matches("select[data-type]")) {
      send(inst, "type", uid, e.target.value);
    } else if (e.target.matches("select[data-field]")) {
      send(inst, "set", uid, e.target.dataset.field, Number(e.target.value));
    } else if (e.target.matches("input[data-field]")) {
      const v = e.target.valueAsNumber;
      if (Number.isFinite(v)) send(inst, "set", uid, e.target.dataset.field, v);
    }
  });
  inst.root.addEventListener("click", (e) => {
    const h = e.target.closest("button.an-help");
    if (h) { toggleTip(h); return; }
    const b = e.target.closest("button[data-op]");
    if (!b || b.disabled) return;
    send(inst, b.dataset.op, Number(b.closest(".an-row").dataset.uid));
  });
}

export default function (component) {
  const { data, key, parentElement, setStateValue } = component;
  let inst = INSTANCES.get(key);
  if (!inst || !parentElement.contains(inst.root)) {
    parentElement.querySelectorAll(":scope > .an-editor").forEach((old) => old.remove());
    const root = document.createElement("div");
    root.className = "an-editor";
    root.innerHTML = `<div class="an-list"></div><p class="an-empty" hidden>No layers yet: add one below, or load a network above.</p>`;
    parentElement.appendChild(root);
    inst = { root, list: root.querySelector(".an-list"), empty: root.querySelector(".an-empty"), seq: Date.now(),
      prefix: `an-ed-${Math.random().toString(36).slice(2, 8)}` };
    INSTANCES.set(key, inst);
    wire(inst);
  }
  inst.setStateValue = setStateValue;
  inst.types = data.types;
  inst.root.classList.toggle("an-big", !!data.presenting);
  draw(inst, data);
  return () => { INSTANCES.delete(key); };
}
