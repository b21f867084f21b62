/* The kiosk's item screen: the six public disclosures (六公开), the materials told once
 * (一次性告知), hours, windows and the live waiting count, and the 取号 button's state. */
import { service } from "/shared/static/catalogue.js";
import { $, bilingual, en, make } from "/shared/static/dom.js";
import { hoursText, windowsEn, windowsZh } from "./hours.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";
import { closedReason } from "./tiles.js";

const DISCLOSURES = [
  // [data-key, field in the catalogue (and older spellings), 中文, English]
  ["duties", ["duties"], "工作职责", "Duties"],
  ["legal_basis", ["basis", "legal_basis"], "办事依据", "Legal basis"],
  ["preconditions", ["preconditions"], "前置条件", "Preconditions"],
  ["procedure", ["procedure"], "办事程序", "Procedure"],
  ["time_limit", ["time_limit"], "办事时限", "Time limit"],
  ["fees", ["fees"], "收费标准", "Fees"],
];
const CASE_TYPES = {
  immediate: ["即办件", "Done on the spot"],
  commitment: ["承诺件", "Promised within a time limit"],
  joint: ["联办件", "Joint handling"],
  report: ["上报件", "Reported to a higher authority"],
};

function pick(obj, keys) {
  for (const k of keys) if (obj && typeof obj[k] === "string" && obj[k].trim()) return obj[k];
  return "";
}

export function openItem(code) {
  const svc = service(code);
  if (!svc) return;
  state.item = code;
  $("issue-error").hidden = true;
  bilingual($("item-name"), svc.name);
  $("item-name-en").textContent = svc.name_en || "";
  $("item-name-en").hidden = !svc.name_en;
  const d = typeof svc.department === "object" ? svc.department : {};
  const ct = CASE_TYPES[svc.case_type];
  const dept = $("item-dept");
  dept.replaceChildren(d.name || "");
  if (d.name_en) dept.append(" ", en(d.name_en));
  if (ct) {
    dept.append(make("span", "sep", " · "), ct[0]);
    if (svc.time_limit_days) dept.append(`（${svc.time_limit_days} 个工作日）`);
    dept.append(" ", en(ct[1] + (svc.time_limit_days ? ` (${svc.time_limit_days} working days)` : "")));
  }

  const mats = (svc.materials || []).map((m) => make("li", "", m));
  if (!mats.length) mats.push(bilingual(make("li", "none"), "无需材料", "None"));
  $("materials").replaceChildren(...mats);

  const hours = hoursText(svc);
  bilingual($("item-hours"), hours.zh || "—", hours.en);
  bilingual($("item-windows"), windowsZh(svc.windows) || "—", windowsEn(svc.windows));

  const disc = svc.disclosure || {};
  const sections = DISCLOSURES.map(([key, fields, zh, english]) => {
    const sec = make("section", "card disclosure");
    sec.dataset.key = key;
    const h = make("h3", "", zh);
    h.append(" ", en(english));
    const body = make("div", "disclosure-text");
    body.append(make("p", "zh-text", pick(disc, fields) || "—"));
    const textEn = pick(disc, fields.map((f) => `${f}_en`));
    if (textEn) body.append(en(textEn, "en en-text", "p"));
    sec.append(h, body);
    return sec;
  });
  $("disclosures").replaceChildren(...sections);
  renderItemState();
  show("item");
}

export function renderItemState() {
  const code = state.item;
  const n = state.waiting[code] || 0;
  bilingual($("item-waiting"), `${n} 人`, `${n} waiting`);
  const closed = closedReason(code);
  const box = $("item-state");
  box.hidden = !closed;
  if (closed) {
    box.replaceChildren(closed.zh + (closed.why ? `：${closed.why}` : ""), " ", en(closed.en));
  }
  updateTakeButtons();
}

export function setPrintMaterials(on) {
  state.printMaterials = !!on;
  const b = $("print-materials");
  b.setAttribute("aria-pressed", String(state.printMaterials));
  b.classList.toggle("on", state.printMaterials);
}

export function updateTakeButtons() {
  const blocked = state.issuing || !state.connected;
  const closed = state.item ? closedReason(state.item) : null;
  $("take").disabled = blocked || (!!closed && closed.kind === "suspended");
  $("code-submit").disabled = blocked;
  document.body.classList.toggle("offline-now", !state.connected);
  for (const t of document.querySelectorAll(".tile")) t.setAttribute("aria-disabled", String(!!state.choosing && blocked));
}

export function wireItem() {
  $("print-materials").addEventListener("click", () => setPrintMaterials(!state.printMaterials));
  $("back").addEventListener("click", goHome);
}
