/* The kiosk's state, one object for every part of the page (and, read-only, for tests and the
 * front desk's diagnostics: window.kiosk.state), and the settings from its catalogue. */
import { catalogue as C } from "/shared/static/catalogue.js";

export const IDLE_MS = Math.max(10, Number(C.idle_seconds) || 60) * 1000;
export const ACK_MS = 8000; // issue_ticket: re-sent once (same request_id) after this
export const SLIP_PREFIX = C.slip_prefix || "CN";
export const SERVICES = C.services || [];

export const state = {
  countsSeq: null, // seq of the waiting counts shown (see applyCounts)
  screen: "home",
  connected: false,
  refused: null, // {code, message} while the hub refuses this kiosk's token
  kiosk: { name: "", printer: null, id_reader: false, id_reader_ready: false },
  center: { ...C.center },
  waiting: {},
  closed: {},
  openWindows: {},
  item: null, // code of the item on the item screen
  elderly: false,
  elderlyByCard: false, // 长者模式 was turned on by an elderly card, not by a tap
  identity: null, // {handle, masked_name, elderly} of the ID card read: kiosk/identity.js
  english: false,
  printMaterials: true,
  issuing: false,
  codeMode: null, // "green" | "appointment" on the code screen
  choosing: null, // {channel, code} after choose_service: pick the item on the home tiles
  ticket: null, // the ticket on the ticket screen
  ticketMaterials: false, // whether its print carried the materials list (a reprint does too)
  print: null, // "printing" | "printed" | "failed"
  lastTouch: Date.now(),
};
