// The Kernel Lab's photo, in the page (no iframe): the working copy with the kernel's window drawn in
// orange, arriving as one pre-encoded picture (data.src). A click or a tap reports where it landed in
// the photo's own pixels (trigger "click": {x, y, width, height, unix_time}, width and height the
// photo's size); from the keyboard, the arrow keys move the window one output cell (data.step pixels
// of the photo) and report the same event. The picture is swapped only when its bytes change, so a
// setting that keeps the window (a preset of the same size) costs the browser nothing here.
const INSTANCES = new Map();

function report(inst, x, y) {
  const img = inst.img, w = img.naturalWidth, h = img.naturalHeight;
  if (!w || !h) return;
  x = Math.min(Math.max(x, 0), w - 1e-6);
  y = Math.min(Math.max(y, 0), h - 1e-6);
  inst.send("click", { x, y, width: w, height: h, unix_time: Date.now() });
}

function onClick(inst, e) {
  const r = inst.img.getBoundingClientRect();
  if (!r.width || !r.height) return;
  report(inst, ((e.clientX - r.left) / r.width) * inst.img.naturalWidth, ((e.clientY - r.top) / r.height) * inst.img.naturalHeight);
}

const MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

function onKey(inst, e) {
  const move = MOVES[e.key];
  if (!move) return;
  e.preventDefault();
  const [row, col] = inst.data.centre, step = inst.data.step;
  report(inst, col + 0.5 + move[1] * step, row + 0.5 + move[0] * step);
}

export default function (component) {
  const { data, key, parentElement, setTriggerValue } = component;
  let inst = INSTANCES.get(key);
  if (!inst || !parentElement.contains(inst.root)) {
    const root = document.createElement("div");
    root.className = "kl-photo";
    const img = document.createElement("img");
    img.className = "kl-photo-img";
    img.draggable = false;
    img.tabIndex = 0;
    root.appendChild(img);
    parentElement.appendChild(root);
    inst = { root, img, src: null };
    img.addEventListener("click", (e) => onClick(inst, e));
    img.addEventListener("keydown", (e) => onKey(inst, e));
    INSTANCES.set(key, inst);
  }
  inst.send = setTriggerValue;
  inst.data = data;
  if (inst.src !== data.src) {
    inst.src = data.src;
    inst.img.src = data.src;
  }
  inst.img.alt = data.alt;
  inst.img.title = data.hint;
  inst.img.style.width = `${(100 * data.share).toFixed(3)}%`;
  return () => {};
}
