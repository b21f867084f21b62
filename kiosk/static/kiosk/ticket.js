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

const TICKET_HOME_MS = 30000; // the ticket screen goes home by itself
const PRINT_MS = 10000; // no `printed` after a queued print: say it failed
const CHANNELS = { green: ["绿色通道", "Green channel"], appointment: ["预约", "Appointment"] };
const earlyPrints = new Map(); // ticket id -> a `printed` that came before the ticket
let printTimer = null;
let ticketTimer = null;

export function showTicket(result, materials) {
  const t = result.ticket || {};
  state.ticket = t;
  state.ticketMaterials = materials === true;
  $("ticket-number").textContent = t.number || "—";
  const ch = CHANNELS[t.channel];
  $("ticket-channel").hidden = !ch;
  if (ch) bilingual($("ticket-channel"), ch[0], ch[1]);
  const svc = service(t.service) || {};
  bilingual($("ticket-service"), t.service_name || svc.name || t.service || "", t.service_name_en || svc.name_en);
  const nos = t.windows || svc.windows || [];
  $("ticket-windows").hidden = !nos.length;
  bilingual($("ticket-windows"), `请到 ${nos.join("、")} 号窗口`, windowsEn(nos));
  const ahead = Number(t.people_ahead) || 0;
  bilingual($("ticket-ahead"), `前面还有 ${ahead} 人`, `${ahead} ahead`);
  const wait = t.estimated_wait_minutes;
  $("ticket-wait").hidden = wait === undefined || wait === null;
  if (wait === 0) bilingual($("ticket-wait"), "即将为您叫号", "You will be called shortly");
  else bilingual($("ticket-wait"), `预计等候约 ${wait} 分钟`, `About ${wait} min`);
  show("ticket");
  state.print = null;
  if (result.print === "queued") playPrompt("ticket"); // a failure says print_failed instead
  const sent = result.print === "queued" || result.print === "repeated";
  printState(sent ? "printing" : "failed");
  const early = earlyPrints.get(t.id);
  if (early && sent) {
    earlyPrints.delete(t.id);
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
    bilingual(box, "正在打印号票…", "Printing your ticket…");
    printTimer = setTimeout(() => {
      if (state.print === "printing") printState("failed");
    }, PRINT_MS);
  } else if (kind === "printed") {
    bilingual(box, "已打印，请取走号票", "Please take your ticket");
  } else {
    bilingual(box, "号票未能打印，请凭屏幕上的号码到服务台",
      "The ticket could not be printed — please show this screen at the front desk");
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
    const t = state.ticket;
    if (!t || !online() || $("reprint").disabled) return;
    $("reprint").disabled = true;
    bilingual($("print-status"), "正在重新打印…", "Printing again…");
    const again = { ticket_id: t.id, materials: state.ticketMaterials }; // what the first print had
    ask("reprint", again, (err, ack) => {
      $("reprint").disabled = false;
      if (!state.ticket || state.ticket.id !== t.id) return;
      if (!err && ack && ack.ok && ack.result && ack.result.print === "queued") printState("printing");
      else printState("failed");
    });
  });
  $("done").addEventListener("click", goHome);
}
