/* The ticket's phone page (/t/<capability>): one classic script in ES2017, for the old Android
 * browsers citizens carry (no modules, no `?.`, no `??`: eslint holds this file to ES2017).
 *
 * The citizen view comes from `GET /api/v1/citizen/<cap>` at start, then over the `/citizen`
 * Socket.IO namespace (`view` after every change to this ticket, `alert` when it is called,
 * `queue_moved` when its item's queue moved: the page reads its view again, a little later at
 * random so a hall of phones does not ask at once). Without sockets (no client, or it cannot
 * connect) the page reads the view every `poll_s` seconds. Texts come from the hub's catalogs
 * (the page's `strings`), as on every other page. */
(function () {
  "use strict";

  const JITTER_MS = 1500; // the spread of a hall of phones re-reading after a queue moved
  const LEVELS = [1, 2, 3, 4, 5]; // 非常满意 … 非常不满意 (rating.level.N)
  const REASON_FROM = 4; // 不满意 and 非常不满意 ask for a reason
  const STORE = "onestop.citizen."; // localStorage: the two toggles, and each ticket's checklist
  const STATUSES = { waiting: N_("citizen.status.waiting"), called: N_("citizen.status.called"),
    done: N_("citizen.status.done"), no_show: N_("citizen.status.no_show"),
    return_pending: N_("citizen.status.return_pending"),
    return_refused: N_("citizen.status.return_refused"), expired: N_("citizen.status.expired") };
  const CHANNELS = { keypad: N_("citizen.channel.keypad"), phone: N_("citizen.channel.phone"),
    kiosk: N_("citizen.channel.kiosk"), office: N_("citizen.channel.office") };
  const OPEN = { waiting: true, called: true }; // a ticket still in the queue

  function readJson(id) {
    const node = document.getElementById(id);
    try { return JSON.parse(node ? node.textContent : "{}") || {}; } catch (e) { return {}; }
  }
  const cfg = readJson("config");
  const texts = readJson("strings").texts || {};

  function N_(key) { return key; }
  function fill(text, params) {
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      (params && params[name] !== undefined && params[name] !== null ? String(params[name]) : whole));
  }
  function say(key, index, params) {
    const found = texts[key];
    if (!found) return key;
    return fill(found[index] !== undefined && found[index] !== null ? found[index] : found[0], params);
  }
  function t(key, params) { return say(key, 0, params); }
  function t2(key, params) { return say(key, 1, params); }

  const $ = (id) => document.getElementById(id);
  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach((k) => {
      if (k === "className") node.className = props[k];
      else if (k === "text") node.textContent = props[k];
      else node.setAttribute(k, props[k]);
    });
    (children || []).forEach((c) => node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  /** Chinese, then English in a span the language toggle shows. */
  function bi(zh, en) {
    const out = [el("span", { className: "zh", text: zh })];
    if (en) out.push(" ", el("span", { lang: "en", className: "en", text: en }));
    return out;
  }
  function both(key, params) { return [t(key, params), t2(key, params)]; }
  /** `node` says `pair` (both(...)): Chinese, then English. */
  function sayIn(node, pair) {
    clear(node);
    bi(pair[0], pair[1]).forEach((c) => node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
  }
  function stored(key) { try { return window.localStorage.getItem(STORE + key); } catch (e) { return null; } }
  function store(key, value) { try { window.localStorage.setItem(STORE + key, value); } catch (e) { /* private mode */ } }

  const state = { view: null, offsetMs: 0, alerted: null, socket: null, connected: false,
    pollTimer: null, level: null, reason: null, gone: false, sending: false };
  window.citizen = { state: state, refresh: refresh };

  // --- the two toggles ------------------------------------------------------------------
  function setElderly(on) {
    document.body.classList.toggle("elderly", on);
    $("toggle-elderly").setAttribute("aria-pressed", String(on));
    store("elderly", on ? "1" : "");
  }
  function setEnglish(on) {
    document.body.classList.toggle("bilingual", on);
    const b = $("toggle-lang");
    b.setAttribute("aria-pressed", String(on));
    store("english", on ? "1" : "");
  }

  // --- sound and vibration ----------------------------------------------------------------
  // A phone plays sound only after a tap on the page: the first tap anywhere (or the button)
  // makes the audio context, so a call later can beep. The tone is made here (no file).
  let audio = null;
  function unlockAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!audio) {
      try { audio = new Ctx(); } catch (e) { audio = null; return; }
    }
    if (audio.state === "suspended" && audio.resume) audio.resume();
  }
  function beep() {
    if (!audio) return;
    const t0 = audio.currentTime + 0.05;
    [0, 0.35, 0.7, 1.4, 1.75, 2.1].forEach((at, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = i % 3 === 2 ? 1175 : 880;
      gain.gain.setValueAtTime(0.0001, t0 + at);
      gain.gain.exponentialRampToValueAtTime(0.6, t0 + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.3);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + 0.32);
    });
    state.beeps = (state.beeps || 0) + 1;
  }
  function vibrate() {
    if (navigator.vibrate) {
      try { navigator.vibrate([400, 200, 400, 200, 600]); } catch (e) { /* not allowed */ }
    }
  }
  function enableAlerts() {
    unlockAudio();
    const b = $("enable-alerts");
    b.setAttribute("aria-pressed", "true");
    sayIn(b, both("citizen.alerts_on"));
    beep(); // the citizen hears what a call will sound like
  }

  // --- the view -------------------------------------------------------------------------
  function minutesSince(iso) {
    const at = Date.parse(iso);
    if (isNaN(at)) return null;
    return Math.max(0, Math.floor((Date.now() + state.offsetMs - at) / 60000));
  }
  function windowOf(view, no) {
    return (view.windows || []).filter((w) => w.no === no)[0] || null;
  }
  function windowName(no) { return { zh: t("common.window", { no: no }), en: t2("common.window", { no: no }) }; }

  function render(view) {
    const before = state.view;
    state.view = view;
    if (view.now) state.offsetMs = Date.parse(view.now) - Date.now() || 0;
    $("number").textContent = view.number || "";
    renderPerson(view);
    $("service-name").textContent = view.service_name || view.service || "";
    $("service-name-en").textContent = view.service_name_en || "";
    renderStatus(view);
    renderWaiting(view);
    renderCalled(view);
    renderNotice(before, view);
    renderWindows(view);
    renderMaterials(view);
    renderSlip(view);
    $("alerts-setup").hidden = !OPEN[view.status];
    renderRating(view);
    renderCategories(view);
    maybeAlert(before, view);
  }

  /** 无声叫号: the masked name (张*) when the hub sends one (the hall's silent calling), and a
   * quiet 适老 mark on an elderly citizen's ticket. The hub never sends more of the person. */
  function renderPerson(view) {
    const called = view.called || {};
    const named = called.masked_name || view.masked_name;
    const name = typeof named === "string" ? named : "";
    const elderly = view.elderly === true || view.channel === "elderly";
    $("masked-name").textContent = name;
    $("masked-name").hidden = !name;
    $("elderly-mark").hidden = !elderly;
    $("person").hidden = !name && !elderly;
  }
  function renderStatus(view) {
    const node = $("status");
    node.className = "status " + (view.status || "");
    const key = STATUSES[view.status] || STATUSES.waiting;
    sayIn(node, [t(key), t2(key)]);
  }
  function renderWaiting(view) {
    const waiting = view.status === "waiting";
    $("waiting").hidden = !waiting;
    if (!waiting) return;
    sayIn($("ahead"), both("citizen.people", { n: view.people_ahead }));
    const wait = view.estimated_wait_minutes;
    if (wait === null || wait === undefined) sayIn($("wait"), both("citizen.wait_unknown"));
    else if (wait === 0) sayIn($("wait"), both("citizen.wait_soon"));
    else sayIn($("wait"), both("citizen.minutes", { n: wait }));
  }
  function renderCalled(view) {
    const c = view.status === "called" ? view.called : null;
    $("called").hidden = !c;
    const rules = view.no_show;
    $("rules").hidden = !(rules && (view.status === "called" || view.status === "waiting"));
    if (rules) sayIn($("rules"), both("citizen.rules", { recall_limit: rules.recall_limit, requeue_behind: rules.requeue_behind }));
    if (!c) return;
    const w = windowOf(view, c.window);
    const name = windowName(c.window);
    const where = $("called-window");
    clear(where);
    bi(t("citizen.go_to", { window: name.zh }), t2("citizen.go_to", { window: name.en }))
      .forEach((x) => where.appendChild(typeof x === "string" ? document.createTextNode(x) : x));
    const loc = $("called-location");
    loc.textContent = w && w.location ? w.location : "";
    loc.hidden = !(w && w.location);
    const ago = minutesSince(c.at);
    sayIn($("called-time"), ago ? both("citizen.called_ago", { n: ago }) : both("citizen.called_now"));
    $("recalls").hidden = !c.recalls;
    if (c.recalls) sayIn($("recalls"), both("citizen.recalled", { n: c.recalls, limit: rules ? rules.recall_limit : "" }));
  }
  function windowNos(view) {
    return (view.windows || []).map((w) => w.no).join(",");
  }
  /** What just happened that the status alone does not say: a no-show sent back to wait, a
   * transfer to another item or to another window (its windows are then that one). */
  function renderNotice(before, view) {
    const node = $("notice");
    if (!before) return;
    if (before.status === "called" && view.status === "waiting") {
      node.hidden = false;
      const to = view.windows && view.windows.length === 1 ? view.windows[0] : null;
      if (before.service !== view.service) sayIn(node, both("citizen.transferred", { service: view.service_name || view.service }));
      else if (to && windowNos(before) !== windowNos(view)) {
        const name = to.name || t("common.window", { no: to.no });
        sayIn(node, [t("citizen.transferred", { service: name }), t2("citizen.transferred", { service: t2("common.window", { no: to.no }) })]);
      } else sayIn(node, both("citizen.requeued", { behind: view.no_show ? view.no_show.requeue_behind : "" }));
    } else if (view.status !== "waiting") {
      node.hidden = true;
    }
  }
  function renderWindows(view) {
    const list = $("window-list");
    clear(list);
    (view.windows || []).forEach((w) => {
      const name = w.name || t("common.window", { no: w.no });
      const li = el("li", {}, [el("span", { className: "no", text: name })]);
      if (w.location) li.appendChild(el("span", { className: "where", text: w.location }));
      list.appendChild(li);
    });
    $("windows").hidden = !(OPEN[view.status] && view.windows && view.windows.length);
  }

  // The checklist: ticks kept on this phone per ticket (the capability names the ticket).
  function ticks() {
    try { return JSON.parse(stored("materials." + cfg.capability) || "[]"); } catch (e) { return []; }
  }
  function renderMaterials(view) {
    const items = view.materials || [];
    $("materials").hidden = !(OPEN[view.status] && items.length);
    const list = $("material-list");
    const key = JSON.stringify(items);
    if (list.getAttribute("data-key") !== key) {
      list.setAttribute("data-key", key);
      clear(list);
      const done = ticks();
      items.forEach((m, i) => {
        const box = el("input", { type: "checkbox", id: "material-" + i });
        box.checked = done.indexOf(i) >= 0;
        box.addEventListener("change", tick);
        const text = el("span", {}, bi(m.text, m.text_en));
        list.appendChild(el("li", {}, [el("label", { for: "material-" + i }, [box, text])]));
      });
    }
    countMaterials();
  }
  function tick() {
    const done = [];
    document.querySelectorAll("#material-list input").forEach((b, i) => { if (b.checked) done.push(i); });
    store("materials." + cfg.capability, JSON.stringify(done));
    countMaterials();
  }
  function countMaterials() {
    const boxes = document.querySelectorAll("#material-list input");
    let done = 0;
    boxes.forEach((b) => { if (b.checked) done += 1; });
    sayIn($("materials-count"), both("citizen.materials_count", { done: done, total: boxes.length }));
  }

  /** A 承诺件: the slip's own page, where its progress is followed. */
  function renderSlip(view) {
    const slip = view.slip;
    $("slip").hidden = !slip;
    if (!slip) return;
    $("slip-number").textContent = slip.number;
    $("slip-link").hidden = !slip.link;
    if (slip.link) $("slip-link").setAttribute("href", slip.link);
    else if (state.slipAsked !== slip.number) {
      state.slipAsked = slip.number; // a pushed view carries no link: the GET does, once
      refresh();
    }
  }

  // --- 好差评 ----------------------------------------------------------------------------
  function renderRating(view) {
    const r = view.rating;
    const rated = r && r.status === "rated";
    $("rated").hidden = !rated;
    $("rate").hidden = rated || !view.can_rate;
    if (rated) {
      const level = { zh: t("rating.level." + r.level), en: t2("rating.level." + r.level) };
      const channel = CHANNELS[r.channel] || "citizen.channel.keypad";
      const node = $("rated-text");
      clear(node);
      bi(t("citizen.rated_as", { level: level.zh, channel: t(channel) }),
        t2("citizen.rated_as", { level: level.en, channel: t2(channel) }))
        .forEach((x) => node.appendChild(typeof x === "string" ? document.createTextNode(x) : x));
      node.setAttribute("data-channel", r.channel || "");
      node.setAttribute("data-level", String(r.level));
      return;
    }
    if (!view.can_rate) return;
    const levels = $("level-list");
    if (!levels.firstChild) {
      LEVELS.forEach((n) => {
        const b = el("button", { type: "button", "data-level": String(n), "aria-pressed": "false" },
          bi(t("rating.level." + n), t2("rating.level." + n)));
        b.addEventListener("click", () => chooseLevel(n));
        levels.appendChild(b);
      });
    }
    const reasons = $("reason-list");
    const key = JSON.stringify(view.reasons || []);
    if (reasons.getAttribute("data-key") !== key) {
      reasons.setAttribute("data-key", key);
      clear(reasons);
      (view.reasons || []).forEach((text) => {
        const b = el("button", { type: "button", "data-reason": text, "aria-pressed": "false", text: text });
        b.addEventListener("click", () => chooseReason(text));
        reasons.appendChild(b);
      });
    }
  }
  function pressOne(list, attr, value) {
    list.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.getAttribute(attr) === value)));
  }
  function chooseLevel(n) {
    state.level = n;
    pressOne($("level-list"), "data-level", String(n));
    $("reasons").hidden = n < REASON_FROM;
    if (n < REASON_FROM) state.reason = null;
    $("rate-error").hidden = true;
  }
  function chooseReason(text) {
    state.reason = text;
    pressOne($("reason-list"), "data-reason", text);
    $("rate-error").hidden = true;
  }
  function showError(node, pair, message) {
    node.hidden = false;
    if (message) node.textContent = message;
    else sayIn(node, pair);
  }
  function submitRating(e) {
    e.preventDefault();
    if (state.sending) return;
    if (!state.level) return showError($("rate-error"), both("citizen.rate_need_level"));
    if (state.level >= REASON_FROM && !state.reason) return showError($("rate-error"), both("citizen.rate_need_reason"));
    const body = { level: state.level };
    if (state.reason) body.reason = state.reason;
    post("/rating", body, $("rate-error"), () => refresh());
  }

  // --- complaint --------------------------------------------------------------------------
  function renderCategories(view) {
    const select = $("complaint-category");
    const cats = view.complaint_categories || [];
    const key = JSON.stringify(cats);
    if (select.getAttribute("data-key") === key) return;
    select.setAttribute("data-key", key);
    clear(select);
    cats.forEach((c) => {
      const code = typeof c === "string" ? c : c.code;
      const name = typeof c === "string" ? c : (c.name + (c.name_en ? " / " + c.name_en : ""));
      select.appendChild(el("option", { value: code, text: name }));
    });
  }
  function openComplaint() {
    const form = $("complaint-form");
    form.hidden = !form.hidden;
    $("complaint-open").setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) $("complaint-category").focus();
  }
  function submitComplaint(e) {
    e.preventDefault();
    if (state.sending) return;
    const text = $("complaint-text").value.trim();
    if (!text) return showError($("complaint-error"), both("citizen.complaint_need_text"));
    const body = { category: $("complaint-category").value, text: text };
    const phone = $("complaint-phone").value.trim();
    if (phone) body.phone = phone;
    post("/complaint", body, $("complaint-error"), (answer) => {
      $("complaint-form").hidden = true;
      $("complaint-open").hidden = true;
      const done = $("complaint-done");
      done.hidden = false;
      sayIn(done, both("citizen.complaint_done", { id: answer && answer.id !== undefined ? answer.id : "" }));
    });
  }

  function post(path, body, errorBox, ok) {
    state.sending = true;
    errorBox.hidden = true;
    fetch(cfg.api + path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), credentials: "same-origin", cache: "no-store" })
      .then((r) => r.json().catch(() => ({})).then((answer) => ({ r: r, answer: answer })))
      .then((x) => {
        state.sending = false;
        if (x.r.status === 404) return gone();
        if (!x.r.ok) {
          const err = x.answer && x.answer.error;
          return showError(errorBox, both("citizen.failed"), err && err.message);
        }
        ok(x.answer);
      })
      .catch(() => { state.sending = false; showError(errorBox, both("citizen.failed")); });
  }

  // --- the call alert ---------------------------------------------------------------------
  function alertKey(view) {
    const c = view.called;
    return c ? [c.window, c.at, c.recalls || 0].join("|") : null;
  }
  /** A call (or a recall) this page has not shown yet: the full-screen alert, a tone and a
   * buzz. From the view, so a page reading it every 30 s alerts too. */
  function maybeAlert(before, view) {
    if (view.status !== "called" || !view.called) return;
    const key = alertKey(view);
    if (key === state.alerted) return;
    const fresh = minutesSince(view.called.at);
    state.alerted = key;
    // A page opened long after its call (or reloaded) shows the call, not a new alarm.
    if (!before && fresh !== null && fresh >= 5) return;
    showAlert(view.called.window, view.called.recalls ? "recalled" : "called");
  }
  function showAlert(no, kind) {
    const view = state.view || {};
    const name = windowName(no);
    const w = windowOf(view, no);
    sayIn($("alert-kind"), kind === "recalled" ? both("citizen.alert_recalled") : both("citizen.alert_called"));
    $("alert-title").textContent = t("citizen.go_to", { window: name.zh });
    $("alert-title-en").textContent = t2("citizen.go_to", { window: name.en });
    const text = $("alert-text");
    sayIn(text, both("citizen.alert_text", { number: view.number || "" }));
    const named = (view.called || {}).masked_name; // 无声叫号: whose number it is
    if (named) text.insertBefore(el("span", { className: "alert-name", text: named + " " }), text.firstChild);
    if (w && w.location) text.appendChild(el("span", { className: "where", text: " · " + w.location }));
    $("alert").hidden = false;
    $("alert").setAttribute("data-window", String(no));
    $("alert-ok").focus();
    beep();
    vibrate();
  }
  /** The hub's `alert`: the view that says which call it is follows (or is read now); the
   * alert is shown once per call or recall, from the view, however the news came. */
  function onAlertEvent() {
    refresh();
  }

  // --- connection -----------------------------------------------------------------------
  function setLive(polling) {
    const node = $("live");
    node.className = "live" + (polling ? " offline" : "");
    if (polling) sayIn(node, both("citizen.polling", { s: cfg.poll_s }));
    else sayIn(node, both("citizen.live"));
  }
  function gone() {
    state.gone = true;
    $("main").hidden = true;
    $("alert").hidden = true;
    $("gone").hidden = false;
    $("live").hidden = true;
    if (state.socket) state.socket.close();
    stopPolling();
  }
  function refresh() {
    if (state.gone) return Promise.resolve();
    return fetch(cfg.api, { cache: "no-store", credentials: "same-origin" })
      .then((r) => {
        if (r.status === 404) return gone();
        if (!r.ok) return null; // busy (429) or a hiccup: the next read will do
        return r.json().then(render);
      })
      .catch(() => null);
  }
  function startPolling() {
    if (state.pollTimer || state.gone) return;
    setLive(true);
    state.pollTimer = setInterval(refresh, cfg.poll_s * 1000);
  }
  function stopPolling() {
    if (state.pollTimer) clearInterval(state.pollTimer);
    state.pollTimer = null;
  }
  function connect() {
    if (typeof window.io !== "function") return; // no client: polling only
    const socket = window.io(cfg.namespace, { path: cfg.socket_path, auth: { capability: cfg.capability },
      reconnectionDelay: 1000, reconnectionDelayMax: 10000, randomizationFactor: 0.5, timeout: 8000 });
    state.socket = socket;
    socket.on("connect", () => {
      state.connected = true;
      stopPolling();
      setLive(false);
    });
    socket.on("disconnect", () => {
      state.connected = false;
      startPolling();
    });
    socket.on("connect_error", () => {
      state.connected = false;
      startPolling();
      if (!socket.active) refresh(); // refused: the capability may have expired
    });
    socket.on("view", (view) => { if (view) render(view); });
    socket.on("alert", onAlertEvent);
    socket.on("queue_moved", () => { setTimeout(refresh, Math.random() * JITTER_MS); });
  }

  function start() {
    setElderly(stored("elderly") === "1");
    setEnglish(stored("english") === "1");
    $("toggle-elderly").addEventListener("click", () => setElderly(!document.body.classList.contains("elderly")));
    $("toggle-lang").addEventListener("click", () => setEnglish(!document.body.classList.contains("bilingual")));
    $("enable-alerts").addEventListener("click", enableAlerts);
    $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
    $("rate-form").addEventListener("submit", submitRating);
    $("complaint-open").addEventListener("click", openComplaint);
    $("complaint-form").addEventListener("submit", submitComplaint);
    document.addEventListener("click", unlockAudio, true);
    document.addEventListener("touchend", unlockAudio, true);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    startPolling(); // until the socket says it is connected
    refresh();
    connect();
  }
  start();
}());
