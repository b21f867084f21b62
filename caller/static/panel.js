/* The clerk's panel: sign in (POST /api/v1/login, the session in sessionStorage), then the
 * /caller namespace: the window's state from the snapshot and events, the actions as acked
 * events (panel/actions.js), slips and joint cases (panel/slips.js), and the cases about this
 * clerk with their appeals (panel/mine.js). */
import { catalogue as C, serviceName } from "/shared/static/catalogue.js";
import { hubNow, parseAt } from "/shared/static/clock.js";
import { $, make, option, say } from "/shared/static/dom.js";
import { StaffSession, windowLabel } from "/shared/static/staff.js";
import { addWaiting } from "/shared/static/waiting.js";
import { wireActions } from "./panel/actions.js";
import { loadMine } from "./panel/mine.js";
import { loadJoint, showPrinted, wireSlips } from "./panel/slips.js";
import { joined, spaced, t, t2 } from "/shared/static/i18n.js";

const st = { status: "closed", pause: null, current: null, ticket: null, waiting: {} };

const staff = new StaffSession({
  key: "onestop.caller",
  clerks: true,
  wrongRole: joined("caller.panel_clerks"),
  parts: ["panel"],
  signedIn: start,
});
const myWindow = () => C.windows.find((w) => w.no === (staff.session && staff.session.window));

// --- static selects from the catalogue ----------------------------------------------------
for (const w of C.windows) $("window-select").append(option(w.no, windowLabel(w)));
for (const r of C.pause_reasons) $("pause-reason").append(option(r, r));
for (const o of C.outcomes) $("outcome").append(option(o.code, `${o.name} ${o.name_en}`));
for (const d of C.departments) $("departments").append(option(d.code, d.name));
for (const s of C.slip_statuses) $("slip-status").append(option(s.code, `${s.name} ${s.name_en}`));
$("transfer-service").append(option("", "—"));
for (const [code, s] of Object.entries(C.services)) {
  $("transfer-service").append(option(code, `${s.name}`));
}
$("transfer-window").append(option("", "—"));
for (const w of C.windows) $("transfer-window").append(option(w.no, windowLabel(w)));

function showOutcomeFields() {
  const v = $("outcome").value;
  $("f-departments").hidden = v !== "joint";
  $("f-authority").hidden = v !== "report";
  $("f-reason").hidden = v !== "returned";
}
$("outcome").addEventListener("change", showOutcomeFields);

// --- the live window ------------------------------------------------------------------------
function showWindowName() {
  const w = myWindow();
  $("window-name").textContent = w ? windowLabel(w) : t("common.window", { no: staff.session.window });
}

function start(s) {
  $("staff-name").textContent = s.name;
  $("staff-no").textContent = s.staff_no;
  showWindowName();
  const photo = $("photo");
  photo.hidden = true;
  photo.onload = () => { photo.hidden = false; };
  photo.onerror = () => { photo.hidden = true; };
  if (s.staff_no) {
    photo.src = `/display/badge/${encodeURIComponent(s.staff_no)}?token=${encodeURIComponent(s.token)}`;
  }
  const socket = staff.connect("/caller", {
    online: () => { loadJoint(staff); loadMine(staff); }, snapshot, event,
  });
  socket.on("moved", (d) => {
    // A supervisor moved this clerk: the same session acts for the new window (a snapshot
    // of it follows), no new sign-in.
    staff.save({ ...staff.session, window: d.window });
    showWindowName();
    say("info", joined("caller.moved", { name: $("window-name").textContent, window: d.window }));
    loadJoint(staff);
  });
  socket.on("printed", showPrinted);
}

function applyWindow(w) {
  st.status = w.status;
  st.pause = w.pause_reason;
  setCurrent(w.current);
  render();
}

function snapshot(snap) {
  st.waiting = { ...snap.waiting };
  const w = snap.windows.find((x) => x.no === staff.session.window);
  if (w) applyWindow(w);
}

