/* 实时监控: the center office's live monitor. A supervisor signs in (POST /api/v1/login, no
 * window; the office's session in sessionStorage), then the /monitor namespace sends a snapshot
 * and every event after it (monitor/state.js); the page applies them and never polls. Drawn
 * here from the state: the windows (monitor/windows.js), alerts and returns (monitor/lists.js),
 * totals, the item table, the move form and the notice (monitor/actions.js); pairing screens
 * and kiosks (monitor/pairing.js). */
import { $ } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";
import { renderMove, renderServices, wireActions } from "./monitor/actions.js";
import { renderAlerts, renderReturns } from "./monitor/lists.js";
import { wirePairing } from "./monitor/pairing.js";
import { apply, connecting, snapshot, st, totals } from "./monitor/state.js";
import { renderWindows, tick } from "./monitor/windows.js";
import { joined } from "/shared/static/i18n.js";

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.supervisor_account_needed"),
  parts: ["monitor", "signout", "who"],
  signedIn: connect,
  signedOut: () => { $("offline").hidden = true; },
});

function connect(session) {
  $("who").textContent = `${session.name || session.username}`;
  connecting();
  const socket = staff.connect("/monitor", {
    online: () => { $("offline").hidden = true; },
    offline: () => { $("offline").hidden = false; },
    snapshot: (snap) => {
      snapshot(snap);
      render();
    },
    event: (ev) => {
      apply(ev);
      render();
    },
  });
  socket.on("totals", (t) => {
    if (totals(t)) render();
  });
}

function render() {
  renderWindows();
  renderAlerts();
  renderReturns(staff);
  renderTotals();
  renderServices(staff, st.rebuildServices);
  st.rebuildServices = false;
  renderMove();
  $("notice-now").textContent = st.notice + (st.noticeEn ? ` / ${st.noticeEn}` : "");
}

function renderTotals() {
  const t = st.totals;
  if (!t) return;
  $("t-issued").textContent = String(t.issued);
  $("t-served").textContent = String(t.served);
  $("t-serving").textContent = String(t.serving);
  $("t-waiting").textContent = String(t.waiting);
  $("t-no-shows").textContent = String(t.no_shows);
  $("t-ratings").textContent = String(t.ratings);
  $("t-satisfaction").textContent =
    t.satisfaction === null || t.satisfaction === undefined ? "—" : `${(t.satisfaction * 100).toFixed(1)}%`;
  $("t-complaints").textContent = String(t.complaints);
}

wireActions(staff);
wirePairing(staff);
setInterval(tick, 1000); // the clock and the "served for" timers only: state comes by push
staff.resume();
