/* 统计与考核: the office's reports page. Signs in with POST /api/v1/login (the office's
 * session, shared with the monitor), reads GET /api/v1/reports and /api/v1/assessment,
 * draws its charts as SVG here (no chart library, nothing from outside), and downloads the
 * CSV / XLSX exports with the bearer token (fetch → blob), so no token ever sits in a URL. */
import { catalogue } from "/shared/static/catalogue.js";
import { $, en, make, say } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";

const SVG = "http://www.w3.org/2000/svg";
const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: "统计与考核需督查员账号 / a supervisor account is needed",
  parts: ["reports", "signout"],
  signedIn: load,
});

const COLUMNS = [
  ["name", "名称", "Name"],
  ["issued", "取号", "Issued"],
  ["called", "叫号", "Called"],
  ["served", "办结", "Served"],
  ["no_shows", "过号", "No-shows"],
  ["transferred", "转办", "Transferred"],
  ["expired", "未办", "Unserved"],
  ["wait_mean_s", "平均等候", "Mean wait", "min"],
  ["wait_p90_min", "等候P90", "Wait p90", "p90"],
  ["serve_mean_s", "平均办理", "Mean service", "min"],
  ["serve_p90_min", "办理P90", "Service p90", "p90"],
  ["within_target_share", "时限内", "Within target", "pct"],
  ["slips_on_time_share", "承诺件按时", "Slips on time", "pct"],
  ["satisfaction", "满意率", "Satisfaction", "pct"],
  ["rated", "评价数", "Rated"],
  ["complaints", "投诉", "Complaints"],
  ["pause_s", "暂停", "Paused", "min"],
];

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

function renderTable(found) {
  const table = $("report-table");
  for (const part of [table.tHead, table.tBodies[0], table.tFoot]) part.replaceChildren();
  headerRow(table.tHead, COLUMNS);
  for (const r of found.rows) bodyRow(table.tBodies[0], COLUMNS, r, false);
  bodyRow(table.tFoot, COLUMNS, found.total, true);
}

function renderKpis(total) {
  const items = [
    ["取号", "Issued", fmt(total.issued)],
    ["办结", "Served", fmt(total.served)],
    ["平均等候", "Mean wait", fmt(total.wait_mean_s, "min")],
    ["时限内办结", "Within target", fmt(total.within_target_share, "pct")],
    ["满意率", "Satisfaction", fmt(total.satisfaction, "pct")],
    ["投诉", "Complaints", fmt(total.complaints)],
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
  const svg = frame($("chart-hours"), W, H, "每小时取号与办结 Tickets per hour");
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
      rect.append(el("title", {}, `${h.hour}:00 ${k === "issued" ? "取号 issued" : "办结 served"} ${h[k]}`));
      svg.append(rect);
    }
    svg.append(el("text", { x: x + step / 2, y: H - 8, class: "axis mid" }, `${h.hour}`));
  });
  legend(svg, W - 200, 4, [["bar-a", "取号 Issued"], ["bar-b", "办结 Served"]]);
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
    svg.append(el("text", { x: W / 2, y: T + 12, class: "axis mid" }, "暂无数据 No data"));
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
  if (marker) legend(svg, W - 220, 4, [["bar-a", "平均 Mean"], ["marker-key", "P90"]]);
}

// --- loading ---------------------------------------------------------------------------

async function load() {
  const by = $("by").value;
  const [from, to] = range();
  if (!from || !to) { error("请选择日期 / choose the dates"); return; }
  try {
    const main = await api(`/reports${query({ by })}`);
    const items = by === "service" ? main : await api(`/reports${query({ by: "service" })}`);
    const windows = by === "window" ? main : await api(`/reports${query({ by: "window" })}`);
    $("range-line").textContent = `${main.from} 至 ${main.to}（${main.days} 天 days）` +
      (main.live_days.length ? ` · 含今日实时数据 includes today, live` : "");
    renderKpis(main.total);
    renderTable(main);
    hoursChart(main.by_hour);
    barsChart($("chart-wait"), "各事项等候时间 Wait by item", items.rows,
      (r) => (r.wait_mean_s === null ? null : r.wait_mean_s / 60), (r) => r.wait_p90_min, "min");
    barsChart($("chart-satisfaction"), "各窗口满意率 Satisfaction by window", windows.rows,
      (r) => r.satisfaction, null, "pct");
    await loadAssessment();
    error("");
    document.body.dataset.loaded = "1";
  } catch (e) {
    if (staff.session) error(`无法读取报表 / cannot read the report: ${e.message}`);
  }
}

async function loadAssessment() {
  const found = await api(`/assessment${query({ by: $("assess-by").value })}`);
  const f = found.formula;
  $("formula").textContent = `得分 = 100 ×（办结量 ${f.served} + 满意率 ${f.satisfaction} + ` +
    `时限内 ${f.within_target} + 承诺件按时 ${f.on_time}）加权 − 过号率 × ${100 * f.no_show_penalty}` +
    ` − 投诉 × ${f.complaint_penalty} − 暂停小时 × ${f.pause_penalty_per_hour}` +
    (f.pause_exempt.length ? `（不扣：${f.pause_exempt.join("、")}）` : "") +
    " · Score: weighted served / satisfaction / within-target / on-time, minus no-shows, complaints and pauses";
  const cols = [["rank", "名次", "Rank"], ["name", "名称", "Name"], ["score", "得分", "Score"],
    ["served", "办结", "Served"], ["satisfaction", "满意率", "Satisfaction", "pct"],
    ["within_target_share", "时限内", "Within target", "pct"],
    ["slips_on_time_share", "承诺件按时", "Slips on time", "pct"],
    ["no_show_share", "过号率", "No-show share", "pct"], ["complaints", "投诉", "Complaints"],
    ["pause_s", "暂停", "Paused", "min"]];
  const table = $("assess-table");
  table.tHead.replaceChildren();
  table.tBodies[0].replaceChildren();
  headerRow(table.tHead, cols);
  for (const r of found.rows) bodyRow(table.tBodies[0], cols, r, false);
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
    error(`下载失败 / download failed: ${e.message}`);
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
document.title = `统计与考核 Statistics and assessment · ${catalogue.center.name}`;
staff.resume();
