/* 统计与考核: the office's reports page. Signs in with POST /api/v1/login (the office's
 * session, shared with the monitor), reads GET /api/v1/reports and /api/v1/assessment,
 * draws its charts as SVG here (no chart library, nothing from outside), and downloads the
 * CSV / XLSX exports with the bearer token (fetch → blob), so no token ever sits in a URL. */
import { catalogue } from "/shared/static/catalogue.js";
import { $, en, make, say } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";
import { both, joined, spaced, t, t2 } from "/shared/static/i18n.js";
import { staffingSection } from "./staffing.js";

const SVG = "http://www.w3.org/2000/svg";
const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.supervisor_account_needed_2"),
  parts: ["reports", "signout"],
  signedIn: load,
});

const COLUMNS = [
  ["name", ...both("office.col.name")],
  ["issued", ...both("office.col.issued")],
  ["called", ...both("office.col.called")],
  ["served", ...both("office.col.served")],
  ["no_shows", ...both("office.col.no_shows")],
  ["transferred", ...both("office.col.transferred")],
  ["expired", ...both("office.col.expired")],
  ["wait_mean_s", ...both("office.col.wait_mean_s"), "min"],
  ["wait_p90_min", ...both("office.col.wait_p90_min"), "p90"],
  ["serve_mean_s", ...both("office.col.serve_mean_s"), "min"],
  ["serve_p90_min", ...both("office.col.serve_p90_min"), "p90"],
  ["within_target_share", ...both("office.col.within_target_share"), "pct"],
  ["slips_on_time_share", ...both("office.col.slips_on_time_share"), "pct"],
  ["satisfaction", ...both("office.col.satisfaction"), "pct"],
  ["rated", ...both("office.col.rated")],
  ["rated_keypad", ...both("office.col.rated_keypad")],
  ["rated_phone", ...both("office.col.rated_phone")],
  ["complaints", ...both("office.col.complaints")],
  ["pause_s", ...both("office.col.pause_s"), "min"],
];

// 督办 (casework): per the report's grouping; "—" where a grouping does not hold a figure
// (items; efficiency records are a person's, so clerks only).
const CASEWORK = [
  ["name", ...both("office.col.name")],
  ["cases", ...both("office.col.cases")],
  ["called_back", ...both("office.col.called_back")],
  ["callback_share", ...both("office.col.callback_share"), "pct"],
  ["rectify_needed", ...both("office.col.rectify_needed")],
  ["rectified", ...both("office.col.rectified")],
  ["rectified_share", ...both("office.col.rectified_share"), "pct"],
  ["rectified_on_time", ...both("office.col.rectified_on_time")],
  ["rectified_on_time_share", ...both("office.col.rectified_on_time_share"), "pct"],
  ["appeals", ...both("office.col.appeals")],
  ["appeals_upheld", ...both("office.col.appeals_upheld")],
  ["ratings_excluded", ...both("office.col.ratings_excluded")],
  ["complaints", ...both("office.col.complaints")],
  ["complaints_verified", ...both("office.col.complaints_verified")],
  ["spot_reviewed", ...both("office.col.spot_reviewed")],
  ["spot_findings", ...both("office.col.spot_findings")],
  ["records_criticism", ...both("office.col.records_criticism")],
  ["records_notice", ...both("office.col.records_notice")],
  ["records_warning", ...both("office.col.records_warning")],
];
const RECORD_KINDS = ["criticism", "notice", "warning"];

const error = (text) => say("error", text);
const api = (path) => staff.api("GET", path);

// --- the range -------------------------------------------------------------------------

const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const parse = (s) => { const [y, m, d] = s.split("-").map(Number); return new Date(y, m - 1, d); };

function range() {
  const period = $("period").value;
  if (period === "custom") return [$("from").value, $("to").value];
  const d = parse($("anchor").value || iso(new Date()));
  if (period === "day") return [iso(d), iso(d)];
  if (period === "week") {
    const start = new Date(d); start.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    const end = new Date(start); end.setDate(start.getDate() + 6);
    return [iso(start), iso(end)];
  }
  if (period === "month") {
    return [iso(new Date(d.getFullYear(), d.getMonth(), 1)),
      iso(new Date(d.getFullYear(), d.getMonth() + 1, 0))];
  }
  return [`${d.getFullYear()}-01-01`, `${d.getFullYear()}-12-31`];
}

