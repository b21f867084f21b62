/* The live monitor's state: the /monitor snapshot (windows, waiting counts, returns, devices,
 * alerts, totals), then every event after it applied here. On a reconnect the hub sends a fresh
 * snapshot, which replaces everything (the snapshot is the truth); totals are pushed by the hub
 * after each commit rather than summed here, so they cannot drift. */

export const st = {
  windows: new Map(), // no -> {no, name, department, services, status, pause_reason, clerk, current}
  waiting: {},
  closed: {},
  notice: "",
  noticeEn: "",
  alerts: new Map(), // key -> {key, kind, since, message, message_en, window, fresh}
  devices: new Map(), // id -> {device, kind, window, windows, agent, status, detail, since}
  unboundAgents: new Set(), // names of agents whose token is unbound
  returns: new Map(), // ticket id -> {id, number, service, window, clerk, reason}
  totals: null,
  rebuildServices: false, // the closed set changed: the item table is built again
};
let firstSnapshot = true; // the first snapshot's alerts are not new: they do not flash

/** Signed in again: the first snapshot's alerts are not new to this page either. */
export function connecting() {
  firstSnapshot = true;
}

export function snapshot(snap) {
  st.windows = new Map(snap.windows.map((w) => [w.no, {
    no: w.no, name: w.name, department: w.department.code, services: w.services,
    status: w.status, pause_reason: w.pause_reason, clerk: w.clerk,
    current: w.current ? { ...w.current } : null,
  }]));
  st.waiting = { ...snap.waiting };
  st.closed = { ...snap.closed_services };
  st.notice = snap.center.notice || "";
  st.noticeEn = snap.center.notice_en || "";
  const seen = new Set(st.alerts.keys());
  st.alerts = new Map((snap.alerts || []).map((a) => [a.key, {
    ...a, fresh: !firstSnapshot && !seen.has(a.key),
  }]));
  st.devices = new Map((snap.devices || []).map((d) => [d.device, d]));
  // agents whose token is bound to no kiosk and window (may act for any): marked, to be bound
  st.unboundAgents = new Set(snap.unbound_agents || []);
  st.returns = new Map((snap.returns || []).map((t) => {
    const visit = (t.visits || [])[(t.visits || []).length - 1] || {};
    return [t.id, { id: t.id, number: t.number, service: t.service, window: visit.window,
                    clerk: visit.clerk || "", reason: (t.outcome && t.outcome.reason) || "" }];
  }));
  st.totals = snap.totals || null;
  st.rebuildServices = true;
  firstSnapshot = false;
}

/** The hub's totals, pushed after each commit. */
export function totals(t) {
  // Each hub of a pair pushes its own: never step back to an older one.
  if (st.totals && typeof t.seq === "number" && t.seq < st.totals.seq) return false;
  st.totals = t;
  st.waiting = { ...t.waiting_by_service };
  return true;
}

function applyTicket(ev, d, w) {
  switch (ev.type) {
    case "ticket.called":
      if (w) w.current = { id: d.ticket_id, number: d.number, service: d.service, called_at: ev.at };
      break;
    case "ticket.return_requested":
      st.returns.set(d.ticket_id, {
        id: d.ticket_id, number: d.number, window: d.window_no, clerk: d.clerk,
        reason: d.reason, service: (w && w.current && w.current.service) || "",
      });
      if (w) w.current = null;
      break;
    case "ticket.return_decided":
      st.returns.delete(d.ticket_id);
      break;
    default: // no-show, transfer, finish
      if (w && w.current && w.current.id === d.ticket_id) w.current = null;
      break;
  }
}

function applyWindow(ev, d, w) {
  if (!w) return;
  switch (ev.type) {
    case "window.signed_in":
      w.status = "open"; w.pause_reason = null; w.clerk = { ...d.clerk };
      break;
    case "window.signed_out":
      w.status = "closed"; w.pause_reason = null; w.clerk = null; w.current = null;
      break;
    case "window.paused":
      w.status = "paused"; w.pause_reason = d.reason;
      break;
    case "window.resumed":
      if (w.clerk) { w.status = "open"; w.pause_reason = null; }
      break;
    default:
      break;
  }
}

const TICKET_EVENTS = new Set(["ticket.called", "ticket.return_requested", "ticket.no_show",
  "ticket.transferred", "ticket.finished", "ticket.return_decided"]);
const WINDOW_EVENTS = new Set(["window.signed_in", "window.signed_out", "window.paused",
  "window.resumed"]);

export function apply(ev) {
  const d = ev.data || {};
  const w = d.window_no !== undefined ? st.windows.get(d.window_no) : null;
  if (TICKET_EVENTS.has(ev.type)) applyTicket(ev, d, w);
  else if (WINDOW_EVENTS.has(ev.type)) applyWindow(ev, d, w);
  else applyHall(ev, d);
}

function applyHall(ev, d) {
  switch (ev.type) {
    case "day.rolled":
      for (const x of st.windows.values()) x.current = null;
      break;
    case "service.closed":
      st.closed[d.service] = d.reason;
      st.rebuildServices = true;
      break;
    case "service.reopened":
      delete st.closed[d.service];
      st.rebuildServices = true;
      break;
    case "notice.set":
      st.notice = d.text || "";
      st.noticeEn = d.text_en || "";
      break;
    case "device.state_changed":
      st.devices.set(d.device, {
        device: d.device, kind: d.kind, window: d.window_at, windows: d.windows_at || [],
        agent: d.agent, status: d.status, detail: d.detail || "", since: ev.at,
      });
      break;
    case "device.removed":
      st.devices.delete(d.device);
      break;
    case "alert.raised":
      st.alerts.set(d.key, {
        key: d.key, kind: d.kind, since: ev.at, message: d.message,
        message_en: d.message_en || "", window: d.window_at, service: d.service, fresh: true,
      });
      break;
    case "alert.cleared":
      st.alerts.delete(d.key);
      break;
    default:
      break;
  }
}
