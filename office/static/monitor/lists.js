/* The live monitor's side lists: 电子监察 alerts (newest first; a new one flashes, the others
 * keep their elements so they do not flash again), and the returns awaiting a supervisor's
 * consent, decided with the socket's `decide_return`. */
import { serviceName } from "/shared/static/catalogue.js";
import { parseAt } from "/shared/static/clock.js";
import { $, bilingual, en, make, say } from "/shared/static/dom.js";
import { hallFormat } from "/shared/static/halltime.js";
import { st } from "./state.js";

const ACK_MS = 5000;
const HHMM = hallFormat({ hour: "2-digit", minute: "2-digit", hour12: false });

const hhmm = (iso) => {
  const d = new Date(parseAt(iso));
  return Number.isNaN(d.getTime()) ? "" : HHMM.format(d);
};

// Alerts keep their elements while they hold, so a new one flashes and the others do not
// start flashing again at every event.
const alertNodes = new Map();

function alertItem(a) {
  const li = make("li", `alert alert-${a.kind}${a.fresh ? " flash" : ""}`);
  li.dataset.key = a.key;
  const when = make("time", "since", hhmm(a.since));
  when.dateTime = a.since;
  li.append(when, make("span", "message", a.message));
  if (a.message_en) li.append(en(a.message_en, "en message-en"));
  return li;
}

export function renderAlerts() {
  const alerts = [...st.alerts.values()].sort((a, b) => parseAt(b.since) - parseAt(a.since)
    || a.key.localeCompare(b.key));
  const keys = alerts.map((a) => a.key).join("\n");
  const list = $("alerts");
  if (list.dataset.keys !== keys || list.children.length !== alerts.length) {
    list.dataset.keys = keys;
    const nodes = alerts.map((a) => alertNodes.get(a.key) || alertItem(a));
    alertNodes.clear();
    alerts.forEach((a, i) => alertNodes.set(a.key, nodes[i]));
    list.replaceChildren(...nodes);
  }
  for (const a of alerts) a.fresh = false;
  $("alert-count").textContent = String(alerts.length);
  $("alerts-empty").hidden = alerts.length > 0;
}

export function renderReturns(staff) {
  const list = $("returns");
  const returns = [...st.returns.values()];
  // Keep a half-typed note: redraw only when the set of returns changed.
  const ids = returns.map((t) => t.id).join(",");
  if (list.dataset.ids !== ids) {
    list.dataset.ids = ids;
    list.replaceChildren(...returns.map((t) => returnItem(staff, t)));
  }
  $("return-count").textContent = String(returns.length);
  $("returns-empty").hidden = returns.length > 0;
}

function returnItem(staff, t) {
  const li = make("li", "return");
  li.dataset.id = t.id;
  const head = make("p", "return-head");
  head.append(make("strong", "number", t.number), ` ${serviceName(t.service)}`,
              ` · ${t.window ? `${t.window}号窗口` : ""} · ${t.clerk || ""}`);
  const reason = make("p", "reason", `原因 Reason：${t.reason}`);
  const note = make("input", "note");
  note.placeholder = "意见 Note";
  note.setAttribute("aria-label", `${t.number} 审批意见 Note`);
  const approve = bilingual(make("button", "primary approve"), "批准", "Approve");
  approve.type = "button";
  approve.onclick = () => decide(staff, t.id, true, note.value, approve);
  const refuse = bilingual(make("button", "refuse"), "驳回", "Refuse");
  refuse.type = "button";
  refuse.onclick = () => decide(staff, t.id, false, note.value, refuse);
  const row = make("div", "buttons");
  row.append(note, approve, refuse);
  li.append(head, reason, row);
  return li;
}

function decide(staff, id, approve, note, button) {
  if (!staff.socket) return;
  button.disabled = true;
  staff.socket.timeout(ACK_MS).emit("decide_return", { ticket_id: id, approve, note }, (err, res) => {
    button.disabled = false;
    if (err) say("error", "未收到答复，请重试 / no answer: try again");
    else if (!res.ok) say("error", res.error.message);
    else {
      say("error", "");
      say("info", approve ? "已批准退件 / Return approved" : "已驳回退件 / Return refused");
    }
  });
}