function query(extra) {
  const [from, to] = range();
  const q = new URLSearchParams({ from, to, ...extra });
  return `?${q}`;
}

// --- formatting --------------------------------------------------------------------------

function fmt(value, kind) {
  if (value === null || value === undefined) return "—";
  if (kind === "pct") return `${(value * 100).toFixed(1)}%`;
  if (kind === "min") return `${(value / 60).toFixed(1)}′`;
  if (kind === "p90") return `${value}′`;
  return String(value);
}

function headerRow(thead, cols) {
  const row = thead.insertRow();
  for (const [, zh, english] of cols) {
    const th = make("th");
    th.scope = "col";
    th.append(zh, make("br"), en(english));
    row.append(th);
  }
}

function bodyRow(tbody, cols, r, isTotal) {
  const row = tbody.insertRow();
  for (const [key, , , kind] of cols) {
    const cell = key === "name" ? make("th") : row.insertCell();
    if (key === "name") { cell.scope = "row"; row.append(cell); }
    cell.textContent = key === "name"
      ? (r.key && r.key !== r.name ? `${r.name}（${r.key}）` : r.name)
      : fmt(r[key], kind);
    if (key !== "name") cell.className = "num";
  }
  if (isTotal) row.className = "total";
}

/** A row with its efficiency records as flat fields (records_warning …), null where the
 * row holds none, and its ratings by channel (rated_keypad, rated_phone). */
function flat(r) {
  const out = { ...r };
  for (const [channel, n] of Object.entries(r.rated_by_channel || {})) out[`rated_${channel}`] = n;
  for (const kind of RECORD_KINDS) out[`records_${kind}`] = r.records ? r.records[kind] : null;
  return out;
}

function renderTable(found, id = "report-table", cols = COLUMNS) {
  const table = $(id);
  for (const part of [table.tHead, table.tBodies[0], table.tFoot]) part.replaceChildren();
  headerRow(table.tHead, cols);
  for (const r of found.rows) bodyRow(table.tBodies[0], cols, flat(r), false);
  bodyRow(table.tFoot, cols, flat(found.total), true);
}

function renderKpis(total) {
  const items = [
    [...both("office.issued"), fmt(total.issued)],
    [...both("office.served_2"), fmt(total.served)],
    [...both("office.mean_wait"), fmt(total.wait_mean_s, "min")],
    [...both("office.within_target"), fmt(total.within_target_share, "pct")],
    [...both("office.satisfaction"), fmt(total.satisfaction, "pct")],
    [...both("office.complaints"), fmt(total.complaints)],
    [...both("office.col.rectified_share"), fmt(total.rectified_share, "pct")],
    [...both("office.col.rectified_on_time_share"), fmt(total.rectified_on_time_share, "pct")],
    [...both("office.col.callback_share"), fmt(total.callback_share, "pct")],
    [...both("office.col.spot_findings"), fmt(total.spot_findings)],
  ];
  $("kpis").replaceChildren(...items.map(([zh, english, value]) => {
    const div = make("div", "kpi");
    const label = make("div", "kpi-label", `${zh} `);
    label.append(en(english));
    div.append(make("div", "kpi-value", value), label);
    return div;
  }));
}

// --- charts (SVG) ------------------------------------------------------------------------

function el(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(box, width, height, label) {
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
    class: "chart-svg" });
  svg.append(el("title", {}, label));
  box.replaceChildren(svg);
  return svg;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function hoursChart(byHour) {
  const hours = byHour.filter((h) => h.hour >= 7 && h.hour <= 19);
  const W = 640, H = 260, L = 44, B = 28, T = 14;
  const max = niceMax(Math.max(1, ...hours.map((h) => Math.max(h.issued, h.served))));
  const svg = frame($("chart-hours"), W, H, spaced("office.tickets_per_hour"));
  const plotH = H - B - T, step = (W - L - 8) / hours.length;
  for (let i = 0; i <= 4; i++) {
    const y = T + plotH - (plotH * i) / 4;
    svg.append(el("line", { x1: L, x2: W - 4, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: L - 6, y: y + 4, class: "axis end" }, String(Math.round((max * i) / 4))));
  }
  hours.forEach((h, i) => {
    const x = L + i * step;
    const bw = step * 0.36;
    for (const [k, dx, cls] of [["issued", step * 0.12, "bar-a"], ["served", step * 0.5, "bar-b"]]) {
      const bh = (plotH * h[k]) / max;
      const rect = el("rect", { x: x + dx, y: T + plotH - bh, width: bw, height: bh, class: cls });
      rect.append(el("title", {}, `${h.hour}:00 ${k === "issued" ? spaced("office.issued_lower") : spaced("office.served_lower")} ${h[k]}`));
      svg.append(rect);
    }
    svg.append(el("text", { x: x + step / 2, y: H - 8, class: "axis mid" }, `${h.hour}`));
  });
  legend(svg, W - 200, 4, [["bar-a", spaced("office.issued")], ["bar-b", spaced("office.served_2")]]);
}

