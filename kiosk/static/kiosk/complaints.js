/* The kiosk's complaint form (投诉建议): a category, what happened, optionally the window, a
 * staff number and a phone number, sent with `complain`; the complaint's number is shown. */
import { catalogue as C } from "/shared/static/catalogue.js";
import { $, bilingual, make, option } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { errorBox } from "./issue.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";

let complaintCategory = null;

export function buildComplaintForm() {
  const phone = (C.center && C.center.complaint_phone) || "";
  $("complaint-phone-no").textContent = phone;
  $("complaint-phone-no").parentElement.hidden = !phone;
  const cats = (C.complaint_categories || []).map((c) => {
    const b = make("button", "category");
    b.type = "button";
    b.dataset.code = c.code;
    b.setAttribute("aria-pressed", "false");
    bilingual(b, c.name, c.name_en);
    b.addEventListener("click", () => {
      setCategory(c.code);
      $("complaint-error").hidden = true;
    });
    return b;
  });
  $("categories").replaceChildren(...cats);
  $("complaint-window").replaceChildren(option("", "不指定 / Not specified"),
    ...(C.windows || []).map((w) => {
      const label = `${w.no}号窗口`;
      return option(w.no, w.name && !w.name.startsWith(label) ? `${label} · ${w.name}` : label);
    }));
}

function setCategory(code) {
  complaintCategory = code;
  for (const b of document.querySelectorAll("#categories .category")) {
    const on = b.dataset.code === code;
    b.setAttribute("aria-pressed", String(on));
    b.classList.toggle("on", on);
  }
}

function countText() {
  const n = [...$("complaint-text").value].length;
  $("complaint-count").textContent = `${n} / 500`;
  $("complaint-count").classList.toggle("over", n > 500);
}

export function clearComplaint() {
  setCategory(null);
  $("complaint-window").value = "";
  $("complaint-staff").value = "";
  $("complaint-text").value = "";
  $("complaint-phone").value = "";
  $("complaint-error").hidden = true;
  $("complaint-error").replaceChildren();
  $("complaint-done").hidden = true;
  $("complaint-done-text").replaceChildren();
  $("complaint-form").hidden = false;
  $("complaint-submit").disabled = false;
  countText();
}

function openComplaint() {
  clearComplaint();
  show("complaint-screen");
}

function complaintError(zh, english) {
  const box = $("complaint-error");
  box.replaceChildren(bilingual(make("p", "error-title"), zh, english));
  box.hidden = false;
}

function submitComplaint() {
  $("complaint-error").hidden = true;
  const text = $("complaint-text").value.trim();
  const phone = $("complaint-phone").value.trim();
  const staff = $("complaint-staff").value.trim();
  if (!complaintCategory) return complaintError("请选择类别", "Please choose a category");
  if (!text) return complaintError("请填写内容", "Please write what happened");
  if ([...text].length > 500) return complaintError("内容不能超过 500 字", "At most 500 characters");
  if (phone && !/^[0-9+\- ]{1,20}$/.test(phone)) {
    return complaintError("电话号码只能包含数字、“-”、“+”和空格", "A phone number has digits, '-', '+' and spaces only");
  }
  if (!online()) return errorBox($("complaint-error"), { code: "not_connected" });
  const w = $("complaint-window").value;
  const args = { category: complaintCategory, text, window: w ? Number(w) : null,
    staff_no: staff || null, phone: phone || null };
  $("complaint-submit").disabled = true;
  ask("complain", args, (err, ack) => {
    $("complaint-submit").disabled = false;
    if (state.screen !== "complaint-screen") return;
    if (err) return errorBox($("complaint-error"), { code: "no_answer" });
    if (!ack || !ack.ok) {
      const e = (ack && ack.error) || {};
      return complaintError(e.message || "提交未成功", e.message_en || "Not sent");
    }
    const id = (ack.result && ack.result.id) || "";
    bilingual($("complaint-done-text"), `已收到，编号 ${id}`, `Received, no. ${id}`);
    $("complaint-text").value = "";
    $("complaint-phone").value = "";
    $("complaint-staff").value = "";
    $("complaint-form").hidden = true;
    $("complaint-done").hidden = false;
    return null;
  });
  return null;
}

export function wireComplaints() {
  $("go-complaint").addEventListener("click", openComplaint);
  $("complaint-text").addEventListener("input", countText);
  for (const id of ["complaint-text", "complaint-phone", "complaint-staff", "complaint-window"]) {
    $(id).addEventListener("input", () => { $("complaint-error").hidden = true; });
  }
  $("complaint-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitComplaint();
  });
  $("complaint-back").addEventListener("click", goHome);
  $("complaint-home").addEventListener("click", goHome);
}
