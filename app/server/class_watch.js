// The classroom box's watch, in the browser (app/server/class_watch.py): ask the server's small JSON
// address every few seconds; when what the box shows has changed there (a banner, a pushed link, a
// poll, the class settings, the training line), fire the "changed" trigger, which reruns the box.
const WATCHES = new Map();

async function ask(w) {
  if (w.busy) return;
  if (!w.el.isConnected) {
    clearInterval(w.timer);
    if (WATCHES.get(w.key) === w) WATCHES.delete(w.key);
    return;
  }
  w.busy = true;
  try {
    const r = await fetch(w.data.url, { cache: "no-store", credentials: "same-origin" });
    const got = r.status === 404 ? "gone" : r.ok ? (await r.json()).stamp : null;
    if (got && got !== w.data.stamp && got !== w.sent) {
      w.sent = got;  // once per new stamp: the rerun draws the box with it
      w.trigger("changed", got);
    }
  } catch (e) {
    // the server is out of reach for now: the next tick asks again
  } finally {
    w.busy = false;
  }
}

export default function (component) {
  const { data, key, parentElement, setTriggerValue } = component;
  let w = WATCHES.get(key);
  if (!w || w.el !== parentElement || w.every !== data.every_ms) {
    if (w) clearInterval(w.timer);
    w = { key, el: parentElement, busy: false, sent: null, every: data.every_ms };
    WATCHES.set(key, w);
    w.timer = setInterval(() => ask(w), data.every_ms);
  }
  w.data = data;
  w.trigger = setTriggerValue;
  if (w.sent === data.stamp) w.sent = null;
  return () => {};
}
