/* The kiosk's item screen: the six public disclosures (六公开), the materials told once
 * (一次性告知), hours, windows and the live waiting count, and the 取号 button's state. */
import { service } from "/shared/static/catalogue.js";
import { $, bilingual, en, make } from "/shared/static/dom.js";
import { hoursText, windowsEn, windowsZh } from "./hours.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";
import { renderCardPrompt } from "./identity.js";
import { closedReason } from "./tiles.js";
import { both, t } from "/shared/static/i18n.js";

const DISCLOSURES = [
  // [data-key, field in the catalogue (and older spellings), 中文, English]
  ["duties", ["duties"], ...both("kiosk.duties")],
  ["legal_basis", ["basis", "legal_basis"], ...both("kiosk.legal_basis")],
  ["preconditions", ["preconditions"], ...both("kiosk.preconditions")],
  ["procedure", ["procedure"], ...both("kiosk.procedure")],
  ["time_limit", ["time_limit"], ...both("kiosk.time_limit")],
  ["fees", ["fees"], ...both("kiosk.fees")],
];
const CASE_TYPES = {
  immediate: both("kiosk.done_on_spot"),
  commitment: both("kiosk.promised_within_time_limit"),
  joint: both("kiosk.joint_handling"),
  report: both("kiosk.reported_higher_authority"),
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
    if (svc.time_limit_days) dept.append(`（${t("kiosk.working_days", { days: svc.time_limit_days })}）`);
    dept.append(" ", en(ct[1] + (svc.time_limit_days ? ` (${svc.time_limit_days} working days)` : "")));
  }

  const mats = (svc.materials || []).map((m) => make("li", "", m));
  if (!mats.length) mats.push(bilingual(make("li", "none"), ...both("kiosk.none")));
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
  bilingual($("item-waiting"), ...both("kiosk.waiting_2", { n }));
  const closed = closedReason(code);
  const box = $("item-state");
  box.hidden = !closed;
  if (closed) {
    box.replaceChildren(closed.zh + (closed.why ? `：${closed.why}` : ""), " ", en(closed.en));
  }
  renderCardPrompt();
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
  for (const tile of document.querySelectorAll(".tile")) tile.setAttribute("aria-disabled", String(!!state.choosing && blocked));
}

export function wireItem() {
  $("print-materials").addEventListener("click", () => setPrintMaterials(!state.printMaterials));
  $("back").addEventListener("click", goHome);
}
