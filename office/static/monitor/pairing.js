/* Pairing screens and kiosks (hub/service/pairing.py): the supervisor types the code a device
 * shows, picks its role and names it (POST /pairing/approve); the waiting requests are listed
 * beside, with the address and page each came from. Requests are no events of the hall, so
 * this list alone is polled, every LIST_MS while someone is signed in. */
import { $, en, make, say } from "/shared/static/dom.js";
import { both, joined } from "/shared/static/i18n.js";

const LIST_MS = 5000;

function requestItem(req) {
  const item = make("li", req.approved ? "pair-approved" : "");
  item.dataset.code = req.code;
  const code = make("code", "", `${req.code.slice(0, 4)}-${req.code.slice(4)}`);
  const [kind, kindEn] = both(req.kind === "kiosk" ? "office.role_kiosk" : "office.role_screen");
  item.append(code, ` ${kind} `, en(kindEn), ` · ${req.page} · ${req.addr}`);
  if (req.approved) item.append(` · ${req.name} ✓`);
  return item;
}

async function refresh(staff) {
  if (!staff.token) return;
  try {
    const { requests } = await staff.api("GET", "/pairing/requests");
    $("pair-requests").replaceChildren(...requests.map(requestItem));
    $("pair-empty").hidden = requests.length > 0;
  } catch {
    // the monitor's own banner says when the hub is away; the next round tries again
  }
}

export function wirePairing(staff) {
  $("pair-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const code = $("pair-code").value.trim();
    const name = $("pair-name").value.trim();
    if (!code || !name) {
      say("error", joined("office.pair_code_and_name"));
      return;
    }
    try {
      const done = await staff.api("POST", "/pairing/approve", { code, role: $("pair-role").value, name });
      say("error", "");
      say("info", joined("office.paired", { name: done.name, addr: done.addr }));
      $("pair-code").value = "";
      $("pair-name").value = "";
    } catch (err) {
      say("error", err.message);
    }
    refresh(staff);
  });
  setInterval(() => refresh(staff), LIST_MS);
  refresh(staff);
}
