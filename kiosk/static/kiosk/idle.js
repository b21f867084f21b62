/* The kiosk left alone: after a while without a touch it goes back home with nothing personal
 * left (inputs, errors, the ticket, elderly mode and English off), and a change of the hall file
 * reloads the page only then, never in the middle of a citizen's ticket. */
import { $ } from "/shared/static/dom.js";
import { clearComplaint } from "./complaints.js";
import { forgetCard } from "./identity.js";
import { setPrintMaterials } from "./item.js";
import { goHome } from "./screens.js";
import { IDLE_MS, state } from "./state.js";
import { restartTicketTimer, stopTicketTimers } from "./ticket.js";
import { filterTiles } from "./tiles.js";
import { setElderly, setEnglish, stopPrompt } from "./voice.js";

const RELOAD_QUIET_MS = 5000; // nobody touching it for this long before a reload
let reloadAt = 0; // when a config.reloaded arrived (+0-3 s at random, not all kiosks at once)

export function idleReset() {
  stopPrompt();
  stopTicketTimers();
  forgetCard(); // the ID card's handle and masked name: nothing of a citizen stays
  state.choosing = null;
  state.codeMode = null;
  for (const node of document.querySelectorAll("input, textarea")) node.value = "";
  for (const id of ["issue-error", "code-error", "slip-error", "complaint-error", "slip-result"]) {
    $(id).hidden = true;
    $(id).replaceChildren();
  }
  for (const id of ["ticket-number", "ticket-service", "ticket-windows", "ticket-ahead", "ticket-wait",
    "print-status"]) $(id).replaceChildren();
  clearComplaint();
  setPrintMaterials(true);
  setElderly(false);
  setEnglish(false);
  filterTiles();
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  goHome();
  state.lastTouch = Date.now();
}

/** The hall file changed: reload for the new items, once the kiosk is home and left alone. */
export function reloadWhenIdle() {
  if (!reloadAt) reloadAt = Date.now() + Math.random() * 3000;
}

export function watchIdle() {
  const touched = () => {
    state.lastTouch = Date.now();
    if (state.screen === "ticket") restartTicketTimer();
  };
  document.addEventListener("pointerdown", touched, { capture: true, passive: true });
  document.addEventListener("keydown", touched, { capture: true, passive: true });
  setInterval(() => {
    // Not while a ticket is on its way: its ack would show it to the next person.
    if (!state.issuing && Date.now() - state.lastTouch >= IDLE_MS) idleReset();
    // Only at home with nobody touching it for a few seconds.
    if (reloadAt && Date.now() >= reloadAt && state.screen === "home" && !state.issuing
        && Date.now() - state.lastTouch >= RELOAD_QUIET_MS) location.reload();
  }, 1000);
}
