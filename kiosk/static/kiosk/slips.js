/* The kiosk's slip lookup: a 承诺单's status, item, dates and (a joint case) where it is among
 * its departments, by its number scanned or typed. */
import { $, bilingual, make } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { showMine } from "./identity.js";
import { errorBox } from "./issue.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";
import { both } from "/shared/static/i18n.js";

export function openSlip() {
  $("slip-input").value = "";
  $("slip-error").hidden = true;
  $("slip-result").hidden = true;
  $("slip-result").replaceChildren();
  show("slip-screen");
  showMine("slips"); // a card read already: its 承诺单 at once
}

export function lookupSlip() {
  const number = $("slip-input").value.trim().toUpperCase();
  $("slip-error").hidden = true;
  $("slip-result").hidden = true;
  if (!number) {
    bilingual($("slip-error"), ...both("kiosk.please_type_slip_number"));
    $("slip-error").hidden = false;
    return;
  }
  if (!online()) {
    errorBox($("slip-error"), { code: "not_connected" });
    return;
  }
  $("slip-submit").disabled = true;
  ask("lookup_slip", { number }, (err, ack) => {
    $("slip-submit").disabled = false;
    if (state.screen !== "slip-screen") return;
    if (err) {
      errorBox($("slip-error"), { code: "no_answer" });
    } else if (ack && ack.ok) {
      renderSlip(ack.result || {});
    } else {
      const e = (ack && ack.error) || {};
      if (e.code === "no_slip" || e.code === "not_found") {
        const box = $("slip-error");
        box.replaceChildren(bilingual(make("p", "error-title"), ...both("kiosk.no_slip_with_number")),
          bilingual(make("p", "error-detail"), ...both("kiosk.check_number_ask_at")));
        box.hidden = false;
      } else {
        errorBox($("slip-error"), e);
      }
    }
  });
}

function renderSlip(r) {
  const box = $("slip-result");
  const head = make("h3", "slip-number");
  const number = r.number || "";
  bilingual(head, ...both("kiosk.slip_no_2", { number }));
  const status = make("p", "slip-status");
  bilingual(status, r.status_name || r.status || "", r.status_name_en);
  status.dataset.status = r.status || "";
  const dl = make("dl", "facts");
  const row = (zh, english, value, valueEn) => {
    const dt = make("dt");
    bilingual(dt, zh, english);
    const dd = make("dd");
    bilingual(dd, value || "—", valueEn);
    dl.append(dt, dd);
  };
  row(...both("kiosk.item"), r.service_name, r.service_name_en);
  row(...both("kiosk.accepted_on"), r.accepted_on);
  row(...both("kiosk.promised_by"), r.promised_date);
  const items = Array.isArray(r.items) ? r.items : [];
  if (items.length) {
    const dt = make("dt");
    bilingual(dt, ...both("kiosk.items"));
    const dd = make("dd");
    const ul = make("ul", "slip-items");
    for (const it of items) ul.append(make("li", "", String(it)));
    dd.append(ul);
    dl.append(dt, dd);
  }
  const parts = Array.isArray(r.departments) ? r.departments : [];
  if (parts.length) { // 联办件: where the case is among its departments
    const dt = make("dt");
    bilingual(dt, ...both("kiosk.joint_departments"));
    const dd = make("dd");
    const ul = make("ul", "slip-parts");
    for (const d of parts) {
      const li = make("li");
      li.dataset.department = d.code;
      const [part, partEn] = d.done ? both("kiosk.part_done") : both("kiosk.part_in_progress");
      bilingual(li, `${d.name}：${part}`, `${d.name_en || d.code}: ${partEn}`);
      ul.append(li);
    }
    dd.append(ul);
    dl.append(dt, dd);
  }
  box.replaceChildren(head, status, dl);
  box.hidden = false;
}

export function wireSlips() {
  $("go-slip").addEventListener("click", openSlip);
  $("slip-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    lookupSlip();
  });
  $("slip-back").addEventListener("click", goHome);
  $("slip-input").addEventListener("input", () => { $("slip-error").hidden = true; });
}
