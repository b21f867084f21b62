/* The kiosk's screens, one shown at a time: home, an item, the ticket, the green channel or
 * appointment code, slip lookup, the complaint form, and a scanned phone link's ticket. */
import { $ } from "/shared/static/dom.js";
import { updateTakeButtons } from "./item.js";
import { state } from "./state.js";
import { stopTicketTimers } from "./ticket.js";
import { playPrompt, SCREEN_PROMPTS, setElderly } from "./voice.js";

const SCREENS = ["home", "item", "ticket", "code-screen", "slip-screen", "complaint-screen", "phone-ticket"];

export function show(name) {
  if (state.screen === "ticket" && name !== "ticket" && state.elderlyByCard && !state.identity) {
    state.elderlyByCard = false; // the elderly card's ticket was read: 长者模式 off for the next
    setElderly(false);
  }
  state.screen = name;
  for (const id of SCREENS) $(id).hidden = id !== name;
  if (name !== "ticket") stopTicketTimers();
  if (name !== "home") state.choosing = null;
  $("choose-hint").hidden = !(name === "home" && state.choosing);
  document.body.classList.toggle("choosing", name === "home" && !!state.choosing);
  window.scrollTo(0, 0);
  const main = $("main");
  if (main.scrollTo) main.scrollTo(0, 0);
  updateTakeButtons();
  // The ticket screen speaks once its print state is known (showTicket → printState).
  if (name !== "ticket") playPrompt(SCREEN_PROMPTS[name]);
}

export function goHome() {
  state.item = null;
  state.ticket = null;
  state.print = null;
  show("home");
}
