/* A ticket's phone link held to the kiosk's scanner (its printed QR, or the phone's page showing
 * it): the kiosk opens that ticket as the phone would - its number, item, status, the people
 * ahead and the wait, its windows and materials. The page reads the citizen view with the
 * link's capability (`GET /api/v1/citizen/<cap>`: the capability authorizes it, and the route
 * spends the kiosk address's rate like any phone's); a forged or expired link says so. */
import { $, bilingual, make } from "/shared/static/dom.js";
import { both, t, t2 } from "/shared/static/i18n.js";
import { windowsEn } from "./hours.js";
import { goHome, show } from "./screens.js";
import { state } from "./state.js";

const HOME_MS = 30000; // the screen goes home by itself, its ticket wiped
// `/t/<cap>` (a ticket) or `/s/<cap>` (a 承诺单) at the end of the link, whatever its host.
const LINK = /\/([ts])\/([A-Za-z0-9_-]{22})$/;
const FIELDS = ["number", "service", "status", "windows", "ahead", "wait", "materials"];
let asked = 0; // the newest scan's number: an older answer arriving late is dropped
let homeTimer = null;

/** {kind: "t"|"s", capability} of a phone link, or null for any other text. */
export function phoneLink(text) {
  const found = LINK.exec(text.split(/[?#]/)[0]);
  return found ? { kind: found[1], capability: found[2] } : null;
}

function clear() {
  for (const f of FIELDS) $(`phone-ticket-${f}`).replaceChildren();
  $("phone-ticket-error").replaceChildren();
}

function shown(part) {
  $("phone-ticket-found").hidden = part !== "found";
  $("phone-ticket-refused").hidden = part !== "refused";
  $("phone-ticket-error").hidden = part !== "error";
  show("phone-ticket");
  clearTimeout(homeTimer);
  homeTimer = setTimeout(() => {
    clear();
    if (state.screen === "phone-ticket") goHome();
  }, HOME_MS);
}

function windowName(no) {
  return [t("common.window", { no }), t2("common.window", { no })];
}

function render(view) {
  clear();
  $("phone-ticket-number").textContent = view.number || "—";
  bilingual($("phone-ticket-service"), view.service_name || view.service || "", view.service_name_en || "");
  const status = both(`citizen.status.${view.status}`);
  if (view.called && view.called.window) {
    const [zh, en] = windowName(view.called.window);
    status[0] += ` · ${t("citizen.go_to", { window: zh })}`;
    status[1] += ` · ${t2("citizen.go_to", { window: en })}`;
  }
  bilingual($("phone-ticket-status"), ...status);
  const nos = (view.windows || []).map((w) => w.no);
  $("phone-ticket-windows").hidden = !nos.length;
  bilingual($("phone-ticket-windows"), t("kiosk.go_to_windows", { windows: nos.join(t("common.list_sep")) }), windowsEn(nos));
  const waiting = view.status === "waiting";
  $("phone-ticket-ahead").hidden = !waiting;
  $("phone-ticket-wait").hidden = !waiting;
  if (waiting) {
    bilingual($("phone-ticket-ahead"), ...both("kiosk.ahead", { ahead: Number(view.people_ahead) || 0 }));
    const wait = Number(view.estimated_wait_minutes) || 0;
    if (wait === 0) bilingual($("phone-ticket-wait"), ...both("kiosk.you_will_called_shortly"));
    else bilingual($("phone-ticket-wait"), ...both("kiosk.about_min", { wait }));
  }
  const materials = view.materials || [];
  $("phone-ticket-materials-card").hidden = !materials.length;
  for (const m of materials) {
    const li = make("li");
    bilingual(li, m.text || "", m.text_en || "");
    $("phone-ticket-materials").append(li);
  }
  shown("found");
}

function failed(message) {
  clear();
  const [zh, en] = String(message || "").split(" / ");
  bilingual($("phone-ticket-error"), zh || "—", en || "");
  shown("error");
}

/** Open the ticket a scanned phone link's `capability` names. */
export async function openPhoneLink(capability) {
  const mine = ++asked;
  let answer = null;
  let body = {};
  try {
    answer = await fetch(`/api/v1/citizen/${encodeURIComponent(capability)}`, {
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
      headers: { Accept: "application/json" },
    });
    body = await answer.json().catch(() => ({}));
  } catch (e) {
    answer = null;
  }
  if (mine !== asked) return; // a newer scan took over
  if (answer && answer.ok) render(body);
  else if (answer && answer.status === 404) {
    clear();
    shown("refused");
  } else failed((body.error && body.error.message) || both("kiosk.reconnecting").join(" / "));
}

// Wired as the module loads (a module runs once the document is parsed): the scan path's own.
$("phone-ticket-done").addEventListener("click", () => {
  clearTimeout(homeTimer);
  clear();
  goHome();
});
