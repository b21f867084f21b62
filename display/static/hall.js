/* 综合屏: the newest call large, the last calls, waiting counts per department and item. */
import { catalogue, department } from "/shared/static/catalogue.js";
import { $, en, make } from "/shared/static/dom.js";
import { addWaiting } from "/shared/static/waiting.js";
import { config, connectScreen, fitChildren, recordPaint, text } from "./screen.js";

const MAX_CALLS = config.calls || 10;
const FRESH_MS = 8000; // how long a new call stays highlighted (and the banner flashes)

const state = {
  windows: new Map(), // no -> {no, name, zone, services, department}
  current: new Map(), // window no -> service code of the ticket it serves
  calls: [], // newest first, at most MAX_CALLS
  waiting: {}, // service code -> count
  zone: config.zone || "",
};
let freshTimer = null;

function inZone(no) {
  if (!state.zone) return true;
  const w = state.windows.get(no);
  return !!w && w.zone === state.zone;
}

// Citizens find a window by its number; a window's long name is for its own screen.
const windowName = (no) => `${no}号窗口`;

function zoneServices() {
  if (!state.zone) return null;
  const codes = new Set();
  for (const w of state.windows.values()) if (w.zone === state.zone) w.services.forEach((s) => codes.add(s));
  return codes;
}

function renderNow(fresh) {
  const call = state.calls.find((c) => inZone(c.window));
  text("now-number", call ? call.number : "—");
  text("now-window", call ? `到 ${windowName(call.window)}` : " ");
  const now = $("now");
  const flash = $("flash");
  if (fresh && call) {
    now.classList.remove("fresh");
    void now.offsetWidth; // restart the animation
    now.classList.add("fresh");
    flash.replaceChildren(
      make("span", "flash-zh", `请 ${call.number} 号 到 ${windowName(call.window)}`),
      en(`Number ${call.number}, please go to window ${call.window}`, "flash-en")
    );
    flash.hidden = false;
    clearTimeout(freshTimer);
    freshTimer = setTimeout(() => {
      now.classList.remove("fresh");
      flash.hidden = true;
    }, FRESH_MS);
  } else if (!call) {
    now.classList.remove("fresh");
    flash.hidden = true;
  }
}

function renderRecent() {
  const rows = state.calls.filter((c) => inZone(c.window)).map((c, i) => {
    const li = make("li", i === 0 ? "recent-row newest" : "recent-row");
    li.append(
      make("span", "recent-number", c.number),
      make("span", "recent-arrow", "→"),
      make("span", "recent-window", windowName(c.window))
    );
    if (c.recall) li.append(make("span", "recent-recall", "重呼"));
    return li;
  });
  $("recent").replaceChildren(...rows);
  fitChildren($("recent"));
}

function renderWaiting() {
  const only = zoneServices();
  const byDept = new Map();
  for (const [code, svc] of Object.entries(catalogue.services)) {
    if (only && !only.has(code)) continue;
    const n = state.waiting[code] || 0;
    if (n <= 0) continue;
    if (!byDept.has(svc.department)) byDept.set(svc.department, []);
    byDept.get(svc.department).push([svc.name, n]);
  }
  const cards = [];
  for (const [dept, items] of byDept) {
    const card = make("div", "dept-card");
    const total = items.reduce((s, [, n]) => s + n, 0);
    const head = make("div", "dept-head");
    head.append(make("span", "dept-name", department(dept).name),
                make("span", "dept-total", `${total}人`));
    card.append(head);
    for (const [name, n] of items) {
      const row = make("div", "svc-row");
      row.append(make("span", "svc-name", name), make("span", "svc-count", String(n)));
      card.append(row);
    }
    cards.push(card);
  }
  if (!cards.length) {
    const none = make("p", "none", "目前无人等候 ");
    none.append(en("No one waiting", ""));
    cards.push(none);
  }
  const list = $("waiting");
  list.classList.remove("compact");
  list.replaceChildren(...cards);
  // Too many to fit: one line per department with its total.
  if (list.scrollHeight > list.clientHeight + 1) list.classList.add("compact");
  fitChildren(list);
}

function snapshot(snap) {
  state.windows.clear();
  state.current.clear();
  for (const w of snap.windows) {
    state.windows.set(w.no, { no: w.no, name: w.name, zone: w.zone, services: w.services });
    if (w.current) state.current.set(w.no, w.current.service);
  }
  state.calls = snap.recent_calls.slice(0, MAX_CALLS).map((c) => ({
    ticket_id: c.ticket_id, number: c.number, service: c.service, window: c.window,
    recall: c.recall || 0,
  }));
  state.waiting = { ...snap.waiting };
  const zone = $("zone");
  zone.hidden = !state.zone;
  zone.textContent = state.zone ? `${state.zone} 区域` : "";
  renderNow(false);
  renderRecent();
  renderWaiting();
}

function event(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case "ticket.called":
    case "ticket.recalled": {
      state.calls.unshift({ ticket_id: d.ticket_id, number: d.number, service: d.service,
                            window: d.window_no, recall: d.recalls || 0 });
      state.calls.length = Math.min(state.calls.length, MAX_CALLS);
      state.current.set(d.window_no, d.service);
      if (ev.type === "ticket.called") addWaiting(state.waiting, d.service, -1);
      if (inZone(d.window_no)) {
        renderNow(true);
        renderRecent();
        renderWaiting();
        recordPaint(ev, d.number);
      }
      break;
    }
    case "ticket.issued":
      addWaiting(state.waiting, d.service, +1);
      renderWaiting();
      break;
    case "ticket.no_show":
      state.current.delete(d.window_no);
      if (d.requeued) addWaiting(state.waiting, d.service, +1);
      renderWaiting();
      break;
    case "ticket.transferred":
      addWaiting(state.waiting, d.to_service || state.current.get(d.window_no), +1);
      state.current.delete(d.window_no);
      renderWaiting();
      break;
    case "ticket.finished":
    case "ticket.return_requested":
    case "window.signed_out":
      state.current.delete(d.window_no);
      break;
    case "day.rolled":
      state.calls = [];
      state.waiting = {};
      state.current.clear();
      renderNow(false);
      renderRecent();
      renderWaiting();
      break;
    default:
      break;
  }
}

const refit = () => {
  renderRecent();
  renderWaiting();
};
window.addEventListener("resize", refit);
document.fonts.ready.then(refit); // rows measured with a fallback font would not fit after

connectScreen({ snapshot, event });
