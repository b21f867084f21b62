/* 办件抽查: the office's spot-check page. The week's draw (POST /api/v1/spot-checks/draw) is shown
 * with what makes it verifiable: its seed, its method and each window's population, and the
 * command that recomputes it; then the sample per window, each ticket reviewed against the
 * checklist the draw recorded (pass / fail / n/a, a note), and a finding may open a case (POST
 * /api/v1/spot-checks/{draw}/items/{ticket}). Live over /monitor: a review made on another
 * page shows here at once. */
import { catalogue } from "/shared/static/catalogue.js";
import { hallToday, shortAt } from "/shared/static/casework.js";
import { $, bilingual, en, make, say } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";
import { N_, joined, t, t2 } from "/shared/static/i18n.js";

const ANSWERS = {
  pass: N_("office.spot.pass"),
  fail: N_("office.spot.fail"),
  na: N_("office.spot.na"),
};
const sp = { draw: null, ticket: null };

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.supervisor_account_needed"),
  parts: ["spot", "signout", "who"],
  signedIn: start,
});
const failed = (e) => say("error", e.message);

/** The Monday of the week before the hall's current one ("2026-11-23"). */
function lastMonday() {
  const [y, m, d] = hallToday().split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7) - 7);
  return day.toISOString().slice(0, 10);
}

function start(session) {
  $("who").textContent = `${session.name || session.username}`;
  staff.connect("/monitor", {
    snapshot: () => {
      if (!$("week").value) $("week").value = lastMonday();
      (sp.draw ? loadDraw(sp.draw.draw_id) : showWeek($("week").value)).catch(failed);
    },
    event: (ev) => {
      const d = ev.data || {};
      if (ev.type === "spot_check.drawn" && d.week === $("week").value) showWeek(d.week).catch(failed);
      else if (ev.type.startsWith("spot_check.") && sp.draw && d.draw_id === sp.draw.draw_id) {
        loadDraw(d.draw_id).catch(failed);
      }
    },
  });
}

async function showWeek(week) {
  const found = await staff.api("GET", `/spot-checks?${new URLSearchParams(week ? { week } : {})}`);
  const draws = Array.isArray(found) ? found : found.draws || [];
  if (draws.length) showDraw(draws[0]);
  else {
    sp.draw = null;
    $("draw-card").hidden = true;
    $("review-card").hidden = true;
    say("info", joined("office.spot.not_drawn", { week }));
  }
}

async function loadDraw(id) {
  showDraw(await staff.api("GET", `/spot-checks/${encodeURIComponent(id)}`));
}

function showDraw(draw) {
  sp.draw = draw;
  $("draw-card").hidden = false;
  $("draw-id").textContent = draw.draw_id;
  $("draw-week").textContent = draw.week;
  $("draw-at").textContent = `${shortAt(draw.drawn_at)} · ${draw.by || ""}`;
  $("draw-per-window").textContent = String(draw.per_window);
  $("draw-method").textContent = draw.method;
  $("draw-seed").textContent = draw.seed;
  bilingual($("draw-progress"),
    t("office.spot.progress_line", { reviewed: draw.reviewed || 0, total: (draw.items || []).length,
                                     findings: draw.findings || 0 }),
    t2("office.spot.progress_line", { reviewed: draw.reviewed || 0, total: (draw.items || []).length,
                                      findings: draw.findings || 0 }));
  $("verify-command").textContent = `onestop spot-check verify ${draw.draw_id}`;
  renderSample(draw);
  if (sp.ticket && !(draw.items || []).some((i) => i.ticket_id === sp.ticket)) closeReview();
}

function resultCell(cell, item) {
  if (!item.reviewed) {
    bilingual(cell, t("office.spot.not_reviewed"), t2("office.spot.not_reviewed"));
    cell.className = "pending";
    return;
  }
  const key = item.finding ? N_("office.spot.finding") : N_("office.spot.passed");
  bilingual(cell, t(key), t2(key));
  cell.className = item.finding ? "finding" : "passed";
  if (item.note) cell.append(make("p", "note", item.note));
  if (item.case_id) {
    const link = make("a", "", item.case_id);
    link.href = `/office/cases#${encodeURIComponent(item.case_id)}`;
    cell.append(" ", link);
  }
}