function legend(svg, x, y, items) {
  items.forEach(([cls, text], i) => {
    svg.append(el("rect", { x: x + i * 100, y, width: 12, height: 12, class: cls }));
    svg.append(el("text", { x: x + i * 100 + 16, y: y + 11, class: "axis" }, text));
  });
}

function barsChart(box, label, rows, value, marker, kind) {
  const W = 640, rowH = 22, L = 170, T = 22;
  const shown = rows.filter((r) => value(r) !== null).slice(0, 18);
  const H = T + Math.max(1, shown.length) * rowH + 10;
  const svg = frame(box, W, H, label);
  if (!shown.length) {
    svg.append(el("text", { x: W / 2, y: T + 12, class: "axis mid" }, spaced("office.no_data")));
    return;
  }
  const max = kind === "pct" ? 1 : niceMax(Math.max(...shown.map((r) => Math.max(value(r), marker ? marker(r) || 0 : 0))));
  const plotW = W - L - 60;
  shown.forEach((r, i) => {
    const y = T + i * rowH;
    const name = r.name.length > 11 ? `${r.name.slice(0, 10)}…` : r.name;
    svg.append(el("text", { x: L - 6, y: y + 14, class: "axis end" }, name));
    const w = (plotW * value(r)) / max;
    const rect = el("rect", { x: L, y: y + 3, width: Math.max(1, w), height: rowH - 8, class: "bar-a" });
    rect.append(el("title", {}, `${r.name}: ${kind === "pct" ? fmt(value(r), "pct") : value(r).toFixed(1)}`));
    svg.append(rect);
    if (marker && marker(r) !== null) {
      const mx = L + (plotW * marker(r)) / max;
      svg.append(el("line", { x1: mx, x2: mx, y1: y + 1, y2: y + rowH - 3, class: "marker" }));
    }
    svg.append(el("text", { x: L + w + 6, y: y + 14, class: "axis" },
      kind === "pct" ? fmt(value(r), "pct") : value(r).toFixed(1)));
  });
  if (marker) legend(svg, W - 220, 4, [["bar-a", spaced("office.mean")], ["marker-key", "P90"]]);
}

// --- loading ---------------------------------------------------------------------------

async function load() {
  const by = $("by").value;
  const [from, to] = range();
  if (!from || !to) { error(joined("office.choose_dates")); return; }
  try {
    const main = await api(`/reports${query({ by })}`);
    const items = by === "service" ? main : await api(`/reports${query({ by: "service" })}`);
    const windows = by === "window" ? main : await api(`/reports${query({ by: "window" })}`);
    $("range-line").textContent = `${t("office.range", { start: main.from, end: main.to })}（${spaced("office.days", { days: main.days })}）` +
      (main.live_days.length ? spaced("office.includes_today_live") : "");
    renderKpis(main.total);
    renderTable(main);
    renderTable(main, "casework-table", CASEWORK);
    hoursChart(main.by_hour);
    barsChart($("chart-wait"), spaced("office.wait_by_item"), items.rows,
      (r) => (r.wait_mean_s === null ? null : r.wait_mean_s / 60), (r) => r.wait_p90_min, "min");
    barsChart($("chart-satisfaction"), spaced("office.satisfaction_by_window"), windows.rows,
      (r) => r.satisfaction, null, "pct");
    await loadAssessment();
    error("");
    document.body.dataset.loaded = "1";
  } catch (e) {
    if (staff.session) error(joined("office.cannot_read_report", { message: e.message }));
  }
}

