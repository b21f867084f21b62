/* What the call screens share: their config and token (kept in the page's storage, paired by
 * code when there is none: shared/static/pairing.js), the /display connection with its offline
 * banner, the clock, the notice line, fitting a list to the screen, and the paint measurements. */
import { readJson } from "/shared/static/catalogue.js";
import { parseAt } from "/shared/static/clock.js";
import { $, en } from "/shared/static/dom.js";
import { hallFormat, runClock } from "/shared/static/halltime.js";
import { connect, refusal } from "/shared/static/socket.js";
import { both } from "/shared/static/i18n.js";
import { deviceToken, pair, pairAgain, tokenRefused } from "/shared/static/pairing.js";

export const config = readJson("config");
export const token = deviceToken("screen");

/** Set the text of #id, only when it changes (no needless layout on a screen that runs for days). */
export function text(id, value) {
  const node = $(id);
  if (node.textContent !== value) node.textContent = value;
}

// Hide the children of a clipped list that would show only in part (rows, cards).
export function fitChildren(node) {
  const bottom = node.getBoundingClientRect().bottom + 1;
  for (const child of node.children) {
    child.hidden = false;
  }
  for (const child of node.children) {
    if (child.getBoundingClientRect().bottom > bottom) child.hidden = true;
  }
}

// --- paint measurements: the event's `at` (hub clock) to the animation frame after the DOM
// update (same machine clock in the benchmark). Bounded: the newest 1000 only.
const PAINTS_KEPT = 1000;
window.__paints = [];
export function recordPaint(ev, number) {
  const at = parseAt(ev.at);
  const dom = Date.now();
  requestAnimationFrame(() => {
    const painted = Date.now();
    window.__paints.push({ seq: ev.seq, type: ev.type, number, at, dom, painted,
                           ms: painted - at });
    if (window.__paints.length > PAINTS_KEPT) window.__paints.splice(0, PAINTS_KEPT / 2);
  });
}

// --- the scrolling notice line -------------------------------------------------------------
function setNotice(center) {
  const parts = [center.notice, center.notice_en].filter((s) => s && s.trim());
  const line = $("notice");
  const joined = parts.join("　　");
  if (line.textContent === joined) return;
  line.textContent = joined;
  line.parentElement.parentElement.hidden = !joined;
  // About 8 characters a second, whatever the length.
  line.style.animationDuration = `${Math.max(12, Math.round(joined.length / 8 + 10))}s`;
}

// --- the connection ------------------------------------------------------------------------
function banner(kind, zh, english) {
  const node = $("offline");
  node.hidden = !kind;
  if (!kind) return;
  node.className = `offline offline-${kind}`;
  node.replaceChildren(zh + " ", en(english, ""));
}

/** Connect this screen to /display: `handlers.snapshot(snap)`, `handlers.event(ev)`. */
export function connectScreen(handlers) {
  if (!token) {
    pair("screen");
    return null;
  }
  return connect("/display", { token, room: config.room }, {
    online: () => banner(null),
    offline: () => banner("offline", ...both("display.offline_reconnecting")),
    // Refused by the hub (bad token, unknown window): say so; the helper tries again now and then.
    refused: (err) => {
      if (tokenRefused(err && err.data)) pairAgain("screen"); // revoked: pair again
      else banner("error", ...both("display.refused", { reason: refusal(err) }));
    },
    snapshot: (snap) => {
      setNotice(snap.center);
      handlers.snapshot(snap);
    },
    event: (ev) => {
      try {
        if (ev.type === "notice.set") setNotice({ notice: ev.data.text, notice_en: ev.data.text_en });
        handlers.event(ev);
      } catch (e) {
        console.error("event", ev, e);
      }
    },
  }, { retry: true });
}

runClock(hallFormat({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }));
