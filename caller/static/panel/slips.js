/* The clerk panel's 承诺单 and 联办件: a slip's status updated (POST /slips/{no}/status) or
 * printed again at the window's printer, the result of a print, and the joint cases waiting
 * for this department's part (GET /joint-cases, every 30 s and on every change we make). */
import { $, make, say } from "/shared/static/dom.js";

const ACK_MS = 8000;
const JOINT_EVERY_MS = 30000;

/** A 承诺单 printed at this window's printer (or the kiosk's): the citizen must get it. */
export function showPrinted(d) {
  const box = $("slip-printed");
  box.hidden = false;
  box.textContent = d.ok
    ? `承诺单 ${d.slip} 已打印 / Slip printed`
    : `承诺单 ${d.slip} 未能打印：${d.message} / Not printed: ${d.message_en}`;
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
    `${c.number} · ${c.service_name} · 承诺 ${c.promised_date || "—"} · ${progress}`);
  const btn = make("button", "joint-done", "本部门办结 / Our part done");
  btn.type = "button";
  btn.dataset.slip = c.number;
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      const s = await staff.api("POST", `/slips/${encodeURIComponent(c.number)}/parts`, {});
      say("info", `${s.number}：${s.status_name} / ${s.status_name_en}`);
    } catch (e) {
      say("error", `联办办结失败 Refused: ${e.message}`);
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
      say("error", "请输入承诺单号 / Enter the slip number");
      return;
    }
    if (!staff.socket) return;
    staff.socket.timeout(ACK_MS).emit("print_slip", { slip }, (err, ack) => {
      if (err) say("error", "服务器无应答 / The hub did not answer");
      else if (!ack.ok) say("error", `补打失败 Refused: ${ack.error.message}`);
      else say("info", ack.result.print === "queued" ? "已发送打印 / Sent to the printer"
        : "没有可用的打印机 / No printer connected");
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
        `${s.number}：${s.status_name} ${s.status_name_en} · 承诺日期 ${s.promised_date || "—"}`;
    } catch (e) {
      say("error", `承诺单更新失败 Slip update refused: ${e.message}`);
    }
  });
}
