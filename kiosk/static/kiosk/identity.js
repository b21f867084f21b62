/* 刷身份证取号: the ID card read by the reader on the kiosk's agent. The hub turns the card into a
 * sealed handle and a masked name (`identity` on /kiosk) and forgets the rest; the page keeps only
 * that, shows 已读取身份证 张* with 取消, sends the handle with the ticket taken next, and drops it
 * when the ticket is issued, on 取消, when it expires, and when the kiosk goes idle. An elderly card
 * turns 长者模式 on. After a swipe on the 承诺单 or 预约 screen, the person's slips or today's
 * appointments are looked up (`lookup_identity`, as POST /api/v1/identity/lookup). No number or
 * full name ever reaches the page. */
import { service } from "/shared/static/catalogue.js";
import { $, bilingual, en, make } from "/shared/static/dom.js";
import { ask, online } from "./connection.js";
import { errorBox, issue } from "./issue.js";
import { lookupSlip } from "./slips.js";
import { state } from "./state.js";
import { setElderly } from "./voice.js";
import { both, t } from "/shared/static/i18n.js";

const DEFAULT_VALID_S = 120; // what the hub says a handle lasts, if it says nothing
const ERROR_SHOWN_MS = 15000; // a failed read's message, then it goes
const CARD_ERRORS = {
  id_invalid: both("kiosk.id_invalid"),
  id_expired: both("kiosk.id_expired"),
  id_unreadable: both("kiosk.id_unreadable"),
};
let expiryTimer = null;
let errorTimer = null;
let lookups = 0; // bumped by every drop: a lookup answering after it shows nothing

/** Whether the item `code` takes tickets only after a swipe. */
export const needsCard = (code) => (service(code) || {}).id_required === "required";

/** The hub's `identity` push: a card read at this kiosk's reader (or why it could not be). */
export function cardRead(d) {
  if (!d || typeof d !== "object") return;
  state.lastTouch = Date.now(); // a swipe is a touch: the kiosk is not idle
  if (d.error || typeof d.handle !== "string") {
    dropIdentity();
    showCardError(d.error);
    return;
  }
  hideCardError();
  const valid = Number(d.valid_s) > 0 ? Number(d.valid_s) : DEFAULT_VALID_S;
  state.identity = { handle: d.handle, masked_name: String(d.masked_name || ""),
    elderly: d.elderly === true };
  if (state.identity.elderly && !state.elderly) {
    state.elderlyByCard = true; // off again when the card is dropped (or the ticket left)
    setElderly(true); // 长者模式 by itself for a citizen the card says is elderly
  }
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(dropIdentity, valid * 1000);
  renderCard();
  afterSwipe();
}

/** The hub's `id_reader` push (and the snapshot's `kiosk`): whether this kiosk has an ID card
 * reader and whether it reads now. */
export function readerChanged(d) {
  if (!d || typeof d !== "object") return;
  state.kiosk = { ...state.kiosk, id_reader: d.id_reader === true,
    id_reader_ready: d.id_reader === true && d.id_reader_ready === true };
  renderReaderNotice();
}

/** On the home screen of a kiosk with a reader, before any card: 可刷身份证取号 (or that the
 * reader is unavailable) and what a card is used for (个人信息保护法 art. 17). After a swipe the
 * card's own line says it instead. */
function renderReaderNotice() {
  const { id_reader: has, id_reader_ready: ready } = state.kiosk;
  $("id-reader-notice").hidden = !has || !!state.identity;
  $("id-reader-ready").hidden = !ready;
  $("id-reader-away").hidden = !!ready;
}

/** Forget the card (issued, 取消, expired, idle): nothing of it is left in the page. */
export function dropIdentity() {
  clearTimeout(expiryTimer);
  lookups += 1;
  state.identity = null;
  // An elderly citizen reads their ticket in 长者模式: it goes when they leave the ticket screen.
  if (state.elderlyByCard && state.screen !== "ticket") {
    state.elderlyByCard = false;
    setElderly(false);
  }
  for (const id of ["id-slips", "id-appointments"]) {
    $(id).hidden = true;
    $(id).replaceChildren();
  }
  renderCard();
}

/** The page left alone: the card and any message about it go. */
export function forgetCard() {
  dropIdentity();
  hideCardError();
}

function renderCard() {
  const id = state.identity;
  $("id-card").hidden = !id;
  document.body.classList.toggle("has-card", !!id);
  if (id) {
    bilingual($("id-card-read"), ...both("kiosk.id_read", { name: id.masked_name }));
    $("id-card-elderly").hidden = !id.elderly;
  }
  renderCardPrompt();
  renderReaderNotice();
}

/** On the item screen (the prompt is part of it): 请刷身份证 while its item needs a card and
 * none was read. */
export function renderCardPrompt() {
  $("id-prompt").hidden = !(state.item && needsCard(state.item) && !state.identity);
}

