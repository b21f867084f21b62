/* Shared by the call screens: the /display connection, the offline banner, the clock, the
 * notice line and the paint measurements. Plain JS, no build step, nothing from outside. */
"use strict";

(function () {
  const O = (window.Onestop = {});
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  O.catalogue = read("catalogue");
  O.config = read("config");
  O.token = new URLSearchParams(location.search).get("token") || "";

  O.el = (id) => document.getElementById(id);
  O.text = (id, value) => {
    const node = O.el(id);
    if (node.textContent !== value) node.textContent = value;
  };
  O.make = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // Hide the children of a clipped list that would show only in part (rows, cards).
  O.fitChildren = (node) => {
    const bottom = node.getBoundingClientRect().bottom + 1;
    for (const child of node.children) {
      child.hidden = false;
    }
    for (const child of node.children) {
      if (child.getBoundingClientRect().bottom > bottom) child.hidden = true;
    }
  };

  // Event times are ISO strings with microseconds; Date.parse wants at most milliseconds.
  O.parseAt = (iso) => Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));

  // The hub's time, as the snapshot gives it: a screen's Pi has no battery clock and may boot
  // before it can sync, and times shown or counted down must agree with the hub's events.
  O.skew = 0;
  O.now = () => Date.now() + O.skew;
  O.followHubClock = (snap) => {
    const hub = O.parseAt(snap && snap.now);
    if (!Number.isNaN(hub)) O.skew = hub - Date.now();
  };

  O.serviceName = (code) => (O.catalogue.services[code] || { name: code }).name;
  O.department = (code) =>
    O.catalogue.departments.find((d) => d.code === code) || { code, name: code, name_en: "" };

  // --- paint measurements: the event's `at` (hub clock) to the animation frame after the DOM
  // update (same machine clock in the benchmark). Bounded: the newest 1000 only.
  const PAINTS_KEPT = 1000;
  window.__paints = [];
  O.recordPaint = (ev, number) => {
    const at = O.parseAt(ev.at);
    const dom = Date.now();
    requestAnimationFrame(() => {
      const painted = Date.now();
      window.__paints.push({ seq: ev.seq, type: ev.type, number, at, dom, painted,
                             ms: painted - at });
      if (window.__paints.length > PAINTS_KEPT) window.__paints.splice(0, PAINTS_KEPT / 2);
    });
  };

  // --- clock in the hall's time zone ---------------------------------------------------------
  const tz = O.catalogue.center.timezone;
  const fmt = (opts) => {
    try {
      return new Intl.DateTimeFormat("zh-CN", { timeZone: tz, ...opts });
    } catch (e) {
      return new Intl.DateTimeFormat("zh-CN", opts);
    }
  };
  const timeFmt = fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const dateFmt = fmt({ year: "numeric", month: "long", day: "numeric", weekday: "long" });
  function tick() {
    const now = new Date(O.now());
    O.text("time", timeFmt.format(now));
    O.text("date", dateFmt.format(now));
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }

  // --- the scrolling notice line -------------------------------------------------------------
  O.setNotice = (center) => {
    const parts = [center.notice, center.notice_en].filter((s) => s && s.trim());
    const line = O.el("notice");
    const text = parts.join("　　");
    if (line.textContent === text) return;
    line.textContent = text;
    line.parentElement.parentElement.hidden = !text;
    // About 8 characters a second, whatever the length.
    line.style.animationDuration = `${Math.max(12, Math.round(text.length / 8 + 10))}s`;
  };

  // --- the connection ------------------------------------------------------------------------
  function banner(kind, zh, en) {
    const node = O.el("offline");
    node.hidden = !kind;
    if (!kind) return;
    node.className = `offline offline-${kind}`;
    node.replaceChildren(zh + " ", O.make("span", "", en));
    node.lastChild.lang = "en";
  }

  O.connect = (handlers) => {
    let lastSeq = -1;
    if (!O.token) {
      banner("error", "未配置屏幕令牌（地址中缺少 ?token=）", "No screen token in the address");
      return null;
    }
    const socket = io("/display", {
      auth: { token: O.token, room: O.config.room },
      transports: ["websocket"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      randomizationFactor: 0.3,
      timeout: 5000,
    });
    socket.on("connect", () => banner(null));
    socket.on("disconnect", (reason) => {
      banner("offline", "离线 · 正在重新连接", "Offline · reconnecting");
      // The hub ended this screen's session: the client does not retry by itself.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 3000);
    });
    socket.on("connect_error", (err) => {
      if (socket.active) {
        banner("offline", "离线 · 正在重新连接", "Offline · reconnecting");
      } else {
        // Refused by the hub (bad token, unknown window): say so, and try again now and then.
        const msg = (err && err.data && err.data.message) || String(err && err.message);
        banner("error", `离线 · 连接被拒绝：${msg}`, "Offline · refused by the hub");
        setTimeout(() => socket.connect(), 10000);
      }
    });
    socket.on("snapshot", (snap) => {
      lastSeq = snap.seq;
      O.followHubClock(snap);
      O.setNotice(snap.center);
      handlers.snapshot(snap);
    });
    socket.on("event", (ev) => {
      if (typeof ev.seq === "number" && ev.seq <= lastSeq) return; // already in the snapshot
      lastSeq = ev.seq;
      try {
        // The hall file changed (art. 6): the page carries the catalogue, so load it again —
        // after 0-3 s at random, so a hall of screens does not reach the hub all at once.
        if (ev.type === "config.reloaded") setTimeout(() => location.reload(), Math.random() * 3000);
        if (ev.type === "notice.set") O.setNotice({ notice: ev.data.text, notice_en: ev.data.text_en });
        handlers.event(ev);
      } catch (e) {
        console.error("event", ev, e);
      }
    });
    O.socket = socket;
    return socket;
  };

  tick();
})();
