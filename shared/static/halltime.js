/* Times in the hall's own time zone (the catalogue's `center.timezone`), whatever zone the
 * machine showing the page is set to, and the clock in a page's header. */
import { catalogue } from "./catalogue.js";
import { hubNow } from "./clock.js";
import { $ } from "./dom.js";

/** An Intl.DateTimeFormat in the hall's zone (the machine's own if the browser lacks it). */
export function hallFormat(opts, locale = "zh-CN") {
  try {
    return new Intl.DateTimeFormat(locale, { timeZone: catalogue.center.timezone, ...opts });
  } catch (e) {
    return new Intl.DateTimeFormat(locale, opts);
  }
}

const DATE = hallFormat({ year: "numeric", month: "long", day: "numeric", weekday: "long" });

/** Keep #time (in the format `timeFormat`) and #date on the hub's time, just after each second
 * turns; `changed()` runs whenever the time shown changes. */
export function runClock(timeFormat, changed) {
  const tick = () => {
    const now = new Date(hubNow());
    const time = timeFormat.format(now);
    if ($("time").textContent !== time) {
      $("time").textContent = time;
      $("date").textContent = DATE.format(now);
      if (changed) changed();
    }
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  };
  tick();
}
