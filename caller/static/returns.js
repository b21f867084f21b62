/* 退件审批: a supervisor's queue of returns awaiting consent (art. 4(5)). Signs in with
 * POST /api/v1/login (the session in sessionStorage), lists GET /api/v1/returns, refreshes it on
 * the /monitor namespace's return events, and approves or refuses with a note. */
import { serviceName } from "/shared/static/catalogue.js";
import { $, make, say } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";

const staff = new StaffSession({
  key: "onestop.returns.session",
  wrongRole: "退件审批需督查员账号 / a supervisor account is needed",
  parts: ["queue"],
  signedIn: () => staff.connect("/monitor", {
    snapshot: (snap) => render(snap.returns || []),
    event: (ev) => {
      if (ev.type === "ticket.return_requested" || ev.type === "ticket.return_decided") refresh();
    },
    // Not reloaded when the hall file changes: the queue comes from the hub, and only an item's
    // name (from the catalogue) could be out of date until the page is loaded again.
    reload: () => {},
  }),
});

function cell(row, text) {
  const td = row.insertCell();
  td.textContent = text;
  return td;
}

function render(returns) {
  const body = $("returns").tBodies[0];
  body.replaceChildren();
  for (const t of returns) {
    const row = body.insertRow();
    const visit = (t.visits || [])[t.visits.length - 1] || {};
    cell(row, t.number);
    cell(row, serviceName(t.service));
    cell(row, visit.window ? `${visit.window}号窗口` : "");
    cell(row, visit.clerk || "");
    cell(row, (t.outcome && t.outcome.reason) || "");
    const td = row.insertCell();
    const note = make("input");
    note.placeholder = "意见 Note";
    note.setAttribute("aria-label", `${t.number} 审批意见 Note`);
    const approve = make("button", "primary", "批准 Approve");
    approve.onclick = () => decide(t.id, "approve", note.value);
    const refuse = make("button", "", "驳回 Refuse");
    refuse.onclick = () => decide(t.id, "refuse", note.value);
    td.append(note, approve, refuse);
  }
  $("count").textContent = String(returns.length);
  $("empty").hidden = returns.length > 0;
}

async function refresh() {
  try {
    render((await staff.api("GET", "/returns")).returns);
    say("error", "");
  } catch (e) {
    say("error", `无法读取退件 / cannot read returns: ${e.message}`);
  }
}

async function decide(id, decision, note) {
  try {
    await staff.api("POST", `/returns/${encodeURIComponent(id)}/${decision}`, { note });
    await refresh();
  } catch (e) {
    say("error", e.message);
  }
}

staff.resume();
