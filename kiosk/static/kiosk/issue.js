/* Issuing a ticket: one tap, one ticket. `issue_ticket` carries a request_id and is sent again
 * once, with the same id, if its ack does not come (the hub gives the same ticket if the first
 * got through); a code that fits several items sends the citizen to the tiles to choose. The
 * hub's refusals are shown in the screen's error box in Chinese and English. */
import { $, bilingual, make } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { dropIdentity, needsCard, renderCardPrompt } from "./identity.js";
import { updateTakeButtons } from "./item.js";
import { show } from "./screens.js";
import { state } from "./state.js";
import { showTicket } from "./ticket.js";
import { filterTiles } from "./tiles.js";
import { both, t, t2 } from "/shared/static/i18n.js";

const requestId = () => {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
};

const ERRORS = {
  closed: [...both("kiosk.outside_opening_hours"), ...both("kiosk.please_come_back_during")],
  quota_exhausted: [...both("kiosk.no_more_tickets_today"), ...both("kiosk.please_come_back_another")],
  service_closed: [...both("kiosk.item_suspended"), "", ""],
  bad_pass: [...both("kiosk.green_channel_pass_not"), ...both("kiosk.check_try_again_ask")],
  pass_used: [...both("kiosk.pass_has_already_been"), ...both("kiosk.please_ask_at_front_2")],
  bad_appointment: [...both("kiosk.appointment_not_found"), ...both("kiosk.check_code_try_again")],
  appointment_used: [...both("kiosk.appointment_already_checked_in"), ...both("kiosk.please_ask_at_front_2")],
  wrong_service: [...both("kiosk.code_another_item"), ...both("kiosk.choose_booked_item_ask")],
  code_required: [...both("kiosk.please_scan_type_code"), "", ""],
  not_connected: [...both("kiosk.not_connected"), ...both("kiosk.please_try_again_in")],
  no_answer: [...both("kiosk.no_answer_from_server"), ...both("kiosk.please_try_again_ask")],
  // 刷身份证取号: why, and when the citizen may come back; never a name or a number.
  identity_required: [...both("kiosk.id_required"), ...both("kiosk.id_required_detail")],
  identity_stale: [...both("kiosk.id_stale"), ...both("kiosk.id_try_again")],
  identity_open_ticket: [...both("kiosk.id_open_ticket"), ...both("kiosk.id_open_ticket_detail")],
  identity_daily_cap: [...both("kiosk.id_daily_cap"), ...both("kiosk.id_daily_cap_detail")],
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
    bilingual(title, e.message || t("kiosk.something_went_wrong"), e.message_en || (e.message ? "" : t2("kiosk.something_went_wrong")));
    bilingual(detail, ...both("kiosk.please_ask_at_front_2"));
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
  if (state.identity) req.identity = state.identity.handle;
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
        if (req.identity) dropIdentity(); // the card's one use: the next ticket needs a swipe
      } else {
        const e = (ack && ack.error) || {};
        if (e.code === "identity_stale") dropIdentity();
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
    if (needsCard(state.item) && !state.identity) { // asked here: no round trip to be refused
      renderCardPrompt();
      errorBox($("issue-error"), { code: "identity_required" });
      return;
    }
    issue({ service: state.item, channel: "normal" }, "item");
  });
}