function event(ev) {
  const d = ev.data || {};
  if (ev.type.startsWith("case.")) loadMine(staff); // the hub sends only the cases naming us
  const mine = d.window_no === staff.session.window;
  switch (ev.type) {
    case "ticket.issued": addWaiting(st.waiting, d.service, +1); break;
    case "ticket.called":
      addWaiting(st.waiting, d.service, -1);
      if (mine) setCurrent({ id: d.ticket_id, number: d.number, service: d.service });
      break;
    case "ticket.no_show":
      if (d.requeued) addWaiting(st.waiting, d.service, +1);
      if (mine) setCurrent(null);
      break;
    case "ticket.transferred":
      addWaiting(st.waiting, d.to_service || (st.current && mine ? st.current.service : null), +1);
      if (mine) setCurrent(null);
      break;
    case "ticket.finished":
    case "ticket.return_requested":
      if (mine) setCurrent(null);
      break;
    case "window.paused": if (mine) { st.status = "paused"; st.pause = d.reason; } break;
    case "window.resumed": if (mine) { st.status = "open"; st.pause = null; } break;
    case "window.signed_in": if (mine) st.status = "open"; break;
    case "window.signed_out": if (mine) { st.status = "closed"; setCurrent(null); } break;
    case "day.rolled": st.waiting = {}; setCurrent(null); break;
    default: break;
  }
  render();
}

function setCurrent(cur) {
  const id = cur && cur.id;
  if ((st.current && st.current.id) === id) return;
  st.current = cur ? { ...cur } : null;
  st.ticket = null;
  if (!id) return;
  staff.api("GET", `/tickets/${encodeURIComponent(id)}`).then((ticket) => {
    if (st.current && st.current.id === ticket.id) {
      st.ticket = ticket;
      render();
    }
  }).catch(() => {});
}

// --- drawing --------------------------------------------------------------------------------
const STATUS = { open: spaced("caller.in_service"), paused: spaced("caller.paused_2"), closed: spaced("caller.closed") };
const mmss = (ms) => {
  if (!(ms >= 0)) return "—";
  const s = Math.floor(ms / 1000);
  return t("caller.mmss", { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") });
};

function render() {
  if (!staff.session) return;
  $("window-status").textContent = STATUS[st.status] || st.status;
  $("pause-line").hidden = st.status !== "paused";
  $("pause-reason-now").textContent = st.pause || "";
  $("btn-pause").firstChild.textContent = st.status === "paused" ? `F5 ${t("caller.resume")} ` : `F5 ${t("caller.pause")} `;
  $("btn-pause").lastElementChild.textContent = st.status === "paused" ? t2("caller.resume") : t2("caller.pause");
  const cur = st.current;
  $("current-number").textContent = cur ? cur.number : "—";
  const svc = cur && C.services[cur.service];
  $("current-service").textContent = svc ? `${svc.name} ${svc.name_en}` : "";
  $("target").textContent = svc ? spaced("caller.min", { target_minutes: svc.target_minutes }) : "—";
  $("limit").textContent = svc
    ? (svc.time_limit_days ? spaced("caller.working_days", { time_limit_days: svc.time_limit_days }) : spaced("caller.same_day")) : "—";
  const w = myWindow();
  $("waiting-list").replaceChildren(...(w ? w.services : []).map((code) => {
    const li = make("li");
    li.append(make("span", "", serviceName(code)),
      make("span", "count", String(st.waiting[code] || 0)));
    return li;
  }));
  tick();
}

function tick() {
  const ticket = st.ticket;
  const cur = st.current;
  const warn = $("target-warning");
  if (!cur || !ticket) {
    $("waited").textContent = "—";
    $("served").textContent = "—";
    warn.hidden = true;
    return;
  }
  const called = parseAt(ticket.called_at);
  $("waited").textContent = mmss(called - parseAt(ticket.issued_at));
  const served = hubNow() - called;
  $("served").textContent = mmss(served);
  const svc = C.services[cur.service];
  const target = svc ? svc.target_minutes * 60000 : 0;
  if (target && served >= target) {
    warn.hidden = false;
    warn.className = "warning over";
    warn.textContent = joined("caller.over_target_time");
  } else if (target && served >= target * 0.8) {
    warn.hidden = false;
    warn.className = "warning";
    warn.textContent = joined("caller.nearing_target_time");
  } else {
    warn.hidden = true;
  }
}
setInterval(tick, 1000);

// --- start ------------------------------------------------------------------------------------
wireActions(staff, { st, applyWindow });
wireSlips(staff);
showOutcomeFields();
if (!staff.resume()) staff.signOut("");
