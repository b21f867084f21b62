/* The clerk panel's 承诺单 and 联办件: a slip's status updated (POST /slips/{no}/status) or
 * printed again at the window's printer, the result of a print, and the joint cases waiting
 * for this department's part (GET /joint-cases, every 30 s and on every change we make). */
import { $, make, say } from "/shared/static/dom.js";
import { joined, spaced, t } from "/shared/static/i18n.js";

const ACK_MS = 8000;
const JOINT_EVERY_MS = 30000;

/** A 承诺单 printed at this window's printer (or the kiosk's): the citizen must get it. */
export function showPrinted(d) {
  const box = $("slip-printed");
  box.hidden = false;
  box.textContent = d.ok
    ? joined("caller.slip_printed", { slip: d.slip })
    : joined("caller.not_printed", { slip: d.slip, message: d.message, message_en: d.message_en });
}

// 联办件: cases accepted at another window that wait for this department's part.
let jointTimer = null;
export async function loadJoint(staff) {
  clearTimeout(jointTimer);
  if (!staff.session) return;
  jointTimer = setTimeout(() => loadJoint(staff), JOINT_EVERY_MS);
  let cases;
  try {
    cases = (await staff.api("GET", "/joint-cases")).cases;
  } catch (e) {
    return; // shown again on the next round
  }
  $("joint-list").replaceChildren(...cases.map((c) => jointCase(staff, c)));
  $("joint-empty").hidden = cases.length > 0;
}

function jointCase(staff, c) {
  const li = make("li");
  const progress = c.departments.map((d) => `${d.name}${d.done ? "✓" : "…"}`).join(" ");
  const text = make("span", "",
    t("caller.joint_line", { number: c.number, service: c.service_name, promised: c.promised_date || "—", progress }));
  const btn = make("button", "joint-done", joined("caller.our_part_done"));
  btn.type = "button";
  btn.dataset.slip = c.number;
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      const s = await staff.api("POST", `/slips/${encodeURIComponent(c.number)}/parts`, {});
      say("info", `${s.number}：${s.status_name} / ${s.status_name_en}`);
    } catch (e) {
      say("error", spaced("caller.refused", { message: e.message }));
    }
    loadJoint(staff);
  });
  li.append(text, " ", btn);
  return li;
}

export function wireSlips(staff) {
  $("btn-print-slip").addEventListener("click", () => {
    const slip = $("slip-number").value.trim();
    if (!slip) {
      say("error", joined("caller.enter_slip_number"));
      return;
    }
    if (!staff.socket) return;
    staff.socket.timeout(ACK_MS).emit("print_slip", { slip }, (err, ack) => {
      if (err) say("error", joined("caller.hub_did_not_answer"));
      else if (!ack.ok) say("error", spaced("caller.refused_2", { message: ack.error.message }));
      else say("info", ack.result.print === "queued" ? joined("caller.sent_printer")
        : joined("caller.no_printer_connected"));
    });
  });

  $("slip-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    say("error", "");
    const number = $("slip-number").value.trim();
    try {
      const s = await staff.api("POST", `/slips/${encodeURIComponent(number)}/status`,
        { status: $("slip-status").value });
      $("slip-shown").textContent =
        t("caller.slip_line", { number: s.number, status: s.status_name, status_en: s.status_name_en, promised: s.promised_date || "—" });
    } catch (e) {
      say("error", spaced("caller.slip_update_refused", { message: e.message }));
    }
  });
}
