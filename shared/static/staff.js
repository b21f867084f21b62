/* The staff pages' one session (the clerk panel, 退件 approvals, and the office's monitor,
 * reports and hall-file pages): sign-in with POST /api/v1/login, the session kept in
 * sessionStorage (gone with the tab; the office's pages share one key), the API called with its
 * bearer token, the page's socket, and sign-out. However the session ends (signed out here or
 * elsewhere, expired, refused), the page returns to its sign-in form with the reason. */
import { $, en, say } from "./dom.js";
import { connect, refusal } from "./socket.js";
import { both, joined, spaced, t } from "./i18n.js";

const EXPIRED = t("staff.session_expired");
// The hub's refusals that ask for more than a password (hub/service/sessions.py).
const ASKS_OTP = new Set(["otp_required", "otp_invalid", "otp_replayed"]);

/**
 * fetch /api/v1`path` as JSON; `token` may be null (sign-in); `onUnauthorized(message)` on a 401.
 * A refusal is thrown as an Error with the hub's bilingual message (`err.status`, `err.data`).
 */
export async function api(method, path, body, token, onUnauthorized) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = r.status === 204 ? {} : await r.json().catch(() => ({}));
  if (!r.ok) {
    const msg = (data.error && data.error.message) || `HTTP ${r.status}`;
    if (r.status === 401 && path !== "/login" && onUnauthorized) onUnauthorized(msg);
    const err = new Error(msg);
    err.status = r.status;
    err.data = data;
    throw err;
  }
  return data;
}

/** A window as staff pick it: its number first (names repeat: two windows may both be
 * 不动产登记), then its name when it has one. */
export function windowLabel(w) {
  return w.name ? `${t("common.window", { no: w.no })} · ${w.name}` : t("common.window", { no: w.no });
}

/** The connection line of a page that has one (#conn): Chinese, then English. */
export function showConn(zh, english) {
  const line = $("conn");
  if (line) line.replaceChildren(zh, " ", en(english, ""));
}

function load(key) {
  try {
    const s = JSON.parse(sessionStorage.getItem(key) || "null");
    return s && typeof s.token === "string" ? s : null;
  } catch (e) {
    return null; // an older page's plain token, or garbage: sign in again
  }
}

/**
 * A page's staff session. `key`: where it is kept; `clerks`: the page is for clerks (who sign in
 * at a window: #window-select) rather than supervisors and admins; `wrongRole`: what to say to
 * the others; `parts`: ids of what the page shows only while signed in; `signedIn(session)`
 * starts the page, `signedOut(message)` (optional) tidies what else it shows.
 */
export class StaffSession {
  constructor({ key, clerks = false, wrongRole, parts, signedIn, signedOut }) {
    Object.assign(this, { key, clerks, wrongRole, parts, signedIn, signedOut });
    this.session = null; // {token, username, name, role, staff_no, window}
    this.socket = null;
    $("signin-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.signIn();
    });
    const button = $("signout");
    if (button) button.addEventListener("click", () => this.logout());
  }

  get token() {
    return this.session && this.session.token;
  }

  /** Start the page with the session kept from before, if there is one; true if there was. */
  resume() {
    this.session = load(this.key);
    if (this.session) this.start();
    return !!this.session;
  }

  /** The API with this session's token; a 401 signs the page out. */
  api(method, path, body) {
    return api(method, path, body, this.token, (msg) => this.signOut(`${EXPIRED} / ${msg}`));
  }

  async signIn() {
    say("error", "");
    const body = { username: $("username").value.trim(), password: $("password").value };
    const otp = $("otp") ? $("otp").value.trim() : "";
    if (otp) body.otp = otp;
    try {
      if (this.changingPassword()) {
        await this.changePassword(body);
        return;
      }
      if (this.clerks) body.window = Number($("window-select").value);
      const r = await this.api("POST", "/login", body);
      if ((r.role === "clerk") !== this.clerks) throw new Error(this.wrongRole);
      $("password").value = "";
      this.ask("otp-row", false);
      this.save(r);
      await this.start();
    } catch (err) {
      this.askFor(err);
      say("error", spaced("staff.sign_in_failed", { message: err.message }));
    }
  }

  /** Show what the hub asked for: the one-time code, or a new password for an expired one. */
  askFor(err) {
    const code = err.data && err.data.error && err.data.error.code;
    if (ASKS_OTP.has(code)) this.ask("otp-row", true);
    if (code === "password_expired") this.ask("new-password-row", true);
    if ($("otp")) $("otp").value = "";
  }

  ask(id, shown) {
    const row = $(id);
    if (!row) return;
    row.hidden = !shown;
    if (shown) row.querySelector("input").focus();
  }

  changingPassword() {
    const row = $("new-password-row");
    return !!row && !row.hidden;
  }

  /** POST /change-password with the old password (and code): then sign in with the new one. */
  async changePassword(body) {
    await this.api("POST", "/change-password", { ...body, new_password: $("new-password").value });
    $("password").value = "";
    $("new-password").value = "";
    this.ask("new-password-row", false);
    say("info", joined("staff.password_changed"));
  }

  /** Keep the session (POST /login's answer, or the session with a field changed). */
  save(r) {
    this.session = { token: r.token, username: r.username, name: r.name, role: r.role,
                     staff_no: r.staff_no, window: r.window };
    sessionStorage.setItem(this.key, JSON.stringify(this.session));
  }

  start() {
    say("info", "");
    $("signin").hidden = true;
    for (const id of this.parts) $(id).hidden = false;
    return this.signedIn(this.session);
  }

  /** The page's socket on `namespace`, signed in with the session: `on` as for connect(). */
  connect(namespace, on) {
    showConn(...both("staff.connecting"));
    this.socket = connect(namespace, { token: this.token }, {
      ...on,
      online: () => {
        showConn(...both("staff.online"));
        if (on.online) on.online();
      },
      offline: (reason) => {
        showConn(...both("staff.offline_reconnecting"));
        if (on.offline) on.offline(reason);
      },
      refused: (err) => this.signOut(`${t("staff.refused_sign_in_again")} / ${refusal(err)}`),
    });
    this.socket.on("signed_out", (d) => {
      const reason = d && d.reason;
      if (reason === "session_ended") this.signOut(joined("staff.signed_in_elsewhere_page"));
      else if (reason === "session_idle") this.signOut(joined("staff.session_idle"));
      else this.signOut(`${EXPIRED} / Session ended: sign in again`);
    });
    return this.socket;
  }

  /** Sign out at the hub (signed out here all the same if it cannot be told). */
  async logout() {
    try {
      await this.api("POST", "/logout");
    } catch (e) {
      /* signed out all the same */
    }
    this.signOut("");
    say("info", joined("staff.signed_out_2"));
  }

  /** Back to the sign-in form, with `message` (why) in the error box. */
  signOut(message) {
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
    this.session = null;
    sessionStorage.removeItem(this.key);
    for (const id of this.parts) $(id).hidden = true;
    $("signin").hidden = false;
    showConn(...both("staff.signed_out"));
    say("error", message);
    if (this.signedOut) this.signedOut(message);
  }
}
