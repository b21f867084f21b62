/* The casework queue: open cases by their next deadline (the hub's order: overdue first), a page
 * at a time with the API's cursor (GET /api/v1/cases?…&limit=&after=), filtered as the form
 * says. A case another page steps is fetched again and put where it now belongs, so the list
 * follows the hall live without reloading what is already shown. */
import { catalogue, department } from "/shared/static/catalogue.js";
import { ACTIONS, KINDS, hallToday, isFinal, isOverdue, nextDue, shortAt, statusWords, word, words } from "/shared/static/casework.js";
import { parseAt } from "/shared/static/clock.js";
import { $, bilingual, en, make } from "/shared/static/dom.js";
import { t, t2 } from "/shared/static/i18n.js";

export const PAGE = 50;

export const q = {
  filters: {}, // the form's, as sent
  cases: [], // shown, in the hub's order
  next: null, // the cursor of the page after the last one shown
  selected: null, // case_id shown in the detail
  // Reads of the list run one after another: a page asked for with "more" while the socket's
  // snapshot reads the list again would otherwise be dropped or drawn over.
  reads: Promise.resolve(),
};

/** The hub's own bound on a page (GET /api/v1/cases `limit`). */
const MOST = 200;

function queued(read) {
  const run = q.reads.then(read);
  q.reads = run.catch(() => { /* the caller reports it; the next read still runs */ });
  return run;
}

/** The filter form as query parameters: open cases unless a status is asked for. */
export function readFilters() {
  const f = {};
  for (const name of ["status", "kind", "window", "clerk", "department"]) {
    const v = $(`f-${name}`).value;
    if (v) f[name] = v;
  }
  if ($("f-overdue").checked) f.overdue = "1";
  if (!f.status) f.open = "1";
  return f;
}

function query(extra) {
  return `?${new URLSearchParams({ ...q.filters, limit: String(PAGE), ...extra })}`;
}

/** What cases/early.js read before this module ran, taken once, if it asked for `url`. */
function early(url) {
  const first = window.onestopFirstCases;
  window.onestopFirstCases = null;
  return first && first.url === url ? first : null;
}

/** The first page again, with the form's filters. With `keep` (the socket's snapshot, the
 * same filters) as many rows as are shown, so a page read with "more" stays on screen. */
export function reload(staff, keep = false) {
  const filters = readFilters();
  return queued(async () => {
    const size = keep ? Math.min(MOST, Math.max(PAGE, q.cases.length)) : PAGE;
    q.filters = filters;
    const first = early(`/api/v1/cases${query({})}`);
    // Already parsed: drawn in this very task (no await), before the page is first laid out.
    const found = (first && first.data) || (first && await first.answer)
      || await staff.api("GET", `/cases${query({ limit: String(size) })}`);
    q.cases = found.cases || [];
    q.next = found.next || null;
    render();
  });
}

/** The page after the last one shown. */
export function more(staff) {
  return queued(async () => {
    if (!q.next) return;
    const found = await staff.api("GET", `/cases${query({ after: q.next })}`);
    const have = new Set(q.cases.map((c) => c.case_id));
    q.cases.push(...(found.cases || []).filter((c) => !have.has(c.case_id)));
    q.next = found.next || null;
    render();
  });
}

/** Whether case `c` belongs in the list the filters ask for. */
function wanted(c) {
  const f = q.filters;
  if (f.status && c.status !== f.status) return false;
  if (f.open && (c.status === "closed" || c.status === "appeal_upheld")) return false;
  if (f.kind && c.kind !== f.kind) return false;
  if (f.window && String(c.window_no) !== f.window) return false;
  if (f.clerk && c.clerk !== f.clerk) return false;
  if (f.department && c.department !== f.department) return false;
  if (f.overdue && !isOverdue(c)) return false;
  return true;
}

