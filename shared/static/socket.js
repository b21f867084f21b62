/* Every page's connection to its namespace of the hub: a websocket that reconnects quickly, the
 * snapshot then the events after it (an event the snapshot already holds, by `seq`, is
 * dropped), the hub's clock followed from each snapshot, and a reload when the hall file
 * changes (the page carries the catalogue). Uses the vendored Socket.IO client (`io`), loaded
 * by the base template before the page's modules, or by loadClient() once a page that leaves it
 * out of its first paint has drawn. */
import { followHubClock } from "./clock.js";

const OPTIONS = {
  transports: ["websocket"],
  reconnectionDelay: 500,
  reconnectionDelayMax: 3000,
  randomizationFactor: 0.3,
  timeout: 5000,
};
const RESTARTED_MS = 3000; // after the hub ended the session (the client does not retry by itself)
const REFUSED_MS = 10000; // while the hub refuses a device's token

/** The hub's reason for refusing a connection. */
export const refusal = (err) => (err && err.data && err.data.message) || String(err && err.message);

/** Load the page again, 0-3 s from now at random, so a hall of pages does not reach the hub all
 * at once. */
export function reloadSoon() {
  setTimeout(() => window.location.reload(), Math.random() * 3000);
}

/** The Socket.IO client, for a page that leaves it out of its first paint (its template names
 * it in `data-socketio-src`): 47 KB the browser need not fetch and parse before the page's
 * first data is on screen. */
export function loadClient() {
  if (window.io) return Promise.resolve();
  const holder = document.querySelector("[data-socketio-src]");
  if (!holder) return Promise.reject(new Error("no Socket.IO client on this page"));
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = holder.dataset.socketioSrc;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`${script.src}: not loaded`));
    document.head.append(script);
  });
}

/**
 * Connect to `namespace` with `auth`. `on` (all optional): `online()`, `offline(reason)` (lost,
 * reconnecting), `refused(err)` (the hub said no: not retried by the client), `snapshot(snap)`,
 * `event(ev)`, `reload()` on `config.reloaded` (default: reloadSoon). `retry`: a device's page
 * (screen, kiosk) keeps knocking after the hub ends or refuses its session, as nobody is there
 * to sign in again. `path`: the Socket.IO path, if not the default.
 */
export function connect(namespace, auth, on, { retry = false, path = null } = {}) {
  const socket = io(namespace, { ...OPTIONS, auth, ...(path ? { path } : {}) });
  let lastSeq = -1;
  socket.on("connect", () => {
    if (on.online) on.online();
  });
  socket.on("disconnect", (reason) => {
    if (on.offline) on.offline(reason);
    if (retry && reason === "io server disconnect") setTimeout(() => socket.connect(), RESTARTED_MS);
  });
  socket.on("connect_error", (err) => {
    if (socket.active) {
      if (on.offline) on.offline("connect_error");
      return;
    }
    if (on.refused) on.refused(err);
    if (retry) setTimeout(() => socket.connect(), REFUSED_MS);
  });
  socket.on("snapshot", (snap) => {
    if (!snap) return;
    if (typeof snap.seq === "number") lastSeq = snap.seq;
    followHubClock(snap);
    if (on.snapshot) on.snapshot(snap);
  });
  socket.on("event", (ev) => {
    if (!ev) return;
    if (typeof ev.seq === "number") {
      if (ev.seq <= lastSeq) return; // already in the snapshot
      lastSeq = ev.seq;
    }
    if (ev.type === "config.reloaded") (on.reload || reloadSoon)();
    if (on.event) on.event(ev);
  });
  return socket;
}
