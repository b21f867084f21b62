/* The kiosk's connection to /kiosk with its token (kept in the page's storage, paired by code when
 * there is none: shared/static/pairing.js): the waiting counts, closed
 * items and open windows (snapshot, then `status` pushes), the notice, print results, scans, its
 * ID card reader (snapshot, then `id_reader` pushes), and
 * out of service (暂停服务) while the hub refuses the token. Everything a citizen does goes
 * through `ask`, an event answered within ACK_MS. */
import { readJson } from "/shared/static/catalogue.js";
import { $, bilingual, en } from "/shared/static/dom.js";
import { connect } from "/shared/static/socket.js";
import { submitCode } from "./codes.js";
import { forgetNow } from "./hours.js";
import { reloadWhenIdle } from "./idle.js";
import { cardRead, readerChanged } from "./identity.js";
import { updateTakeButtons } from "./item.js";
import { openPhoneLink, phoneLink } from "./phone_ticket.js";
import { lookupSlip, openSlip } from "./slips.js";
import { ACK_MS, SLIP_PREFIX, state } from "./state.js";
import { printed } from "./ticket.js";
import { renderTileStates } from "./tiles.js";
import { deviceToken, pair, pairAgain, tokenRefused } from "/shared/static/pairing.js";

const SOCKET_PATH = readJson("socket-path") || "/socket.io";
const TOKEN = deviceToken("kiosk");
let socket = null;

/** Connected to the hub now: what a citizen asks for needs it. */
export const online = () => !!socket && state.connected;

/** Send `name` with `args`; `answered(err, ack)` within ACK_MS (`err` if no answer came). */
export function ask(name, args, answered) {
  socket.timeout(ACK_MS).emit(name, args, answered);
}

export function setNotice(center) {
  const box = $("notice");
  const zh = (center && center.notice) || "";
  const english = (center && center.notice_en) || "";
  box.hidden = !zh && !english;
  if (zh) bilingual(box, zh, english);
  else box.replaceChildren(en(english));
}

function applyCounts(d) {
  if (!d) return;
  // Two hubs may push their status in either order: never go back to an older one.
  if (typeof d.seq === "number") {
    if (state.countsSeq != null && d.seq < state.countsSeq) return;
    state.countsSeq = d.seq;
  }
  if (d.waiting) state.waiting = { ...d.waiting };
  if (d.closed_services) state.closed = { ...d.closed_services };
  if (d.open_windows) state.openWindows = { ...d.open_windows };
  renderTileStates();
}

export function setConnected(on) {
  state.connected = on;
  $("reconnecting").hidden = on || !!state.refused;
  updateTakeButtons();
}

function refused(err) {
  const data = (err && err.data) || {};
  state.refused = { code: data.code || "refused", message: data.message || "" };
  $("offline").hidden = false;
  $("reconnecting").hidden = true;
  // For the staff who come to look: the hub's reason, when it sent one as data.
  $("offline-detail").textContent = [data.code, data.message].filter(Boolean).join(" · ");
}

function snapshot(snap) {
  forgetNow();
  if (snap.center) {
    state.center = { ...state.center, ...snap.center };
    setNotice(snap.center);
  }
  if (snap.kiosk) {
    state.kiosk = { ...snap.kiosk };
    readerChanged(snap.kiosk);
  }
  applyCounts(snap);
}

export function connectKiosk() {
  if (!TOKEN) {
    pair("kiosk");
    return;
  }
  if (typeof io !== "function") {
    refused({ data: { code: "no_client", message: "Socket.IO client missing" } });
    return;
  }
  socket = connect("/kiosk", { token: TOKEN }, {
    online: () => {
      state.countsSeq = null; // a new connection (maybe another hub, maybe restored): start over
      state.refused = null;
      $("offline").hidden = true;
      setConnected(true);
    },
    offline: () => setConnected(false),
    // Refused by the hub (token unknown or revoked): out of service; the helper tries again.
    refused: (err) => {
      if (tokenRefused(err && err.data)) pairAgain("kiosk"); // revoked: pair again
      setConnected(false);
      refused(err);
    },
    snapshot,
    reload: reloadWhenIdle,
  }, { retry: true, path: SOCKET_PATH });
  socket.on("status", applyCounts);
  socket.on("printed", printed);
  socket.on("identity", cardRead); // an ID card read at this kiosk's reader
  socket.on("id_reader", readerChanged); // its reader reported, offline, or taken out
  socket.on("scan", (s) => scanned(s && typeof s.text === "string" ? s.text.trim() : ""));
}

function scanned(text) {
  if (!text) return;
  state.lastTouch = Date.now();
  // The QR of a printed ticket (or 承诺单) holds its phone page's address, not a code: never
  // typed into the code or slip boxes. A ticket's opens that ticket here (phone_ticket.js).
  const link = phoneLink(text);
  if (link) {
    if (link.kind === "t" && !state.issuing) openPhoneLink(link.capability);
    return;
  }
  if (state.screen === "code-screen") {
    $("code-input").value = text;
    submitCode();
  } else if (state.screen === "slip-screen") {
    $("slip-input").value = text;
    lookupSlip();
  } else if (SLIP_PREFIX && text.toUpperCase().startsWith(SLIP_PREFIX.toUpperCase()) && !state.issuing) {
    openSlip();
    $("slip-input").value = text;
    lookupSlip();
  }
}
