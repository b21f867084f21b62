/* 窗口屏: the window, its current number, the clerk's work badge (art. 17), its status, and the
 * prompt to rate on the keypad after a finish. */
import { hubNow, parseAt } from "/shared/static/clock.js";
import { $ } from "/shared/static/dom.js";
import { config, connectScreen, recordPaint, text, token } from "./screen.js";
import { both, t, t2 } from "/shared/static/i18n.js";

const NO = config.window;
const THANKS_MS = 5000;
const STATUS = {
  open: both("display.in_service"),
  paused: both("display.service_paused"),
  closed: both("display.status.closed"),
};
// current: the number called; person: what the hub lets this screen say of its citizen
// ({masked_name?, elderly?}: the masked name only with silent calling, 无声叫号).
const win = { status: "closed", reason: null, clerk: null, current: null, person: {} };
let rating = null; // {request_id, ticket_id, number}
let ratingTimer = null;

// What the hub gave of the ticket's citizen: a masked name (张*) and the 适老 mark, nothing more.
function personOf(d) {
  if (!d) return {};
  const name = typeof d.masked_name === "string" ? d.masked_name : "";
  return { masked_name: name, elderly: d.elderly === true || d.channel === "elderly" };
}

function render() {
  text("current", win.current || "—");
  const person = win.current ? win.person : {};
  text("current-name", person.masked_name || "");
  $("current-name").hidden = !person.masked_name;
  $("current-elderly").hidden = !person.elderly;
  const [zh, en] = STATUS[win.status] || STATUS.closed;
  const status = $("status");
  text("status", zh);
  status.className = `status status-${win.status}`;
  text("status-en", en);
  const reason = $("pause-reason");
  reason.hidden = !(win.status === "paused" && win.reason);
  text("pause-reason", win.status === "paused" && win.reason ? t("display.pause_reason", { reason: win.reason }) : "");
  const badge = $("badge");
  badge.hidden = !win.clerk;
  text("clerk-name", win.clerk ? win.clerk.name : "");
  text("staff-no", win.clerk ? win.clerk.staff_no : "");
  showPhoto(win.clerk ? win.clerk.staff_no : "");
}

// The badge photo, fetched once per clerk; a clerk without one shows name and number only.
function showPhoto(staffNo) {
  const img = $("photo");
  if (!staffNo) {
    img.hidden = true;
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.removeAttribute("src");
    img.dataset.staff = "";
    return;
  }
  if (img.dataset.staff === staffNo) return;
  img.dataset.staff = staffNo;
  img.hidden = true;
  img.onload = () => { img.hidden = false; };
  img.onerror = () => { img.hidden = true; };
  loadPhoto(img, staffNo);
}

// Fetched with the token in a header, shown from a blob: URL (an <img src> could carry the
// token only in its address); the previous photo's blob is let go.
async function loadPhoto(img, staffNo) {
  try {
    const r = await fetch(`/display/badge/${encodeURIComponent(staffNo)}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!r.ok || img.dataset.staff !== staffNo) return;
    const blob = await r.blob();
    if (img.dataset.staff !== staffNo) return; // another clerk signed in meanwhile
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
  } catch {
    img.hidden = true;
  }
}

function hideRating() {
  clearTimeout(ratingTimer);
  rating = null;
  $("rating").hidden = true;
  $("current-box").hidden = false;
}

function showRating(d) {
  clearTimeout(ratingTimer);
  rating = { request_id: d.request_id, ticket_id: d.ticket_id };
  const box = $("rating");
  box.className = "rating";
  text("rating-title", t("display.rate_our_service"));
  text("rating-title-en", t2("display.rate_our_service"));
  $("rating-levels").hidden = false;
  text("rating-number", t("display.number", { number: d.number }));
  box.hidden = false;
  $("current-box").hidden = true;
  // If the end of the rating never arrives (a lost connection), stop asking at the deadline.
  const left = d.deadline ? parseAt(d.deadline) - hubNow() : 60000;
  ratingTimer = setTimeout(hideRating, Math.max(1000, Math.min(left + 2000, 10 * 60000)));
}

function thank() {
  clearTimeout(ratingTimer);
  const box = $("rating");
  box.className = "rating thanks";
  text("rating-title", t("display.thanks_rating"));
  text("rating-title-en", t2("display.thanks_rating"));
  $("rating-levels").hidden = true;
  text("rating-number", "");
  box.hidden = false;
  $("current-box").hidden = true;
  ratingTimer = setTimeout(hideRating, THANKS_MS);
}

function isOurs(ev) {
  return rating && (ev.data.request_id === rating.request_id || ev.data.ticket_id === rating.ticket_id);
}

function snapshot(snap) {
  const w = snap.windows.find((x) => x.no === NO);
  if (!w) return;
  const dept = w.department;
  text("win-name", t("common.window", { no: NO }));
  const named = w.name && w.name !== t("common.window", { no: NO }) ? `${w.name} · ` : "";
  text("dept", `${named}${dept.name}${dept.name_en ? ` · ${dept.name_en}` : ""}`);
  document.title = `${w.name} · ${snap.center.name}`;
  win.status = w.status;
  win.reason = w.pause_reason;
  win.clerk = w.clerk;
  win.current = w.current ? w.current.number : null;
  win.person = personOf(w.current);
  render();
  if (w.rating) showRating(w.rating); // still waiting for the keypad: keep asking
  else hideRating();
}

function event(ev) {
  const d = ev.data || {};
  if (ev.type === "day.rolled") {
    win.current = null;
    hideRating();
    render();
    return;
  }
  if (d.window_no !== NO) return;
  switch (ev.type) {
    case "ticket.called":
    case "ticket.recalled": {
      const fresh = personOf(d);
      const again = ev.type === "ticket.recalled" && d.number === win.current; // same citizen
      win.person = again ? { masked_name: fresh.masked_name || win.person.masked_name,
        elderly: fresh.elderly || win.person.elderly } : fresh;
      win.current = d.number;
      hideRating();
      render();
      recordPaint(ev, d.number);
      break;
    }
    case "ticket.finished":
    case "ticket.no_show":
    case "ticket.transferred":
    case "ticket.return_requested":
      win.current = null;
      render();
      break;
    case "window.signed_in":
      win.clerk = d.clerk || null;
      win.status = "open";
      win.reason = null;
      render();
      break;
    case "window.signed_out":
      win.clerk = null;
      win.status = "closed";
      win.current = null;
      hideRating();
      render();
      break;
    case "window.paused":
      win.status = "paused";
      win.reason = d.reason || null;
      render();
      break;
    case "window.resumed":
      win.status = "open";
      win.reason = null;
      render();
      break;
    case "rating.requested":
      showRating(d);
      break;
    case "ticket.rated":
      if (isOurs(ev)) thank();
      break;
    case "rating.expired":
      if (isOurs(ev)) hideRating();
      break;
    default:
      break;
  }
}

connectScreen({ snapshot, event });
