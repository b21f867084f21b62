/* Issuing a ticket: one tap, one ticket. `issue_ticket` carries a request_id and is sent again
 * once, with the same id, if its ack does not come (the hub gives the same ticket if the first
 * got through); a code that fits several items sends the citizen to the tiles to choose. The
 * hub's refusals are shown in the screen's error box in Chinese and English. */
import { $, bilingual, make } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { updateTakeButtons } from "./item.js";
import { show } from "./screens.js";
import { state } from "./state.js";
import { showTicket } from "./ticket.js";
import { filterTiles } from "./tiles.js";

const requestId = () => {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
};

const ERRORS = {
  closed: ["不在办理时间", "Outside opening hours", "请在办理时间内取号。", "Please come back during opening hours."],
  quota_exhausted: ["今日号源已发完", "No more tickets today", "请改日再来，或咨询服务台。", "Please come back another day or ask at the front desk."],
  service_closed: ["暂停受理", "This item is suspended", "", ""],
  bad_pass: ["绿色通道服务卡无效", "The green channel pass is not valid", "请核对后重新输入，或到服务台咨询。", "Check it and try again, or ask at the front desk."],
  pass_used: ["该服务卡今日已使用", "This pass has already been used", "如有疑问请到服务台咨询。", "Please ask at the front desk."],
  bad_appointment: ["未找到该预约", "Appointment not found", "请核对预约码后重新输入。", "Check the code and try again."],
  appointment_used: ["该预约已签到", "This appointment is already checked in", "如有疑问请到服务台咨询。", "Please ask at the front desk."],
  wrong_service: ["预约事项与所选事项不符", "The code is for another item", "请选择预约的事项或到服务台咨询。", "Choose the booked item or ask at the front desk."],
  code_required: ["请输入或扫描号码", "Please scan or type the code", "", ""],
  not_connected: ["暂时无法连接服务器", "Not connected", "请稍候再试。", "Please try again in a moment."],
  no_answer: ["服务器无应答", "No answer from the server", "请稍候再试，或到服务台咨询。", "Please try again, or ask at the front desk."],
};

export function errorBox(box, err) {
  const e = err || {};
  const known = ERRORS[e.code];
  const title = make("p", "error-title");
  const detail = make("p", "error-detail");
  if (known) {
    bilingual(title, known[0], known[1]);
    if (e.code === "service_closed" || e.code === "closed") {
      bilingual(detail, e.message || known[2], e.message_en || known[3]);
    } else if (known[2]) {
      bilingual(detail, known[2], known[3]);
    }
  } else {
    bilingual(title, e.message || "操作未成功", e.message_en || (e.message ? "" : "Something went wrong"));
    bilingual(detail, "如有疑问请到服务台咨询。", "Please ask at the front desk.");
  }
  box.replaceChildren(title);
  if (detail.textContent) box.append(detail);
  box.hidden = false;
}

// where: "item" | "code" | "choose" (error boxes of the item screen or the code screen)
export function issue(args, where) {
  if (state.issuing) return;
  const fail = (err) => {
    if (where === "item") {
      errorBox($("issue-error"), err);
    } else {
      if (where === "choose") show("code-screen");
      errorBox($("code-error"), err);
    }
  };
  $("issue-error").hidden = true;
  $("code-error").hidden = true;
  if (!online()) {
    fail({ code: "not_connected" });
    return;
  }
  state.issuing = true;
  updateTakeButtons();
  document.body.classList.add("busy");
  const req = { channel: args.channel || "normal", request_id: requestId(), materials: state.printMaterials };
  if (args.service) req.service = args.service;
  if (args.code) req.code = args.code;
  let tries = 0;
  const finish = () => {
    state.issuing = false;
    document.body.classList.remove("busy");
    updateTakeButtons();
  };
  const send = () => {
    tries += 1;
    ask("issue_ticket", req, (err, ack) => {
      if (err) {
        if (tries < 2) {
          send(); // the same request_id: the hub gives the same ticket if the first one got through
          return;
        }
        finish();
        fail({ code: "no_answer" });
        return;
      }
      finish();
      if (ack && ack.ok) {
        showTicket(ack.result || {}, req.materials);
      } else {
        const e = (ack && ack.error) || {};
        if (e.code === "choose_service" && req.channel !== "normal") {
          state.choosing = { channel: req.channel, code: req.code };
          $("search").value = "";
          filterTiles();
          show("home");
          return;
        }
        fail(e);
      }
    });
  };
  send();
}

export function wireIssue() {
  $("take").addEventListener("click", () => {
    if (!state.item || state.issuing) return;
    issue({ service: state.item, channel: "normal" }, "item");
  });
}
