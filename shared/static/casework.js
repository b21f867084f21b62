/* The casework's words and rules as the office's pages and the clerk panel show them: a case's
 * kind, source, status and steps in the hall's two languages, its next deadline and whether it
 * is overdue by the hall's own date (the hub decides; this only draws what it decided), and
 * whether its clerk may still appeal it. Cases are those of GET /api/v1/cases (the contract in
 * docs/events.md: case.opened, case.stepped). */
import { hubNow, parseAt } from "./clock.js";
import { hallFormat } from "./halltime.js";
import { N_, spaced, t, t2 } from "./i18n.js";

export const KINDS = {
  rating: N_("casework.kind.rating"),
  complaint: N_("casework.kind.complaint"),
  spot_check: N_("casework.kind.spot_check"),
};
export const SOURCES = {
  keypad: N_("casework.source.keypad"),
  kiosk: N_("casework.source.kiosk"),
  phone: N_("casework.source.phone"),
  office: N_("casework.source.office"),
  spot_check: N_("casework.source.spot_check"),
};
export const CHANNELS = {
  phone: N_("casework.channel.phone"),
  box: N_("casework.channel.box"),
  letter: N_("casework.channel.letter"),
  visit: N_("casework.channel.visit"),
};
export const ACTIONS = {
  open: N_("casework.action.open"),
  opened: N_("casework.action.open"),
  callback: N_("casework.action.callback"),
  rectify: N_("casework.action.rectify"),
  rectified: N_("casework.action.rectified"),
  close: N_("casework.action.close"),
  appeal: N_("casework.action.appeal"),
  decide_appeal: N_("casework.action.decide_appeal"),
};
export const VERDICTS = {
  founded: N_("casework.verdict.founded"),
  unfounded: N_("casework.verdict.unfounded"),
};
// A step's fields, in the order the timeline shows them.
export const FIELDS = {
  result: N_("casework.field.result"),
  reached: N_("casework.field.reached"),
  cause: N_("casework.field.cause"),
  plan: N_("casework.field.plan"),
  fix: N_("casework.field.fix"),
  verdict: N_("casework.field.verdict"),
  reply: N_("casework.field.reply"),
  grounds: N_("casework.field.grounds"),
  upheld: N_("casework.field.upheld"),
  note: N_("casework.field.note"),
};

export const OPEN_STATUSES = ["pending", "called_back", "rectifying", "rectified", "appealing"];
export const ALL_STATUSES = [...OPEN_STATUSES, "closed", "appeal_upheld", "appeal_rejected"];
const FINAL = new Set(["closed", "appeal_upheld"]);

/** A word from one of the tables above in both languages ("回访 Callback"); the code itself
 * when the table lacks it (a newer hub's word). */
export function word(table, code) {
  return table[code] ? spaced(table[code]) : String(code || "—");
}

/** [Chinese, English] of a word, for bilingual(). */
export function words(table, code) {
  return table[code] ? [t(table[code]), t2(table[code])] : [String(code || "—"), ""];
}

/** A case status: the hub's own catalog keys (case_status.<value>). */
export const statusWords = (status) => [t(`case_status.${status}`), t2(`case_status.${status}`)];

const DAY = hallFormat({ year: "numeric", month: "2-digit", day: "2-digit" }, "en-CA");
const AT = hallFormat({ month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  hour12: false });

/** The hall's date today ("2026-12-04"), by the hub's clock in the hall's zone. */
export const hallToday = () => DAY.format(new Date(hubNow()));

/** An event time as the hall reads it ("12-04 10:31"). */
export function shortAt(iso) {
  const d = new Date(parseAt(iso));
  return Number.isNaN(d.getTime()) ? "" : AT.format(d);
}

/** The step a case waits for and its due day ({step, due}), or null once none is left with a
 * deadline (the hub's rule: callback until called back, then rectification until rectified;
 * an appeal does not stop the clock). */
export function nextDue(c) {
  if (FINAL.has(c.status)) return null;
  if (!c.called_back_at) return { step: "callback", due: c.callback_due };
  if (!c.rectified_at) return { step: "rectify", due: c.rectify_due };
  return null;
}

/** Whether a case is final (closed, or its appeal upheld). */
export const isFinal = (c) => FINAL.has(c.status);

/** Past its due day by the hall's date (the hub's `overdue` when the case came from it). */
export function isOverdue(c, today = hallToday()) {
  if (Array.isArray(c.overdue)) return c.overdue.length > 0; // the hub's: the steps overdue
  const next = nextDue(c);
  return !!(next && next.due && next.due < today);
}

/** Whether the clerk it names may still appeal it (the hub decides; this only offers the form). */
export function appealable(c) {
  return (c.kind === "rating" || c.kind === "complaint") && !c.appeal
    && !FINAL.has(c.status) && c.status !== "rectified" && c.status !== "appealing";
}

/** Text attachments from a textarea: one per paragraph (a blank line between two). */
export function attachments(text) {
  return String(text || "").split(/\n\s*\n/).map((s) => s.trim()).filter(Boolean).slice(0, 10);
}
