/* 督办: the office's casework page. A supervisor signs in (the office's session, shared with the
 * other office pages), reads the queue of open cases by deadline (cases/queue.js), opens one to
 * read its timeline and record the next step (cases/detail.js), and enters complaints that come
 * by phone, box, letter or visit. Live over /monitor: a case.* event from any page (or a 差评
 * pressed at a keypad) is fetched again and put in its place, with no reload. */
import { catalogue } from "/shared/static/catalogue.js";
import { ALL_STATUSES, KINDS } from "/shared/static/casework.js";
import { $, say } from "/shared/static/dom.js";
import { loadClient } from "/shared/static/socket.js";
import { StaffSession, windowLabel } from "/shared/static/staff.js";
import { d, load, wireActions } from "./cases/detail.js";
import { fillClerks, fillFilters, more, q, reload, render, upsert } from "./cases/queue.js";
import { joined } from "/shared/static/i18n.js";

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.supervisor_account_needed"),
  parts: ["casework", "signout", "who"],
  signedIn: start,
  signedOut: () => { $("offline").hidden = true; },
});

const failed = (e) => say("error", e.message);

/** After the next frame has been drawn. */
const nextFrame = () => new Promise((resolve) => {
  requestAnimationFrame(() => setTimeout(resolve, 0));
});

async function start(session) {
  $("who").textContent = `${session.name || session.username}`;
  // The first page of cases first, alone: the socket, its snapshot and the rest wait until
  // it is drawn (the snapshot reads the list again, so nothing between the two is missed).
  try {
    await reload(staff);
  } catch (e) {
    failed(e);
  }
  // The socket's client is fetched and run only now, after the frame that shows the cases.
  await nextFrame();
  try {
    await loadClient();
  } catch (e) {
    failed(e);
    return;
  }
  if (!staff.session) return; // refused: signed out meanwhile
  staff.connect("/monitor", {
    online: () => { $("offline").hidden = true; },
    offline: () => { $("offline").hidden = false; },
    // Each snapshot (the first too, as events may have come since the first read; and after
    // a reconnect) reads the list again.
    snapshot: () => { reload(staff, true).catch(failed); },
    event,
  });
  staff.api("GET", "/staff").then((found) => {
    fillClerks((found.staff || []).filter((s) => !s.role || s.role === "clerk"));
  }).catch(() => { /* the list works without naming clerks */ });
  const wanted = decodeURIComponent(window.location.hash.slice(1));
  if (wanted) open(wanted);
}

/** A case event: the case is read again and put where it now belongs. */
function event(ev) {
  if (!ev.type.startsWith("case.")) return;
  const id = ev.data && ev.data.case_id;
  if (!id) return;
  staff.api("GET", `/cases/${encodeURIComponent(id)}`).then((view) => {
    upsert(view.case);
    if (d.id === id) load(staff, id).catch(failed);
  }).catch(() => { /* gone or not ours to read: the next reload shows the truth */ });
}

function open(id) {
  q.selected = id;
  render();
  load(staff, id).then(() => {
    if (window.location.hash.slice(1) !== id) window.history.replaceState(null, "", `#${id}`);
    $("detail").scrollIntoView({ block: "nearest" });
  }).catch(failed);
}

function wire() {
  fillFilters(ALL_STATUSES, Object.keys(KINDS));
  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    reload(staff).catch(failed);
  });
  $("f-reset").addEventListener("click", () => {
    $("filters").reset();
    reload(staff).catch(failed);
  });
  $("more").addEventListener("click", () => more(staff).catch(failed));
  $("queue").addEventListener("click", (ev) => {
    const button = ev.target.closest("button.case-link");
    if (button) open(button.dataset.id);
  });
  wireActions(staff, upsert);
  for (const c of catalogue.complaint_categories || []) {
    $("c-category").append(new Option(`${c.name} ${c.name_en || ""}`.trim(), c.code));
  }
  for (const w of catalogue.windows) $("c-window").append(new Option(windowLabel(w), String(w.no)));
  $("complaint-form").addEventListener("submit", fileComplaint);
}

async function fileComplaint(ev) {
  ev.preventDefault();
  const body = { channel: $("c-channel").value, category: $("c-category").value,
                 text: $("c-text").value.trim() };
  if ($("c-window").value) body.window = Number($("c-window").value);
  for (const [id, name] of [["c-staff-no", "staff_no"], ["c-phone", "phone"]]) {
    if ($(id).value.trim()) body[name] = $(id).value.trim();
  }
  try {
    const filed = await staff.api("POST", "/complaints", body);
    $("complaint-form").reset();
    say("error", "");
    say("info", joined("office.cases.complaint_filed", { id: filed.id, case_id: filed.case_id }));
    if (filed.case_id) open(filed.case_id);
  } catch (e) {
    failed(e);
  }
}

wire();
staff.resume();
