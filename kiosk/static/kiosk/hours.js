/* Opening hours in the hall's time zone, on the hub's clock: whether an item takes tickets now
 * (from its schedule; the hub also knows holidays and has the last word), and its hours and
 * windows as text. */
import { hubNow } from "/shared/static/clock.js";
import { hallFormat } from "/shared/static/halltime.js";

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

export function hoursText(svc) {
  const h = svc.hours || {};
  const periods = Array.isArray(h.periods) ? h.periods.map(([a, b]) => `${a}–${b}`).join("，") : "";
  const names = ["", "一", "二", "三", "四", "五", "六", "日"];
  const days = Array.isArray(h.weekdays) ? h.weekdays.slice().sort() : [];
  let dayText = "";
  if (days.length) {
    const run = days.every((d, i) => i === 0 || d === days[i - 1] + 1);
    dayText = run && days.length > 2 ? `周${names[days[0]]}至周${names[days[days.length - 1]]}`
      : days.map((d) => `周${names[d]}`).join("、");
  }
  const namesEn = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  let dayEn = "";
  if (days.length) {
    const run = days.every((d, i) => i === 0 || d === days[i - 1] + 1);
    dayEn = run && days.length > 2 ? `${namesEn[days[0]]}–${namesEn[days[days.length - 1]]}`
      : days.map((d) => namesEn[d]).join(", ");
  }
  return { zh: [dayText, periods].filter(Boolean).join(" ") + (days.length ? "（法定节假日除外）" : ""),
    en: [dayEn, periods.replace(/，/g, ", ")].filter(Boolean).join(" ") };
}

export const windowsZh = (nos) => (nos && nos.length ? `${nos.join("、")} 号窗口` : "");
export const windowsEn = (nos) => (nos && nos.length ? `Window${nos.length > 1 ? "s" : ""} ${nos.join(", ")}` : "");
