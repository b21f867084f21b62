/* 排班建议: the staffing advice section of the reports page. Reads GET
 * /api/v1/reports/staffing?week=YYYY-Www (computed beside the hub: seconds, so only on
 * request), then shows one day at a time: per hour and item the windows suggested, the
 * simulated p90 wait, Erlang C's figures and the hall as configured, and the hours' totals. */
import { $, en, make } from "/shared/static/dom.js";
import { both, joined, spaced } from "/shared/static/i18n.js";

const COLUMNS = [
  ["hour", ...both("office.staffing.col.hour")],
  ["item", ...both("office.staffing.col.item")],
  ["arrivals", ...both("office.staffing.col.arrivals"), 1],
  ["service_minutes", ...both("office.staffing.col.service_minutes"), 1],
  ["load", ...both("office.staffing.col.load"), 2],
  ["windows", ...both("office.staffing.col.windows")],
  ["p90", ...both("office.staffing.col.p90"), "min"],
  ["erlang_windows", ...both("office.staffing.col.erlang_windows")],
  ["erlang_p90", ...both("office.staffing.col.erlang_p90"), "min"],
  ["configured_windows", ...both("office.staffing.col.configured_windows")],
  ["configured_p90", ...both("office.staffing.col.configured_p90"), "min"],
];
const HOURS = [
  ["hour", ...both("office.staffing.col.hour")],
  ["windows", ...both("office.staffing.col.hour_windows")],
  ["load", ...both("office.staffing.col.hour_load")],
];

let found = null;

function header(table, cols) {
  const row = table.tHead.insertRow();
  for (const [, zh, english] of cols) {
    const th = make("th");
    th.scope = "col";
    th.append(zh, make("br"), en(english));
    row.append(th);
  }
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

const minutes = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)}′`);
const hourName = (h) => `${String(h).padStart(2, "0")}:00`;

function itemRow(tbody, r, target) {
  const row = tbody.insertRow();
  const th = make("th", "", hourName(r.hour));
  th.scope = "row";
  row.append(th);
  const name = make("td");
  name.append(`${r.name}（${r.service}）`);
  row.append(name);
  for (const [key, , , kind] of COLUMNS.slice(2)) {
    const v = r[key];
    const over = kind === "min" && v !== null && v > target;
    const text = kind === "min" ? minutes(v) : typeof kind === "number" ? v.toFixed(kind) : String(v);
    const td = cell(row, text, over ? "num over" : "num");
    if (over) td.title = spaced("office.staffing.over");
  }
  if (!r.met) row.className = "not-met";
}

function showDay(day) {
  const table = $("staffing-table");
  const hours = $("staffing-hours");
  for (const t of [table, hours]) { t.tHead.replaceChildren(); t.tBodies[0].replaceChildren(); }
  header(table, COLUMNS);
  header(hours, HOURS);
  for (const r of day.rows) itemRow(table.tBodies[0], r, found.target_p90_minutes);
  for (const h of day.hours) {
    const row = hours.tBodies[0].insertRow();
    const th = make("th", "", hourName(h.hour));
    th.scope = "row";
    row.append(th);
    cell(row, String(h.windows), "num");
    cell(row, h.load.toFixed(1), "num");
  }
}

function summary(advice) {
  const h = advice.history;
  return joined("office.staffing.summary", { target: advice.target_p90_minutes, start: h.from,
    end: h.to, weeks: h.weeks, tickets: h.tickets, seeds: advice.seeds });
}

function render(advice) {
  found = advice;
  const days = $("staffing-day");
  days.replaceChildren(...advice.days.map((d, i) => {
    const option = make("option", "", `${d.day}（${spaced("office.staffing.tickets", { tickets: Math.round(d.tickets) })}）`);
    option.value = String(i);
    return option;
  }));
  $("staffing-day-field").hidden = !advice.days.length;
  $("staffing-result").hidden = !advice.days.length;
  $("staffing-status").textContent = advice.days.length
    ? summary(advice) : joined("office.staffing.no_history");
  if (advice.days.length) showDay(advice.days[0]);
}

function nextWeek() {
  const d = new Date();
  d.setDate(d.getDate() + 7);
  // ISO week: the Thursday of the week names its year.
  const thursday = new Date(d);
  thursday.setDate(d.getDate() + 3 - ((d.getDay() + 6) % 7));
  const jan4 = new Date(thursday.getFullYear(), 0, 4);
  const week = 1 + Math.round(((thursday - jan4) / 86400000 - 3 + ((jan4.getDay() + 6) % 7)) / 7);
  return `${thursday.getFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Wire the section to the page's signed-in `api(path)`; `error(text)` says a failure. */
export function staffingSection(api, error) {
  $("staffing-week").value = nextWeek();
  $("staffing-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const week = $("staffing-week").value;
    $("staffing-run").disabled = true;
    $("staffing-status").textContent = joined("office.staffing.computing");
    try {
      render(await api(`/reports/staffing?${new URLSearchParams({ week })}`));
      document.body.dataset.staffing = week;
    } catch (err) {
      $("staffing-status").textContent = "";
      error(joined("office.staffing.failed", { message: err.message }));
    } finally {
      $("staffing-run").disabled = false;
    }
  });
  $("staffing-day").addEventListener("change", () => {
    if (found) showDay(found.days[Number($("staffing-day").value)]);
  });
}
