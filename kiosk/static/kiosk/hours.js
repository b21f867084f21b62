/* Opening hours in the hall's time zone, on the hub's clock: whether an item takes tickets now
 * (from its schedule; the hub also knows holidays and has the last word), and its hours and
 * windows as text. */
import { hubNow } from "/shared/static/clock.js";
import { hallFormat } from "/shared/static/halltime.js";
import { N_, both, t, t2 } from "/shared/static/i18n.js";

const PARTS = hallFormat({ weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false },
  "en-GB");
const WEEKDAY = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

let nowCache = { at: 0, value: null };

/** The hub's clock moved (a snapshot): work the hall's weekday and time out again. */
export function forgetNow() {
  nowCache = { at: 0, value: null };
}

function hallNow() {
  if (nowCache.value && Date.now() - nowCache.at < 1000) return nowCache.value;
  const p = {};
  for (const part of PARTS.formatToParts(new Date(hubNow()))) p[part.type] = part.value;
  const hh = p.hour === "24" ? "00" : p.hour;
  nowCache = { at: Date.now(), value: { weekday: WEEKDAY[p.weekday] || 0, hm: `${hh}:${p.minute}` } };
  return nowCache.value;
}

// Inside its opening hours right now (the hub also knows holidays; it has the last word).
export function inHours(svc) {
  const h = svc.hours || {};
  if (!Array.isArray(h.periods)) return true;
  const now = hallNow();
  if (Array.isArray(h.weekdays) && !h.weekdays.includes(now.weekday)) return false;
  return h.periods.some(([a, b]) => now.hm >= a && now.hm < b);
}

/** When an item is open, in the hall's two languages: "周一至周五 09:00–12:00，13:30–17:00". */
export function hoursText(svc) {
  const h = svc.hours || {};
  const days = Array.isArray(h.weekdays) ? h.weekdays.slice().sort() : [];
  const run = days.every((d, i) => i === 0 || d === days[i - 1] + 1);
  const names = days.map((d) => both(WEEKDAYS[d]));
  const list = both("common.list_sep");
  const between = both("kiosk.period_sep");
  const say = (i) => {
    const dayText = !days.length ? ""
      : run && days.length > 2
        ? both("kiosk.weekdays_range", { first: names[0][i], last: names[names.length - 1][i] })[i]
        : names.map((n) => n[i]).join(list[i]);
    const periods = Array.isArray(h.periods) ? h.periods.map(([a, b]) => `${a}–${b}`).join(between[i]) : "";
    return [dayText, periods].filter(Boolean).join(" ");
  };
  return { zh: say(0) + (days.length ? t("kiosk.except_holidays") : ""), en: say(1) };
}

const WEEKDAYS = ["", N_("kiosk.weekday.1"), N_("kiosk.weekday.2"), N_("kiosk.weekday.3"),
  N_("kiosk.weekday.4"), N_("kiosk.weekday.5"), N_("kiosk.weekday.6"), N_("kiosk.weekday.7")];

export const windowsZh = (nos) => (nos && nos.length
  ? t("kiosk.windows_one", { nos: nos.join(t("common.list_sep")) }) : "");
export const windowsEn = (nos) => (nos && nos.length
  ? (nos.length > 1 ? t2("kiosk.windows_many", { nos: nos.join(t2("common.list_sep")) })
    : t2("kiosk.windows_one", { nos: nos.join(t2("common.list_sep")) })) : "");