function formulaLine(f) {
  const terms = { served: f.served, satisfaction: f.satisfaction, within_target: f.within_target,
    on_time: f.on_time, no_show: 100 * f.no_show_penalty, complaint: f.complaint_penalty,
    pause: f.pause_penalty_per_hour };
  const casework = { rectification: f.rectification, rectify_on_time: f.rectify_on_time,
    callback: f.callback, finding: f.finding_penalty, criticism: f.criticism_penalty,
    notice: f.notice_penalty, warning: f.warning_penalty };
  const exempt = f.pause_exempt.length
    ? t("office.formula_exempt", { reasons: f.pause_exempt.join(t("common.list_sep")) }) : "";
  return `${t("office.formula", terms)}${exempt}；${t("office.formula_casework", casework)}` +
    ` · ${t2("office.formula", terms)}; ${t2("office.formula_casework", casework)}`;
}

/** 评先评优: the rank among clerks not excluded, or why one is not ranked. */
function awardCell(r) {
  return r.award_excluded ? joined("office.award_excluded") : fmt(r.award_rank);
}

async function loadAssessment() {
  const by = $("assess-by").value;
  const found = await api(`/assessment${query({ by })}`);
  $("formula").textContent = formulaLine(found.formula);
  const cols = [["rank", ...both("office.col.rank")], ["name", ...both("office.col.name")], ["score", ...both("office.col.score")],
    ["served", ...both("office.col.served")], ["satisfaction", ...both("office.col.satisfaction"), "pct"],
    ["within_target_share", ...both("office.col.within_target_share"), "pct"],
    ["slips_on_time_share", ...both("office.col.slips_on_time_share"), "pct"],
    ["rectified_share", ...both("office.col.rectified_share"), "pct"],
    ["rectified_on_time_share", ...both("office.col.rectified_on_time_share"), "pct"],
    ["callback_share", ...both("office.col.callback_share"), "pct"],
    ["no_show_share", ...both("office.col.no_show_share"), "pct"], ["complaints", ...both("office.col.complaints")],
    ["ratings_excluded", ...both("office.col.ratings_excluded")],
    ["spot_findings", ...both("office.col.spot_findings")],
    ["pause_s", ...both("office.col.pause_s"), "min"]];
  if (by === "clerk") {
    cols.splice(3, 0, ["award", ...both("office.col.award_rank")]);
    cols.push(["records_criticism", ...both("office.col.records_criticism")],
      ["records_notice", ...both("office.col.records_notice")],
      ["records_warning", ...both("office.col.records_warning")]);
  }
  const table = $("assess-table");
  table.tHead.replaceChildren();
  table.tBodies[0].replaceChildren();
  headerRow(table.tHead, cols);
  for (const r of found.rows) {
    bodyRow(table.tBodies[0], cols, { ...flat(r), award: awardCell(r) }, false);
  }
}

async function download(path, name) {
  try {
    const r = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${staff.token}` } });
    if (!r.ok) throw new Error(r.statusText);
    const url = URL.createObjectURL(await r.blob());
    const a = make("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    error(joined("office.download_failed", { message: e.message }));
  }
}

function exportName(kind, by, ext) {
  const [from, to] = range();
  return `${kind}-${by}-${from}-${to}.${ext}`;
}

$("period").addEventListener("change", () => {
  const custom = $("period").value === "custom";
  $("anchor-field").hidden = custom;
  $("from-field").hidden = !custom;
  $("to-field").hidden = !custom;
  if (custom && !$("from").value) [$("from").value, $("to").value] = range().map(String);
});
$("range-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("by").addEventListener("change", load);
$("assess-by").addEventListener("change", () => loadAssessment().catch((e) => error(e.message)));
$("csv").addEventListener("click", () => download(`/reports${query({ by: $("by").value, format: "csv" })}`, exportName("report", $("by").value, "csv")));
$("xlsx").addEventListener("click", () => download(`/reports${query({ by: $("by").value, format: "xlsx" })}`, exportName("report", $("by").value, "xlsx")));
$("assess-csv").addEventListener("click", () => download(`/assessment${query({ by: $("assess-by").value, format: "csv" })}`, exportName("assessment", $("assess-by").value, "csv")));
$("assess-xlsx").addEventListener("click", () => download(`/assessment${query({ by: $("assess-by").value, format: "xlsx" })}`, exportName("assessment", $("assess-by").value, "xlsx")));
$("print").addEventListener("click", () => window.print());

$("anchor").value = iso(new Date());
staffingSection(api, error);
document.title = spaced("office.statistics_assessment_2", { name: catalogue.center.name });
staff.resume();