function sampleRow(body, no, population, item) {
  const row = body.insertRow();
  const head = make("th", "", t("common.window", { no }));
  head.scope = "row";
  row.append(head);
  row.insertCell().textContent = String(population);
  if (!item) {
    const none = row.insertCell();
    none.colSpan = 4;
    bilingual(none, t("office.spot.nothing_finished"), t2("office.spot.nothing_finished"));
    return;
  }
  row.dataset.ticket = item.ticket_id;
  const ticket = row.insertCell();
  ticket.append(make("strong", "", item.number || ""), " ", en(item.ticket_id, "en mono"));
  row.insertCell().textContent = item.clerk || "—";
  resultCell(row.insertCell(), item);
  const button = bilingual(make("button", "review-button"), t("office.spot.review"), t2("office.spot.review"));
  button.type = "button";
  button.setAttribute("aria-label", `${t("office.spot.review")} ${item.number || item.ticket_id}`);
  button.onclick = () => openReview(item);
  row.insertCell().append(button);
}

function renderSample(draw) {
  const body = $("sample").tBodies[0];
  body.replaceChildren();
  const population = draw.population || {};
  const windows = [...new Set([...Object.keys(population), ...Object.keys(draw.sample || {})])]
    .map(Number).sort((a, b) => a - b);
  for (const no of windows) {
    const items = (draw.items || []).filter((i) => i.window_no === no);
    if (!items.length) sampleRow(body, no, population[no] || 0, null);
    for (const item of items) sampleRow(body, no, population[no] || 0, item);
  }
}

// --- one review ---------------------------------------------------------------------------

function checklist() {
  return (sp.draw && sp.draw.checklist) || catalogue.checklist || [];
}

function question(item, c) {
  const set = make("fieldset", "question");
  const legend = make("legend");
  legend.append(c.text, " ", en(c.text_en || ""));
  set.append(legend);
  const had = (item.answers || {})[c.code] || "";
  for (const [value, key] of Object.entries(ANSWERS)) {
    const id = `answer-${c.code}-${value}`;
    const input = make("input");
    Object.assign(input, { type: "radio", name: `answer-${c.code}`, id, value, required: true });
    input.checked = had === value;
    const label = make("label");
    label.htmlFor = id;
    label.append(t(key), " ", en(t2(key)));
    set.append(make("span", "answer"));
    set.lastChild.append(input, label);
  }
  return set;
}

function openReview(item) {
  sp.ticket = item.ticket_id;
  $("review-card").hidden = false;
  $("review-ticket").textContent = `${item.number || ""} ${item.ticket_id}`;
  $("checklist").replaceChildren(...checklist().map((c) => question(item, c)));
  $("review-note").value = item.note || "";
  $("review-open-case").checked = false;
  $("review-card").scrollIntoView({ block: "nearest" });
}

function closeReview() {
  sp.ticket = null;
  $("review-card").hidden = true;
}

async function saveReview(ev) {
  ev.preventDefault();
  if (!sp.draw || !sp.ticket) return;
  const answers = {};
  for (const c of checklist()) {
    const picked = document.querySelector(`input[name="answer-${c.code}"]:checked`);
    if (picked) answers[c.code] = picked.value;
  }
  const body = { answers, note: $("review-note").value.trim(), open_case: $("review-open-case").checked };
  const path = `/spot-checks/${encodeURIComponent(sp.draw.draw_id)}/items/${encodeURIComponent(sp.ticket)}`;
  try {
    const draw = await staff.api("POST", path, body);
    const item = (draw.items || []).find((i) => i.ticket_id === sp.ticket) || {};
    say("error", "");
    say("info", item.case_id ? joined("office.spot.reviewed_case", { case_id: item.case_id })
      : joined("office.spot.reviewed"));
    closeReview();
    showDraw(draw);
  } catch (e) {
    failed(e);
  }
}

async function drawWeek() {
  const week = $("week").value;
  try {
    showDraw(await staff.api("POST", "/spot-checks/draw", week ? { week } : {}));
    say("error", "");
    say("info", joined("office.spot.drawn_info", { draw_id: sp.draw.draw_id }));
  } catch (e) {
    failed(e);
  }
}

$("week-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  say("info", "");
  showWeek($("week").value).catch(failed);
});
$("draw").addEventListener("click", drawWeek);
$("review-form").addEventListener("submit", saveReview);
$("review-cancel").addEventListener("click", closeReview);
staff.resume();