// The hub's order (its `queue_key`): open cases by their next due day (overdue ones come
// first by that alone), then those with none left; final ones after, newest first.
function sortKey(c) {
  if (c.queue_key) return `${c.queue_key}|${c.case_id}`;
  if (isFinal(c)) {
    const ended = parseAt(c.closed_at || c.updated_at || c.opened_at) / 1000;
    return `1|${String(1e11 - Math.floor(ended)).padStart(12, "0")}|${c.case_id}`;
  }
  const next = nextDue(c);
  return `0|${(next && next.due) || "9999-12-31"}|${c.case_id}`;
}

/** A case as it now is (after an event): put in, moved, or taken out of the list. */
export function upsert(c) {
  const at = q.cases.findIndex((x) => x.case_id === c.case_id);
  if (at >= 0) q.cases.splice(at, 1);
  if (wanted(c)) {
    const key = sortKey(c);
    let i = q.cases.findIndex((x) => sortKey(x) > key);
    if (i < 0) i = q.cases.length;
    // Past the last row shown while more pages wait: it comes with its page.
    if (i < q.cases.length || !q.next || at >= 0) q.cases.splice(i, 0, c);
  }
  render();
}

function dueCell(cell, c, today) {
  const next = nextDue(c);
  if (!next) {
    cell.textContent = "—";
    return;
  }
  cell.append(make("span", "due-day", next.due || "—"));
  if (next.step) cell.append(" ", bilingual(make("span", "due-step"), ...words(ACTIONS, next.step)));
  if (isOverdue(c, today)) {
    cell.append(" ", bilingual(make("strong", "overdue-mark"), t("casework.overdue"),
                               t2("casework.overdue")));
  }
}

function caseRow(body, c, today) {
  const row = body.insertRow();
  row.dataset.id = c.case_id;
  if (isOverdue(c, today)) row.classList.add("overdue");
  if (c.case_id === q.selected) row.classList.add("selected");
  const id = row.insertCell();
  const open = make("button", "link case-link", c.case_id);
  open.type = "button";
  open.dataset.id = c.case_id;
  id.append(open);
  bilingual(row.insertCell(), ...statusWords(c.status)).className = `status status-${c.status}`;
  dueCell(row.insertCell(), c, today);
  row.insertCell().textContent = word(KINDS, c.kind);
  row.insertCell().textContent = c.window_no ? t("common.window", { no: c.window_no }) : "—";
  row.insertCell().textContent = c.clerk_name || c.clerk || "—";
  const summary = row.insertCell();
  summary.className = "summary";
  summary.textContent = c.summary || "";
  if (c.opened_at) summary.append(en(` ${shortAt(c.opened_at)}`, "opened"));
}

export function render() {
  const today = hallToday();
  const body = $("queue").tBodies[0];
  body.replaceChildren();
  for (const c of q.cases) caseRow(body, c, today);
  $("queue-count").textContent = q.next ? `${q.cases.length}+` : String(q.cases.length);
  $("queue-empty").hidden = q.cases.length > 0;
  $("more").hidden = !q.next;
}

/** The filter form's choices from the catalogue (and the clerks, once read). */
export function fillFilters(statuses, kinds) {
  for (const s of statuses) $("f-status").append(new Option(statusWords(s).join(" "), s));
  for (const k of kinds) $("f-kind").append(new Option(word(KINDS, k), k));
  for (const w of catalogue.windows) {
    $("f-window").append(new Option(t("common.window", { no: w.no }), String(w.no)));
  }
  for (const d of catalogue.departments) {
    $("f-department").append(new Option(`${d.name} ${department(d.code).name_en || ""}`.trim(), d.code));
  }
}

export function fillClerks(staffList) {
  const select = $("f-clerk");
  const keep = select.value;
  select.replaceChildren(select.options[0]);
  for (const s of staffList) {
    select.append(new Option(`${s.name || s.username}（${s.staff_no || s.username}）`, s.username));
  }
  select.value = keep;
}
