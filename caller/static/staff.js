/* The staff pages' one way to call the hub's API (clerk panel, 退件 approvals, and the office's
 * monitor, reports and hall-file pages): the session's bearer token, JSON in and out, a hub
 * refusal thrown as an Error carrying the hub's bilingual message (`err.status`, `err.data`),
 * and an ended session (401) reported to the page so it can return to its sign-in form. */
"use strict";

window.OnestopStaff = {
  /** The hub's time (ms): the browser's clock corrected by the last snapshot's `now`, so a
   * running timer agrees with the hub's event times whatever the PC's clock says. */
  skew: 0,
  hubNow() {
    return Date.now() + this.skew;
  },
  followHubClock(snap) {
    const hub = Date.parse(String(snap && snap.now).replace(/(\.\d{3})\d+/, "$1"));
    if (!Number.isNaN(hub)) this.skew = hub - Date.now();
  },

  /** fetch /api/v1`path`; `token` may be null (sign-in); `onUnauthorized(message)` on a 401. */
  async api(method, path, body, token, onUnauthorized) {
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
  },

  /** A window as staff pick it: its number first (names repeat: two windows may both be
   * 不动产登记), then its name when it has one. */
  windowLabel(w) {
    return w.name ? `${w.no}号窗口 · ${w.name}` : `${w.no}号窗口`;
  },

  /** The signed-in staff member a page keeps in sessionStorage under `key`, one shape for
   * every page ({token, username, name, role}: the office's pages share their key), or null. */
  loadSession(key) {
    try {
      const s = JSON.parse(sessionStorage.getItem(key) || "null");
      return s && typeof s.token === "string" ? s : null;
    } catch (e) {
      return null; // an older page's plain token, or garbage: sign in again
    }
  },

  /** Keep POST /login's answer under `key`; returns what is kept. */
  saveSession(key, r) {
    const s = { token: r.token, username: r.username, name: r.name, role: r.role };
    sessionStorage.setItem(key, JSON.stringify(s));
    return s;
  },
};