function showCardError(code) {
  const [zh, english] = CARD_ERRORS[code] || CARD_ERRORS.id_unreadable;
  const box = $("id-error");
  box.replaceChildren(bilingual(make("p", "error-title"), zh, english),
    bilingual(make("p", "error-detail"), ...both("kiosk.id_try_again")));
  box.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(hideCardError, ERROR_SHOWN_MS);
}

function hideCardError() {
  clearTimeout(errorTimer);
  $("id-error").hidden = true;
  $("id-error").replaceChildren();
}

// What a swipe does on the screen it happens on.
function afterSwipe() {
  if (state.screen === "slip-screen") lookup("slips");
  else if (state.screen === "code-screen" && state.codeMode === "appointment") lookup("appointments");
  else if (state.screen === "item") $("issue-error").hidden = true;
  else if (state.screen === "ticket") $("done").click(); // a swipe after a ticket: a new visit
}

/** A lookup screen opened: the card's list if a card was read before, else none shown. */
export function showMine(what) {
  const box = $(what === "slips" ? "id-slips" : "id-appointments");
  box.hidden = true;
  box.replaceChildren();
  if (state.identity) lookup(what);
}

/** The card's 承诺单 or today's appointments, shown on the screen the swipe happened on. */
function lookup(what) {
  const id = state.identity;
  const box = $(what === "slips" ? "id-slips" : "id-appointments");
  if (!id || !online()) return;
  const mine = ++lookups;
  box.classList.remove("error-box");
  box.hidden = false;
  bilingual(box, ...both("kiosk.id_looking_up"));
  ask("lookup_identity", { identity: id.handle }, (err, ack) => {
    if (mine !== lookups) return; // dropped, or swiped again, meanwhile
    if (err || !ack || !ack.ok) {
      const e = err ? { code: "no_answer" } : (ack && ack.error) || {};
      if (e.code === "identity_stale") {
        dropIdentity();
        return;
      }
      errorBox(box, e);
      box.classList.add("error-box");
      return;
    }
    const found = ack.result || {};
    if (what === "slips") showSlips(box, found.slips || []);
    else showAppointments(box, found.appointments || []);
  });
}

const shownName = () => ({ name: state.identity ? state.identity.masked_name : "" });

// title, empty: [Chinese, English]
function listBox(box, title, empty, rows) {
  const head = bilingual(make("h3", "id-list-title"), ...title);
  if (!rows.length) {
    box.replaceChildren(head, bilingual(make("p", "id-list-empty"), ...empty));
    return;
  }
  const ul = make("ul", "id-list");
  ul.append(...rows);
  box.replaceChildren(head, ul);
}

function showSlips(box, slips) {
  const rows = slips.map((s) => {
    const li = make("li", "id-row");
    li.dataset.slip = s.number || "";
    const what = make("p", "id-row-text");
    what.append(make("strong", "", s.number || ""), " ", s.status_name || s.status || "");
    if (s.status_name_en) what.append(" ", en(s.status_name_en));
    const more = make("p", "id-row-sub");
    bilingual(more, [s.service_name, s.promised_date && t("kiosk.promised_by_date", { date: s.promised_date })]
      .filter(Boolean).join(" · "), s.service_name_en);
    const open = bilingual(make("button", "secondary id-row-button"), ...both("kiosk.id_details"));
    open.type = "button";
    open.addEventListener("click", () => {
      $("slip-input").value = s.number || "";
      lookupSlip();
    });
    li.append(make("div", "id-row-body"), open);
    li.firstChild.append(what, more);
    return li;
  });
  listBox(box, both("kiosk.id_your_slips", shownName()), both("kiosk.id_no_slips"), rows);
}

function showAppointments(box, appointments) {
  const rows = appointments.map((a) => {
    const li = make("li", "id-row");
    const svc = service(a.service) || {};
    const body = make("div", "id-row-body");
    const what = bilingual(make("p", "id-row-text"), a.service_name || svc.name || a.service || "",
      a.service_name_en || svc.name_en);
    body.append(what);
    li.append(body);
    if (a.code && a.used !== true) { // checked in with its code, as if scanned
      const go = bilingual(make("button", "primary id-row-button"), ...both("kiosk.id_check_in"));
      go.type = "button";
      go.addEventListener("click", () => issue({ channel: "appointment", code: a.code }, "code"));
      li.append(go);
    } else if (a.used === true) {
      li.append(bilingual(make("p", "id-row-done"), ...both("kiosk.appointment_already_checked_in")));
    }
    return li;
  });
  listBox(box, both("kiosk.id_your_appointments", shownName()), both("kiosk.id_no_appointments"), rows);
}

export function wireIdentity() {
  $("id-cancel").addEventListener("click", () => {
    dropIdentity();
    hideCardError();
  });
}
