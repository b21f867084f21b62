/* A screen's or a kiosk's device token, kept in the page's own storage (localStorage), never in
 * its address: an address ends up in browser history, proxy logs and photos of the screen.
 *
 * A page without a token pairs itself (hub/service/pairing.py): it asks the hub for a request,
 * shows its short code full-screen, and polls with the request's secret (kept in this module's
 * memory only) until a supervisor approves the code on the office page; then it stores the
 * token it is handed and loads again. A token the hub refuses as unknown (revoked) is
 * forgotten, and the page pairs again. An old-style `?token=` address still works for one
 * release: the token moves into storage, out of the address bar, and a notice says so. */
import { make, en } from "./dom.js";
import { N_, both } from "./i18n.js";

const KEY = (kind) => `onestop.device-token.${kind}`;
const RETRY_MS = 5000; // the hub unreachable, or refusing more requests for now
let memory = {}; // where storage is off (a private window): the token lasts this load

function read(kind) {
  try {
    return window.localStorage.getItem(KEY(kind)) || memory[kind] || "";
  } catch {
    return memory[kind] || "";
  }
}

function store(kind, token) {
  memory = { ...memory, [kind]: token };
  try {
    window.localStorage.setItem(KEY(kind), token);
  } catch {
    // storage off: the token lasts this load only, and the page pairs again after it
  }
}

/** Forget this page's token (the hub refused it as unknown or revoked). */
export function forgetToken(kind) {
  delete memory[kind];
  try {
    window.localStorage.removeItem(KEY(kind));
  } catch {
    // nothing stored
  }
}

function notice(key) {
  const box = make("div", "device-notice");
  box.id = "device-notice";
  box.setAttribute("role", "status");
  const [zh, english] = both(key);
  box.append(zh, " ", en(english));
  document.body.append(box);
}

/** The page's device token ("" when it has none yet). A `?token=` in the address (deprecated)
 * is moved into storage and out of the address bar, with a notice on the page. */
export function deviceToken(kind) {
  const params = new URLSearchParams(window.location.search);
  const fromAddress = params.get("token");
  if (fromAddress) {
    params.delete("token");
    store(kind, fromAddress);
    const rest = params.toString();
    window.history.replaceState(window.history.state, "",
      window.location.pathname + (rest ? `?${rest}` : "") + window.location.hash);
    notice(N_("pairing.token_in_address"));
  }
  return read(kind);
}

/** Whether a refusal by the hub means the token itself is no good (unknown or revoked). */
export const tokenRefused = (data) => !!data && data.code === "unauthorized";

/** The token was refused: forget it and load again, to pair. */
export function pairAgain(kind) {
  forgetToken(kind);
  window.location.reload();
}

async function post(path, body) {
  const r = await fetch(`/api/v1/pairing${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  const data = await r.json().catch(() => ({}));
  return { status: r.status, data, retryAfter: Number(r.headers.get("Retry-After")) || 0 };
}

function panel() {
  const box = make("div", "pairing");
  box.id = "pairing";
  box.setAttribute("role", "dialog");
  const [title, titleEn] = both("pairing.title");
  const heading = make("h1", "pairing-title", title);
  heading.append(" ", en(titleEn));
  const code = make("p", "pairing-code", "········");
  code.id = "pairing-code";
  const [how, howEn] = both("pairing.how");
  const state = make("p", "pairing-state");
  state.id = "pairing-state";
  box.append(heading, code, make("p", "pairing-how", how), en(howEn, "pairing-how", "p"), state);
  document.body.append(box);
  return { code, state, box };
}

function show(node, key, params) {
  const [zh, english] = both(key, params);
  node.replaceChildren(zh, " ", en(english));
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Pair this page as a `kind` ("screen" or "kiosk"): show a code until a supervisor approves
 * it, then keep the token and load the page again. Never returns. */
export async function pair(kind) {
  const ui = panel();
  for (;;) {
    let asked;
    try {
      asked = await post("", { kind, page: window.location.pathname });
    } catch {
      show(ui.state, N_("pairing.unreachable"));
      await sleep(RETRY_MS);
      continue;
    }
    if (asked.status !== 201) {
      show(ui.state, asked.status === 429 ? N_("pairing.busy") : N_("pairing.unreachable"));
      await sleep(Math.max(RETRY_MS, asked.retryAfter * 1000));
      continue;
    }
    const { code, secret, poll_s: pollS } = asked.data;
    ui.code.textContent = `${code.slice(0, 4)}-${code.slice(4)}`;
    ui.code.dataset.code = code;
    show(ui.state, N_("pairing.waiting"));
    const token = await waitForApproval(secret, pollS, ui);
    if (token) {
      store(kind, token);
      show(ui.state, N_("pairing.paired"));
      window.location.reload();
      return;
    }
  }
}

/** Poll until approved (the token), or until the request is gone (""). */
async function waitForApproval(secret, pollS, ui) {
  for (;;) {
    await sleep(Math.max(1, pollS || 2) * 1000);
    let got;
    try {
      got = await post("/claim", { secret });
    } catch {
      show(ui.state, N_("pairing.unreachable"));
      continue;
    }
    if (got.status === 200 && got.data.status === "paired") return got.data.token;
    if (got.status === 200) show(ui.state, N_("pairing.waiting"));
    else if (got.status === 404) return ""; // expired: a new code
  }
}
