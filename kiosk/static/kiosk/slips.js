/* The kiosk's slip lookup: a 承诺单's status, item, dates and (a joint case) where it is among
 * its departments, by its number scanned or typed. */
import { $, bilingual, make } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { errorBox } from "./issue.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";

export function openSlip() {
  $("slip-input").value = "";
  $("slip-error").hidden = true;
  $("slip-result").hidden = true;
  $("slip-result").replaceChildren();
  show("slip-screen");
}

export function lookupSlip() {
  const number = $("slip-input").value.trim().toUpperCase();
  $("slip-error").hidden = true;
  $("slip-result").hidden = true;
  if (!number) {
    bilingual($("slip-error"), "请输入承诺单号", "Please type the slip number");
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
        box.replaceChildren(bilingual(make("p", "error-title"), "未找到该承诺单", "No slip with this number"),
          bilingual(make("p", "error-detail"), "请核对承诺单号，或到服务台咨询。", "Check the number, or ask at the front desk."));
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
  bilingual(head, `承诺单号 ${number}`, `Slip no. ${number}`);
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
  row("办理事项", "Item", r.service_name, r.service_name_en);
  row("受理日期", "Accepted on", r.accepted_on);
  row("承诺办结日期", "Promised by", r.promised_date);
  const items = Array.isArray(r.items) ? r.items : [];
  if (items.length) {
    const dt = make("dt");
    bilingual(dt, "所列事项", "Items");
    const dd = make("dd");
    const ul = make("ul", "slip-items");
    for (const it of items) ul.append(make("li", "", String(it)));
    dd.append(ul);
    dl.append(dt, dd);
  }
  const parts = Array.isArray(r.departments) ? r.departments : [];
  if (parts.length) { // 联办件: where the case is among its departments
    const dt = make("dt");
    bilingual(dt, "联办部门", "Joint departments");
    const dd = make("dd");
    const ul = make("ul", "slip-parts");
    for (const d of parts) {
      const li = make("li");
      li.dataset.department = d.code;
      bilingual(li, `${d.name}：${d.done ? "已办结" : "办理中"}`, `${d.name_en || d.code}: ${d.done ? "done" : "in progress"}`);
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
