/* The kiosk's ticket screen: the number, the item, the windows, how many are ahead and the
 * estimated wait, and the print: printing, printed, or failed (say so, offer a reprint, and
 * send the citizen to the front desk with the screen). It goes home by itself after a while. */
import { service } from "/shared/static/catalogue.js";
import { $, bilingual } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { windowsEn } from "./hours.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";
import { playPrompt } from "./voice.js";
import { both, t } from "/shared/static/i18n.js";

const TICKET_HOME_MS = 30000; // the ticket screen goes home by itself
const PRINT_MS = 10000; // no `printed` after a queued print: say it failed
const CHANNELS = { green: both("kiosk.green_channel"), appointment: both("kiosk.appointment"),
  elderly: both("kiosk.elderly_priority") };
const earlyPrints = new Map(); // ticket id -> a `printed` that came before the ticket
let printTimer = null;
let ticketTimer = null;

export function showTicket(result, materials) {
  const ticket = result.ticket || {};
  state.ticket = ticket;
  state.ticketMaterials = materials === true;
  $("ticket-number").textContent = ticket.number || "—";
  const channel = ticket.elderly === true ? "elderly" : ticket.channel;
  const ch = CHANNELS[channel];
  $("ticket-channel").hidden = !ch;
  $("ticket-channel").classList.toggle("elderly", channel === "elderly");
  if (ch) bilingual($("ticket-channel"), ch[0], ch[1]);
  const svc = service(ticket.service) || {};
  bilingual($("ticket-service"), ticket.service_name || svc.name || ticket.service || "", ticket.service_name_en || svc.name_en);
  const nos = ticket.windows || svc.windows || [];
  $("ticket-windows").hidden = !nos.length;
  bilingual($("ticket-windows"), t("kiosk.go_to_windows", { windows: nos.join(t("common.list_sep")) }), windowsEn(nos));
  const ahead = Number(ticket.people_ahead) || 0;
  bilingual($("ticket-ahead"), ...both("kiosk.ahead", { ahead }));
  const wait = ticket.estimated_wait_minutes;
  $("ticket-wait").hidden = wait === undefined || wait === null;
  if (wait === 0) bilingual($("ticket-wait"), ...both("kiosk.you_will_called_shortly"));
  else bilingual($("ticket-wait"), ...both("kiosk.about_min", { wait }));
  show("ticket");
  state.print = null;
  if (result.print === "queued") playPrompt("ticket"); // a failure says print_failed instead
  const sent = result.print === "queued" || result.print === "repeated";
  printState(sent ? "printing" : "failed");
  const early = earlyPrints.get(ticket.id);
  if (early && sent) {
    earlyPrints.delete(ticket.id);
    printState(early.ok ? "printed" : "failed");
  }
  if (result.print === "no_printer") $("reprint").hidden = true; // nothing to print again on
  restartTicketTimer();
}

export function printState(kind) {
  state.print = kind;
  clearTimeout(printTimer);
  const box = $("print-status");
  box.className = `print-status ${kind}`;
  $("reprint").hidden = kind !== "failed";
  if (kind === "printing") {
    bilingual(box, ...both("kiosk.printing_your_ticket"));
    printTimer = setTimeout(() => {
      if (state.print === "printing") printState("failed");
    }, PRINT_MS);
  } else if (kind === "printed") {
    bilingual(box, ...both("kiosk.please_take_your_ticket"));
  } else {
    bilingual(box, ...both("kiosk.ticket_could_not_printed"));
  }
  if (state.screen === "ticket" && kind === "failed") playPrompt("print_failed");
}

export function restartTicketTimer() {
  clearTimeout(ticketTimer);
  ticketTimer = setTimeout(() => {
    if (state.screen === "ticket") goHome();
  }, TICKET_HOME_MS);
}

/** Stop the ticket screen's timers (going home, printing): another screen is shown. */
export function stopTicketTimers() {
  clearTimeout(ticketTimer);
  clearTimeout(printTimer);
}

/** The agent's answer for a ticket it printed, or failed to. */
export function printed(p) {
  if (!p || !p.ticket_id) return;
  if (!state.ticket || p.ticket_id !== state.ticket.id || state.screen !== "ticket") {
    // A quick printer can answer before the hub's answer to 取号 arrives: keep it for then.
    earlyPrints.set(p.ticket_id, p);
    if (earlyPrints.size > 5) earlyPrints.delete(earlyPrints.keys().next().value);
    return;
  }
  printState(p.ok ? "printed" : "failed");
}

export function wireTicket() {
  $("reprint").addEventListener("click", () => {
    const ticket = state.ticket;
    if (!ticket || !online() || $("reprint").disabled) return;
    $("reprint").disabled = true;
    bilingual($("print-status"), ...both("kiosk.printing_again"));
    const again = { ticket_id: ticket.id, materials: state.ticketMaterials }; // what the first print had
    ask("reprint", again, (err, ack) => {
      $("reprint").disabled = false;
      if (!state.ticket || state.ticket.id !== t.id) return;
      if (!err && ack && ack.ok && ack.result && ack.result.print === "queued") printState("printing");
      else printState("failed");
    });
  });
  $("done").addEventListener("click", goHome);
}
