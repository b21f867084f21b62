/* The kiosk's home tiles: the items by department, each with its live waiting count and
 * whether it takes tickets now, filtered by the search box. A tap opens the item, or after a
 * code that fits several items (choose_service) takes the ticket for the one tapped. */
import { catalogue as C, service } from "/shared/static/catalogue.js";
import { $, bilingual, en, make } from "/shared/static/dom.js";
import { inHours } from "./hours.js";
import { issue } from "./issue.js";
import { openItem, renderItemState } from "./item.js";
import { goHome } from "./screens.js";
import { SERVICES, state } from "./state.js";

export function buildTiles() {
  const host = $("tiles");
  const groups = [];
  const depts = new Map((C.departments || []).map((d) => [d.code, d]));
  const byDept = new Map();
  for (const svc of SERVICES) {
    const code = (svc.department && svc.department.code) || svc.department || "";
    if (!byDept.has(code)) byDept.set(code, []);
    byDept.get(code).push(svc);
  }
  // Departments in catalogue order, then any the list does not name.
  const order = [...(C.departments || []).map((d) => d.code).filter((c) => byDept.has(c)),
    ...[...byDept.keys()].filter((c) => !depts.has(c))];
  for (const code of order) {
    const svcs = byDept.get(code);
    const d = depts.get(code) || (typeof svcs[0].department === "object" ? svcs[0].department : { name: code });
    const group = make("section", "dept");
    group.dataset.department = code;
    const hid = `dept-${groups.length}`;
    group.setAttribute("aria-labelledby", hid);
    const h = make("h2", "dept-name");
    h.id = hid;
    bilingual(h, d.name, d.name_en);
    const grid = make("div", "tile-grid");
    for (const svc of svcs) grid.append(makeTile(svc));
    group.append(h, grid);
    groups.push(group);
  }
  host.replaceChildren(...groups);
}

function makeTile(svc) {
  const t = make("button", "tile");
  t.type = "button";
  t.dataset.service = svc.code;
  const name = make("span", "tile-name");
  name.append(make("span", "zh", svc.name));
  if (svc.name_en) name.append(en(svc.name_en, "en tile-en"));
  const foot = make("span", "tile-foot");
  foot.append(make("span", "prefix", svc.prefix || ""), make("span", "waiting"),
    make("span", "tile-state"));
  t.append(name, foot);
  t.addEventListener("click", () => tileTapped(svc.code));
  return t;
}

// Why an item takes no tickets now, or null.
export function closedReason(code) {
  const svc = service(code);
  if (!svc) return null;
  if (Object.prototype.hasOwnProperty.call(state.closed, code)) {
    return { kind: "suspended", zh: "暂停受理", en: "Suspended", why: state.closed[code] || "" };
  }
  // From the item's schedule only: the hub also knows holidays and make-up workdays, so this
  // greys the tile but leaves 取号 to the hub (which answers `closed` when it is).
  if (!inHours(svc)) return { kind: "hours", zh: "不在办理时间", en: "Outside opening hours", why: "" };
  return null;
}

export function renderTileStates() {
  for (const t of document.querySelectorAll(".tile[data-service]")) {
    const code = t.dataset.service;
    const n = state.waiting[code] || 0;
    const w = t.querySelector(".waiting");
    const text = `等候 ${n} 人`;
    if (w.firstChild === null || w.firstChild.textContent !== text || w.dataset.n !== String(n)) {
      w.dataset.n = String(n);
      w.replaceChildren(text, " ", en(`${n} waiting`));
    }
    const closed = closedReason(code);
    t.classList.toggle("closed", !!closed);
    const s = t.querySelector(".tile-state");
    if (closed) bilingual(s, closed.zh, closed.en);
    else s.replaceChildren();
  }
  if (state.screen === "item" && state.item) renderItemState();
}

export function filterTiles() {
  const q = $("search").value.trim().toLowerCase();
  let shown = 0;
  for (const group of document.querySelectorAll("#tiles .dept")) {
    let any = false;
    for (const t of group.querySelectorAll(".tile")) {
      const svc = service(t.dataset.service);
      const hit = !q || [svc.name, svc.name_en, svc.prefix, svc.code]
        .some((s) => s && String(s).toLowerCase().includes(q));
      t.hidden = !hit;
      if (hit) any = true;
      if (hit) shown += 1;
    }
    group.hidden = !any;
  }
  $("no-match").hidden = shown > 0;
}
function tileTapped(code) {
  if (state.choosing) {
    const chosen = state.choosing;
    issue({ service: code, channel: chosen.channel, code: chosen.code }, "choose");
    return;
  }
  openItem(code);
}

export function wireTiles() {
  $("search").addEventListener("input", filterTiles);
  $("search").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") ev.target.blur(); // close the on-screen keyboard
  });
  $("choose-cancel").addEventListener("click", () => {
    state.choosing = null;
    goHome();
  });
}
