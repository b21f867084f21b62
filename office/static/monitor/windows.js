/* The live monitor's windows: a card each (status, clerk, the ticket being served and for how
 * long, the waiting count for its items, its devices), and the header clock. */
import { department, serviceName } from "/shared/static/catalogue.js";
import { hubNow, parseAt } from "/shared/static/clock.js";
import { $, bilingual, make } from "/shared/static/dom.js";
import { hallFormat } from "/shared/static/halltime.js";
import { windowLabel } from "/shared/static/staff.js";
import { st } from "./state.js";
import { both, spaced, t } from "/shared/static/i18n.js";

const STATUS = {
  open: both("office.in_service"), paused: both("office.paused"), closed: both("office.closed"),
};
const DEVICE_STATUS = { online: spaced("office.online"), offline: spaced("office.offline"), error: spaced("office.error") };
const HHMMSS = hallFormat({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

const two = (n) => String(n).padStart(2, "0");
const mmss = (ms) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${two(Math.floor(s / 60))}:${two(s % 60)}`;
};

function waitingFor(services) {
  return services.reduce((n, code) => n + (st.waiting[code] || 0), 0);
}

function devicesOf(w) {
  const dots = make("span", "devices");
  dots.setAttribute("role", "group");
  dots.setAttribute("aria-label", `${windowLabel(w)} ${spaced("office.devices")}`);
  for (const dev of st.devices.values()) {
    // a slip printer serves every window in `windows` (its `window` is the first)
    if (dev.window !== w.no && !(dev.windows || []).includes(w.no)) continue;
    const unbound = st.unboundAgents.has(dev.agent);
    const dot = make("span", `dot dot-${dev.status}${unbound ? " dot-unbound" : ""}`);
    const label = `${dev.kind} ${dev.device}: ${DEVICE_STATUS[dev.status] || dev.status}`;
    const said = dev.detail ? `${label} (${dev.detail})` : label;
    dot.title = unbound ? `${said}; ${spaced("office.agent_unbound", { agent: dev.agent })}` : said;
    dot.setAttribute("role", "img");
    dot.setAttribute("aria-label", dot.title);
    dots.append(dot);
  }
  if (!dots.children.length) dots.append(make("span", "no-devices", spaced("office.no_devices")));
  return dots;
}

function windowCard(w) {
  const li = make("li", `window status-${w.status}`);
  li.dataset.no = String(w.no);
  const head = make("div", "window-head");
  head.append(make("h3", "window-name", windowLabel(w)),
    make("span", "dept", department(w.department).name));
  const [zh, en] = STATUS[w.status] || [w.status, ""];
  const badge = bilingual(make("p", `badge badge-${w.status}`), zh, en);
  if (w.status === "paused" && w.pause_reason) badge.append(`（${w.pause_reason}）`);
  const clerk = make("p", "clerk",
    w.clerk ? t("office.clerk_line", { name: w.clerk.name, staff_no: w.clerk.staff_no }) : spaced("office.no_clerk"));
  const current = make("div", "current");
  if (w.current) {
    const since = make("span", "serving-for", "");
    since.dataset.since = w.current.called_at || "";
    current.append(make("span", "number", w.current.number),
      make("span", "service", serviceName(w.current.service)), since);
  } else {
    current.append(make("span", "idle", spaced("office.idle")));
  }
  const foot = make("div", "window-foot");
  const waiting = make("p", "waiting", t("office.waiting_n", { n: waitingFor(w.services) }));
  waiting.append(bilingual(make("span", ""), "", "waiting"));
  foot.append(waiting, devicesOf(w));
  li.append(head, badge, clerk, current, foot);
  return li;
}

export function renderWindows() {
  $("windows").replaceChildren(...[...st.windows.values()].map(windowCard));
  tick();
}

/** The clock and the "served for" timers: the only things that change without an event. */
export function tick() {
  $("clock").textContent = HHMMSS.format(new Date(hubNow()));
  for (const span of document.querySelectorAll(".serving-for")) {
    const since = parseAt(span.dataset.since);
    span.textContent = Number.isNaN(since) ? "" : t("office.serving_for", { time: mmss(hubNow() - since) });
  }
}
