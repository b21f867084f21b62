/* The ticket kiosk (取号机): one page, six screens shown one at a time — home (items as tiles
 * with live waiting counts), an item (six disclosures, materials, 取号), the ticket, the green
 * channel / appointment code, commitment-slip lookup and the complaint form — over the /kiosk
 * Socket.IO namespace with the kiosk's token from the address. Idle for a while: back home with
 * nothing personal left. Plain JS, no build step, nothing from outside. */
"use strict";

(function () {
  const C = JSON.parse(document.getElementById("catalogue").textContent);
  const SOCKET_PATH = JSON.parse(document.getElementById("socket-path").textContent) || "/socket.io";
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  const IDLE_MS = Math.max(10, Number(C.idle_seconds) || 60) * 1000;
  const TICKET_HOME_MS = 30000; // the ticket screen goes home by itself
  const ACK_MS = 8000; // issue_ticket: re-sent once (same request_id) after this
  const PRINT_MS = 10000; // no `printed` after a queued print: say it failed
  const SLIP_PREFIX = C.slip_prefix || "CN";
  const SERVICES = C.services || [];
  const BY_CODE = new Map(SERVICES.map((s) => [s.code, s]));

  const $ = (id) => document.getElementById(id);
  const make = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };
  const en = (text, cls) => {
    const node = make("span", cls === undefined ? "en" : cls, text);
    node.lang = "en";
    return node;
  };
  // Chinese, then English (if there is any) in a span of its own.
  const bi = (node, zh, english) => {
    node.replaceChildren(zh || "");
    if (english) node.append(" ", en(english));
    return node;
  };

  const state = {
    countsSeq: null, // seq of the waiting counts shown (see applyCounts)
    screen: "home",
    connected: false,
    refused: null, // {code, message} while the hub refuses this kiosk's token
    kiosk: { name: "", printer: null },
    center: { ...C.center },
    waiting: {},
    closed: {},
    openWindows: {},
    item: null, // code of the item on the item screen
    elderly: false,
    english: false,
    printMaterials: true,
    issuing: false,
    codeMode: null, // "green" | "appointment" on the code screen
    choosing: null, // {channel, code} after choose_service: pick the item on the home tiles
    ticket: null, // the ticket on the ticket screen
    ticketMaterials: false, // whether its print carried the materials list (a reprint does too)
    print: null, // "printing" | "printed" | "failed"
    lastTouch: Date.now(),
  };
  let socket = null;
  let printTimer = null;
  const earlyPrints = new Map(); // ticket id -> a `printed` that came before the ticket
  let ticketTimer = null;

  // --- clock and opening hours in the hall's time zone -------------------------------------------
  const fmt = (opts) => {
    try {
      return new Intl.DateTimeFormat("zh-CN", { timeZone: C.center.timezone, ...opts });
    } catch (e) {
      return new Intl.DateTimeFormat("zh-CN", opts);
    }
  };
  const timeFmt = fmt({ hour: "2-digit", minute: "2-digit", hour12: false });
  const dateFmt = fmt({ year: "numeric", month: "long", day: "numeric", weekday: "long" });
  let partsFmt = null;
  try {
    partsFmt = new Intl.DateTimeFormat("en-GB", {
      timeZone: C.center.timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false,
    });
  } catch (e) {
    partsFmt = new Intl.DateTimeFormat("en-GB", { weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false });
  }
  const WEEKDAY = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

  // The hub's time: the kiosk Pi has no battery clock and may boot before it can sync; opening
  // hours and the clock shown follow the hub (the snapshot's `now`), not the Pi's clock.
  let skew = 0;
  const hubDate = () => new Date(Date.now() + skew);
  function followHubClock(snap) {
    const hub = Date.parse(String(snap.now).replace(/(\.\d{3})\d+/, "$1"));
    if (!Number.isNaN(hub)) skew = hub - Date.now();
  }

  let nowCache = { at: 0, value: null };
  function hallNow() {
    if (nowCache.value && Date.now() - nowCache.at < 1000) return nowCache.value;
    const p = {};
    for (const part of partsFmt.formatToParts(hubDate())) p[part.type] = part.value;
    const hh = p.hour === "24" ? "00" : p.hour;
    nowCache = { at: Date.now(), value: { weekday: WEEKDAY[p.weekday] || 0, hm: `${hh}:${p.minute}` } };
    return nowCache.value;
  }

  // Inside its opening hours right now (the hub also knows holidays; it has the last word).
  function inHours(svc) {
    const h = svc.hours || {};
    if (!Array.isArray(h.periods)) return true;
    const now = hallNow();
    if (Array.isArray(h.weekdays) && !h.weekdays.includes(now.weekday)) return false;
    return h.periods.some(([a, b]) => now.hm >= a && now.hm < b);
  }

  function tickClock() {
    const now = hubDate();
    const t = timeFmt.format(now);
    if ($("time").textContent !== t) {
      $("time").textContent = t;
      $("date").textContent = dateFmt.format(now);
      renderTileStates(); // the minute turned: opening hours may have begun or ended
    }
    setTimeout(tickClock, 1000 - (Date.now() % 1000) + 5);
  }

  // --- language and elderly mode ---------------------------------------------------------------
  function setEnglish(on) {
    state.english = !!on;
    document.body.classList.toggle("bilingual", state.english);
    const b = $("toggle-lang");
    if (state.english) {
      b.replaceChildren("中文");
      b.setAttribute("aria-label", "只显示中文 Chinese only");
    } else {
      b.replaceChildren(en("English", ""));
      b.setAttribute("aria-label", "显示英文 Show English");
    }
  }
  function setElderly(on) {
    const was = state.elderly;
    state.elderly = !!on;
    document.body.classList.toggle("elderly", state.elderly);
    $("toggle-elderly").setAttribute("aria-pressed", String(state.elderly));
    for (const b of document.querySelectorAll(".replay")) b.hidden = !(state.elderly && VOICE);
    if (state.elderly && !was) playPrompt(screenPrompt());
    else if (!state.elderly) stopPrompt();
  }

  // --- spoken prompts in elderly mode (issue 6) ----------------------------------------------------
  // Files the hub rendered with espeak-ng (no speech voices in a kiosk's Chromium, no cloud TTS
  // in a closed network). One <audio> element: a new prompt stops the one playing; Mandarin,
  // then English when English is on. A file not rendered yet (404) or a refused play() is silence.
  const VOICE = C.voice_prompts !== false;
  const SCREEN_PROMPTS = { home: "home", item: "item", ticket: "ticket", "code-screen": "code",
    "slip-screen": "slip", "complaint-screen": "complaint" };
  const audio = $("prompt-audio");
  let promptQueue = [];
  let promptGen = 0; // bumped by every stop: a late `ended` of an old prompt starts nothing
  function stopPrompt() {
    promptGen += 1;
    promptQueue = [];
    audio.pause();
  }
  function playNext(gen) {
    if (gen !== promptGen || !promptQueue.length) return;
    audio.src = promptQueue.shift();
    const p = audio.play();
    if (p && p.catch) p.catch(() => {}); // not rendered, or autoplay refused: stay quiet
  }
  audio.addEventListener("ended", () => playNext(promptGen));
  audio.addEventListener("error", () => playNext(promptGen));
  function screenPrompt() {
    if (state.screen === "ticket" && state.print === "failed") return "print_failed";
    return SCREEN_PROMPTS[state.screen] || null;
  }
  function playPrompt(key) {
    stopPrompt();
    if (!state.elderly || !VOICE || !key) return;
    promptQueue = ["zh", ...(state.english ? ["en"] : [])].map((l) => `/kiosk/prompts/${key}.${l}.wav`);
    playNext(promptGen);
  }
  for (const b of document.querySelectorAll(".replay")) {
    b.addEventListener("click", () => playPrompt(screenPrompt()));
  }
  $("toggle-lang").addEventListener("click", () => setEnglish(!state.english));
  $("toggle-elderly").addEventListener("click", () => setElderly(!state.elderly));

  // --- screens -----------------------------------------------------------------------------------
  const SCREENS = ["home", "item", "ticket", "code-screen", "slip-screen", "complaint-screen"];
  function show(name) {
    state.screen = name;
    for (const id of SCREENS) $(id).hidden = id !== name;
    if (name !== "ticket") {
      clearTimeout(ticketTimer);
      clearTimeout(printTimer);
    }
    if (name !== "home") state.choosing = null;
    $("choose-hint").hidden = !(name === "home" && state.choosing);
    document.body.classList.toggle("choosing", name === "home" && !!state.choosing);
    window.scrollTo(0, 0);
    const main = $("main");
    if (main.scrollTo) main.scrollTo(0, 0);
    updateTakeButtons();
    // The ticket screen speaks once its print state is known (showTicket → printState).
    if (name !== "ticket") playPrompt(SCREEN_PROMPTS[name]);
  }

  function goHome() {
    state.item = null;
    state.ticket = null;
    state.print = null;
    show("home");
  }

  // --- the home tiles ----------------------------------------------------------------------------
  function buildTiles() {
    const host = $("tiles");
    const groups = [];
    const depts = new Map((C.departments || []).map((d) => [d.code, d]));
    const byDept = new Map();
    for (const svc of SERVICES) {
      const code = (svc.department && svc.department.code) || svc.department || "";
      if (!byDept.has(code)) byDept.set(code, []);
      byDept.get(code).push(svc);
    }
    // Departments in catalogue order, then any the list does not name.
    const order = [...(C.departments || []).map((d) => d.code).filter((c) => byDept.has(c)),
      ...[...byDept.keys()].filter((c) => !depts.has(c))];
    for (const code of order) {
      const svcs = byDept.get(code);
      const d = depts.get(code) || (typeof svcs[0].department === "object" ? svcs[0].department : { name: code });
      const group = make("section", "dept");
      group.dataset.department = code;
      const hid = `dept-${groups.length}`;
      group.setAttribute("aria-labelledby", hid);
      const h = make("h2", "dept-name");
      h.id = hid;
      bi(h, d.name, d.name_en);
      const grid = make("div", "tile-grid");
      for (const svc of svcs) grid.append(makeTile(svc));
      group.append(h, grid);
      groups.push(group);
    }
    host.replaceChildren(...groups);
  }

  function makeTile(svc) {
    const t = make("button", "tile");
    t.type = "button";
    t.dataset.service = svc.code;
    const name = make("span", "tile-name");
    name.append(make("span", "zh", svc.name));
    if (svc.name_en) name.append(en(svc.name_en, "en tile-en"));
    const foot = make("span", "tile-foot");
    foot.append(make("span", "prefix", svc.prefix || ""), make("span", "waiting"),
      make("span", "tile-state"));
    t.append(name, foot);
    t.addEventListener("click", () => tileTapped(svc.code));
    return t;
  }

  // Why an item takes no tickets now, or null.
  function closedReason(code) {
    const svc = BY_CODE.get(code);
    if (!svc) return null;
    if (Object.prototype.hasOwnProperty.call(state.closed, code)) {
      return { kind: "suspended", zh: "暂停受理", en: "Suspended", why: state.closed[code] || "" };
    }
    // From the item's schedule only: the hub also knows holidays and make-up workdays, so this
    // greys the tile but leaves 取号 to the hub (which answers `closed` when it is).
    if (!inHours(svc)) return { kind: "hours", zh: "不在办理时间", en: "Outside opening hours", why: "" };
    return null;
  }

  function renderTileStates() {
    for (const t of document.querySelectorAll(".tile[data-service]")) {
      const code = t.dataset.service;
      const n = state.waiting[code] || 0;
      const w = t.querySelector(".waiting");
      const text = `等候 ${n} 人`;
      if (w.firstChild === null || w.firstChild.textContent !== text || w.dataset.n !== String(n)) {
        w.dataset.n = String(n);
        w.replaceChildren(text, " ", en(`${n} waiting`));
      }
      const closed = closedReason(code);
      t.classList.toggle("closed", !!closed);
      const s = t.querySelector(".tile-state");
      if (closed) bi(s, closed.zh, closed.en);
      else s.replaceChildren();
    }
    if (state.screen === "item" && state.item) renderItemState();
  }

  function filterTiles() {
    const q = $("search").value.trim().toLowerCase();
    let shown = 0;
    for (const group of document.querySelectorAll("#tiles .dept")) {
      let any = false;
      for (const t of group.querySelectorAll(".tile")) {
        const svc = BY_CODE.get(t.dataset.service);
        const hit = !q || [svc.name, svc.name_en, svc.prefix, svc.code]
          .some((s) => s && String(s).toLowerCase().includes(q));
        t.hidden = !hit;
        if (hit) any = true;
        if (hit) shown += 1;
      }
      group.hidden = !any;
    }
    $("no-match").hidden = shown > 0;
  }
  $("search").addEventListener("input", filterTiles);
  $("search").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") ev.target.blur(); // close the on-screen keyboard
  });

  function tileTapped(code) {
    if (state.choosing) {
      const chosen = state.choosing;
      issue({ service: code, channel: chosen.channel, code: chosen.code }, "choose");
      return;
    }
    openItem(code);
  }

  $("choose-cancel").addEventListener("click", () => {
    state.choosing = null;
    goHome();
  });

  // --- the item screen ----------------------------------------------------------------------------
  const DISCLOSURES = [
    // [data-key, field in the catalogue (and older spellings), 中文, English]
    ["duties", ["duties"], "工作职责", "Duties"],
    ["legal_basis", ["basis", "legal_basis"], "办事依据", "Legal basis"],
    ["preconditions", ["preconditions"], "前置条件", "Preconditions"],
    ["procedure", ["procedure"], "办事程序", "Procedure"],
    ["time_limit", ["time_limit"], "办事时限", "Time limit"],
    ["fees", ["fees"], "收费标准", "Fees"],
  ];
  const CASE_TYPES = {
    immediate: ["即办件", "Done on the spot"],
    commitment: ["承诺件", "Promised within a time limit"],
    joint: ["联办件", "Joint handling"],
    report: ["上报件", "Reported to a higher authority"],
  };

  function pick(obj, keys) {
    for (const k of keys) if (obj && typeof obj[k] === "string" && obj[k].trim()) return obj[k];
    return "";
  }

  function hoursText(svc) {
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

  const windowsZh = (nos) => (nos && nos.length ? `${nos.join("、")} 号窗口` : "");
  const windowsEn = (nos) => (nos && nos.length ? `Window${nos.length > 1 ? "s" : ""} ${nos.join(", ")}` : "");

  function openItem(code) {
    const svc = BY_CODE.get(code);
    if (!svc) return;
    state.item = code;
    $("issue-error").hidden = true;
    bi($("item-name"), svc.name);
    $("item-name-en").textContent = svc.name_en || "";
    $("item-name-en").hidden = !svc.name_en;
    const d = typeof svc.department === "object" ? svc.department : {};
    const ct = CASE_TYPES[svc.case_type];
    const dept = $("item-dept");
    dept.replaceChildren(d.name || "");
    if (d.name_en) dept.append(" ", en(d.name_en));
    if (ct) {
      dept.append(make("span", "sep", " · "), ct[0]);
      if (svc.time_limit_days) dept.append(`（${svc.time_limit_days} 个工作日）`);
      dept.append(" ", en(ct[1] + (svc.time_limit_days ? ` (${svc.time_limit_days} working days)` : "")));
    }

    const mats = (svc.materials || []).map((m) => make("li", "", m));
    if (!mats.length) mats.push(bi(make("li", "none"), "无需材料", "None"));
    $("materials").replaceChildren(...mats);

    const hours = hoursText(svc);
    bi($("item-hours"), hours.zh || "—", hours.en);
    bi($("item-windows"), windowsZh(svc.windows) || "—", windowsEn(svc.windows));

    const disc = svc.disclosure || {};
    const sections = DISCLOSURES.map(([key, fields, zh, english]) => {
      const sec = make("section", "card disclosure");
      sec.dataset.key = key;
      const h = make("h3", "", zh);
      h.append(" ", en(english));
      const body = make("div", "disclosure-text");
      body.append(make("p", "zh-text", pick(disc, fields) || "—"));
      const textEn = pick(disc, fields.map((f) => `${f}_en`));
      if (textEn) {
        const p = make("p", "en en-text", textEn);
        p.lang = "en";
        body.append(p);
      }
      sec.append(h, body);
      return sec;
    });
    $("disclosures").replaceChildren(...sections);
    renderItemState();
    show("item");
  }

  function renderItemState() {
    const code = state.item;
    const n = state.waiting[code] || 0;
    bi($("item-waiting"), `${n} 人`, `${n} waiting`);
    const closed = closedReason(code);
    const box = $("item-state");
    box.hidden = !closed;
    if (closed) {
      box.replaceChildren(closed.zh + (closed.why ? `：${closed.why}` : ""), " ", en(closed.en));
    }
    updateTakeButtons();
  }

  function setPrintMaterials(on) {
    state.printMaterials = !!on;
    const b = $("print-materials");
    b.setAttribute("aria-pressed", String(state.printMaterials));
    b.classList.toggle("on", state.printMaterials);
  }
  $("print-materials").addEventListener("click", () => setPrintMaterials(!state.printMaterials));
  $("back").addEventListener("click", goHome);

  function updateTakeButtons() {
    const blocked = state.issuing || !state.connected;
    const closed = state.item ? closedReason(state.item) : null;
    $("take").disabled = blocked || (!!closed && closed.kind === "suspended");
    $("code-submit").disabled = blocked;
    document.body.classList.toggle("offline-now", !state.connected);
    for (const t of document.querySelectorAll(".tile")) t.setAttribute("aria-disabled", String(!!state.choosing && blocked));
  }

  // --- issuing a ticket: one tap, one ticket ---------------------------------------------------------
  const requestId = () => {
    const a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  const ERRORS = {
    closed: ["不在办理时间", "Outside opening hours", "请在办理时间内取号。", "Please come back during opening hours."],
    quota_exhausted: ["今日号源已发完", "No more tickets today", "请改日再来，或咨询服务台。", "Please come back another day or ask at the front desk."],
    service_closed: ["暂停受理", "This item is suspended", "", ""],
    bad_pass: ["绿色通道服务卡无效", "The green channel pass is not valid", "请核对后重新输入，或到服务台咨询。", "Check it and try again, or ask at the front desk."],
    pass_used: ["该服务卡今日已使用", "This pass has already been used", "如有疑问请到服务台咨询。", "Please ask at the front desk."],
    bad_appointment: ["未找到该预约", "Appointment not found", "请核对预约码后重新输入。", "Check the code and try again."],
    appointment_used: ["该预约已签到", "This appointment is already checked in", "如有疑问请到服务台咨询。", "Please ask at the front desk."],
    wrong_service: ["预约事项与所选事项不符", "The code is for another item", "请选择预约的事项或到服务台咨询。", "Choose the booked item or ask at the front desk."],
    code_required: ["请输入或扫描号码", "Please scan or type the code", "", ""],
    not_connected: ["暂时无法连接服务器", "Not connected", "请稍候再试。", "Please try again in a moment."],
    no_answer: ["服务器无应答", "No answer from the server", "请稍候再试，或到服务台咨询。", "Please try again, or ask at the front desk."],
  };

  function errorBox(box, err) {
    const e = err || {};
    const known = ERRORS[e.code];
    const title = make("p", "error-title");
    const detail = make("p", "error-detail");
    if (known) {
      bi(title, known[0], known[1]);
      if (e.code === "service_closed" || e.code === "closed") {
        bi(detail, e.message || known[2], e.message_en || known[3]);
      } else if (known[2]) {
        bi(detail, known[2], known[3]);
      }
    } else {
      bi(title, e.message || "操作未成功", e.message_en || (e.message ? "" : "Something went wrong"));
      bi(detail, "如有疑问请到服务台咨询。", "Please ask at the front desk.");
    }
    box.replaceChildren(title);
    if (detail.textContent) box.append(detail);
    box.hidden = false;
  }

  // where: "item" | "code" | "choose" (error boxes of the item screen or the code screen)
  function issue(args, where) {
    if (state.issuing) return;
    const fail = (err) => {
      if (where === "item") {
        errorBox($("issue-error"), err);
      } else {
        if (where === "choose") show("code-screen");
        errorBox($("code-error"), err);
      }
    };
    $("issue-error").hidden = true;
    $("code-error").hidden = true;
    if (!socket || !state.connected) {
      fail({ code: "not_connected" });
      return;
    }
    state.issuing = true;
    updateTakeButtons();
    document.body.classList.add("busy");
    const req = { channel: args.channel || "normal", request_id: requestId(), materials: state.printMaterials };
    if (args.service) req.service = args.service;
    if (args.code) req.code = args.code;
    let tries = 0;
    const finish = () => {
      state.issuing = false;
      document.body.classList.remove("busy");
      updateTakeButtons();
    };
    const send = () => {
      tries += 1;
      socket.timeout(ACK_MS).emit("issue_ticket", req, (err, ack) => {
        if (err) {
          if (tries < 2) {
            send(); // the same request_id: the hub gives the same ticket if the first one got through
            return;
          }
          finish();
          fail({ code: "no_answer" });
          return;
        }
        finish();
        if (ack && ack.ok) {
          showTicket(ack.result || {}, req.materials);
        } else {
          const e = (ack && ack.error) || {};
          if (e.code === "choose_service" && req.channel !== "normal") {
            state.choosing = { channel: req.channel, code: req.code };
            $("search").value = "";
            filterTiles();
            show("home");
            return;
          }
          fail(e);
        }
      });
    };
    send();
  }

  $("take").addEventListener("click", () => {
    if (!state.item || state.issuing) return;
    issue({ service: state.item, channel: "normal" }, "item");
  });

  // --- the ticket screen ---------------------------------------------------------------------------
  const CHANNELS = { green: ["绿色通道", "Green channel"], appointment: ["预约", "Appointment"] };

  function showTicket(result, materials) {
    const t = result.ticket || {};
    state.ticket = t;
    state.ticketMaterials = materials === true;
    $("ticket-number").textContent = t.number || "—";
    const ch = CHANNELS[t.channel];
    $("ticket-channel").hidden = !ch;
    if (ch) bi($("ticket-channel"), ch[0], ch[1]);
    const svc = BY_CODE.get(t.service) || {};
    bi($("ticket-service"), t.service_name || svc.name || t.service || "", t.service_name_en || svc.name_en);
    const nos = t.windows || svc.windows || [];
    $("ticket-windows").hidden = !nos.length;
    bi($("ticket-windows"), `请到 ${nos.join("、")} 号窗口`, windowsEn(nos));
    const ahead = Number(t.people_ahead) || 0;
    bi($("ticket-ahead"), `前面还有 ${ahead} 人`, `${ahead} ahead`);
    const wait = t.estimated_wait_minutes;
    $("ticket-wait").hidden = wait === undefined || wait === null;
    if (wait === 0) bi($("ticket-wait"), "即将为您叫号", "You will be called shortly");
    else bi($("ticket-wait"), `预计等候约 ${wait} 分钟`, `About ${wait} min`);
    show("ticket");
    state.print = null;
    if (result.print === "queued") playPrompt("ticket"); // a failure says print_failed instead
    const sent = result.print === "queued" || result.print === "repeated";
    printState(sent ? "printing" : "failed");
    const early = earlyPrints.get(t.id);
    if (early && sent) {
      earlyPrints.delete(t.id);
      printState(early.ok ? "printed" : "failed");
    }
    if (result.print === "no_printer") $("reprint").hidden = true; // nothing to print again on
    restartTicketTimer();
  }

  function printState(kind) {
    state.print = kind;
    clearTimeout(printTimer);
    const box = $("print-status");
    box.className = `print-status ${kind}`;
    $("reprint").hidden = kind !== "failed";
    if (kind === "printing") {
      bi(box, "正在打印号票…", "Printing your ticket…");
      printTimer = setTimeout(() => {
        if (state.print === "printing") printState("failed");
      }, PRINT_MS);
    } else if (kind === "printed") {
      bi(box, "已打印，请取走号票", "Please take your ticket");
    } else {
      bi(box, "号票未能打印，请凭屏幕上的号码到服务台",
        "The ticket could not be printed — please show this screen at the front desk");
    }
    if (state.screen === "ticket" && kind === "failed") playPrompt("print_failed");
  }

  function restartTicketTimer() {
    clearTimeout(ticketTimer);
    ticketTimer = setTimeout(() => {
      if (state.screen === "ticket") goHome();
    }, TICKET_HOME_MS);
  }

  $("reprint").addEventListener("click", () => {
    const t = state.ticket;
    if (!t || !socket || !state.connected || $("reprint").disabled) return;
    $("reprint").disabled = true;
    bi($("print-status"), "正在重新打印…", "Printing again…");
    const again = { ticket_id: t.id, materials: state.ticketMaterials }; // what the first print had
    socket.timeout(ACK_MS).emit("reprint", again, (err, ack) => {
      $("reprint").disabled = false;
      if (!state.ticket || state.ticket.id !== t.id) return;
      if (!err && ack && ack.ok && ack.result && ack.result.print === "queued") printState("printing");
      else printState("failed");
    });
  });
  $("done").addEventListener("click", goHome);

  // --- green channel / appointment --------------------------------------------------------------------
  const CODE_MODES = {
    green: { zh: "绿色通道", en: "Green channel", label: "绿色通道服务卡号", labelEn: "Green channel pass no.",
      help: "请扫描或输入绿色通道服务卡上的号码", helpEn: "Scan or type the code on your green channel pass" },
    appointment: { zh: "预约签到", en: "Appointment check-in", label: "预约码", labelEn: "Appointment code",
      help: "请扫描或输入预约码（预约短信或预约凭证上）", helpEn: "Scan or type the code from your booking" },
  };

  function openCode(mode) {
    const m = CODE_MODES[mode];
    state.codeMode = mode;
    $("code-title-zh").textContent = m.zh;
    $("code-title-en").textContent = m.en;
    bi($("code-label"), m.label, m.labelEn);
    bi($("code-help"), m.help, m.helpEn);
    $("code-input").value = "";
    $("code-error").hidden = true;
    show("code-screen");
    $("code-input").focus({ preventScroll: true });
  }

  function submitCode() {
    const code = $("code-input").value.trim();
    if (!code) {
      errorBox($("code-error"), { code: "code_required" });
      return;
    }
    issue({ channel: state.codeMode, code }, "code");
  }
  $("go-green").hidden = !C.green_channel;
  $("go-green").addEventListener("click", () => openCode("green"));
  $("go-appointment").addEventListener("click", () => openCode("appointment"));
  $("code-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitCode();
  });
  $("code-back").addEventListener("click", goHome);

  // --- slip lookup -------------------------------------------------------------------------------------
  function openSlip() {
    $("slip-input").value = "";
    $("slip-error").hidden = true;
    $("slip-result").hidden = true;
    $("slip-result").replaceChildren();
    show("slip-screen");
  }

  function lookupSlip() {
    const number = $("slip-input").value.trim().toUpperCase();
    $("slip-error").hidden = true;
    $("slip-result").hidden = true;
    if (!number) {
      bi($("slip-error"), "请输入承诺单号", "Please type the slip number");
      $("slip-error").hidden = false;
      return;
    }
    if (!socket || !state.connected) {
      errorBox($("slip-error"), { code: "not_connected" });
      return;
    }
    $("slip-submit").disabled = true;
    socket.timeout(ACK_MS).emit("lookup_slip", { number }, (err, ack) => {
      $("slip-submit").disabled = false;
      if (state.screen !== "slip-screen") return;
      if (err) {
        errorBox($("slip-error"), { code: "no_answer" });
      } else if (ack && ack.ok) {
        renderSlip(ack.result || {});
      } else {
        const e = (ack && ack.error) || {};
        if (e.code === "no_slip" || e.code === "not_found") {
          const box = $("slip-error");
          box.replaceChildren(bi(make("p", "error-title"), "未找到该承诺单", "No slip with this number"),
            bi(make("p", "error-detail"), "请核对承诺单号，或到服务台咨询。", "Check the number, or ask at the front desk."));
          box.hidden = false;
        } else {
          errorBox($("slip-error"), e);
        }
      }
    });
  }

  function renderSlip(r) {
    const box = $("slip-result");
    const head = make("h3", "slip-number");
    const number = r.number || "";
    bi(head, `承诺单号 ${number}`, `Slip no. ${number}`);
    const status = make("p", "slip-status");
    bi(status, r.status_name || r.status || "", r.status_name_en);
    status.dataset.status = r.status || "";
    const dl = make("dl", "facts");
    const row = (zh, english, value, valueEn) => {
      const dt = make("dt");
      bi(dt, zh, english);
      const dd = make("dd");
      bi(dd, value || "—", valueEn);
      dl.append(dt, dd);
    };
    row("办理事项", "Item", r.service_name, r.service_name_en);
    row("受理日期", "Accepted on", r.accepted_on);
    row("承诺办结日期", "Promised by", r.promised_date);
    const items = Array.isArray(r.items) ? r.items : [];
    if (items.length) {
      const dt = make("dt");
      bi(dt, "所列事项", "Items");
      const dd = make("dd");
      const ul = make("ul", "slip-items");
      for (const it of items) ul.append(make("li", "", String(it)));
      dd.append(ul);
      dl.append(dt, dd);
    }
    const parts = Array.isArray(r.departments) ? r.departments : [];
    if (parts.length) { // 联办件: where the case is among its departments
      const dt = make("dt");
      bi(dt, "联办部门", "Joint departments");
      const dd = make("dd");
      const ul = make("ul", "slip-parts");
      for (const d of parts) {
        const li = make("li");
        li.dataset.department = d.code;
        bi(li, `${d.name}：${d.done ? "已办结" : "办理中"}`, `${d.name_en || d.code}: ${d.done ? "done" : "in progress"}`);
        ul.append(li);
      }
      dd.append(ul);
      dl.append(dt, dd);
    }
    box.replaceChildren(head, status, dl);
    box.hidden = false;
  }

  $("go-slip").addEventListener("click", openSlip);
  $("slip-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    lookupSlip();
  });
  $("slip-back").addEventListener("click", goHome);

  // --- complaints ---------------------------------------------------------------------------------------
  let complaintCategory = null;
  function buildComplaintForm() {
    const phone = (C.center && C.center.complaint_phone) || "";
    $("complaint-phone-no").textContent = phone;
    $("complaint-phone-no").parentElement.hidden = !phone;
    const cats = (C.complaint_categories || []).map((c) => {
      const b = make("button", "category");
      b.type = "button";
      b.dataset.code = c.code;
      b.setAttribute("aria-pressed", "false");
      bi(b, c.name, c.name_en);
      b.addEventListener("click", () => {
        setCategory(c.code);
        $("complaint-error").hidden = true;
      });
      return b;
    });
    $("categories").replaceChildren(...cats);
    const sel = $("complaint-window");
    const none = make("option", "", "不指定 / Not specified");
    none.value = "";
    sel.replaceChildren(none, ...(C.windows || []).map((w) => {
      const label = `${w.no}号窗口`;
      const o = make("option", "", w.name && !w.name.startsWith(label) ? `${label} · ${w.name}` : label);
      o.value = String(w.no);
      return o;
    }));
  }
  function setCategory(code) {
    complaintCategory = code;
    for (const b of document.querySelectorAll("#categories .category")) {
      const on = b.dataset.code === code;
      b.setAttribute("aria-pressed", String(on));
      b.classList.toggle("on", on);
    }
  }
  function countText() {
    const n = [...$("complaint-text").value].length;
    $("complaint-count").textContent = `${n} / 500`;
    $("complaint-count").classList.toggle("over", n > 500);
  }
  function clearComplaint() {
    setCategory(null);
    $("complaint-window").value = "";
    $("complaint-staff").value = "";
    $("complaint-text").value = "";
    $("complaint-phone").value = "";
    $("complaint-error").hidden = true;
    $("complaint-error").replaceChildren();
    $("complaint-done").hidden = true;
    $("complaint-done-text").replaceChildren();
    $("complaint-form").hidden = false;
    $("complaint-submit").disabled = false;
    countText();
  }
  function openComplaint() {
    clearComplaint();
    show("complaint-screen");
  }
  function complaintError(zh, english) {
    const box = $("complaint-error");
    box.replaceChildren(bi(make("p", "error-title"), zh, english));
    box.hidden = false;
  }
  function submitComplaint() {
    $("complaint-error").hidden = true;
    const text = $("complaint-text").value.trim();
    const phone = $("complaint-phone").value.trim();
    const staff = $("complaint-staff").value.trim();
    if (!complaintCategory) return complaintError("请选择类别", "Please choose a category");
    if (!text) return complaintError("请填写内容", "Please write what happened");
    if ([...text].length > 500) return complaintError("内容不能超过 500 字", "At most 500 characters");
    if (phone && !/^[0-9+\- ]{1,20}$/.test(phone)) {
      return complaintError("电话号码只能包含数字、“-”、“+”和空格", "A phone number has digits, '-', '+' and spaces only");
    }
    if (!socket || !state.connected) return errorBox($("complaint-error"), { code: "not_connected" });
    const w = $("complaint-window").value;
    const args = { category: complaintCategory, text, window: w ? Number(w) : null,
      staff_no: staff || null, phone: phone || null };
    $("complaint-submit").disabled = true;
    socket.timeout(ACK_MS).emit("complain", args, (err, ack) => {
      $("complaint-submit").disabled = false;
      if (state.screen !== "complaint-screen") return;
      if (err) return errorBox($("complaint-error"), { code: "no_answer" });
      if (!ack || !ack.ok) {
        const e = (ack && ack.error) || {};
        return complaintError(e.message || "提交未成功", e.message_en || "Not sent");
      }
      const id = (ack.result && ack.result.id) || "";
      bi($("complaint-done-text"), `已收到，编号 ${id}`, `Received, no. ${id}`);
      $("complaint-text").value = "";
      $("complaint-phone").value = "";
      $("complaint-staff").value = "";
      $("complaint-form").hidden = true;
      $("complaint-done").hidden = false;
      return null;
    });
    return null;
  }
  $("go-complaint").addEventListener("click", openComplaint);
  $("complaint-text").addEventListener("input", countText);
  for (const id of ["complaint-text", "complaint-phone", "complaint-staff", "complaint-window"]) {
    $(id).addEventListener("input", () => { $("complaint-error").hidden = true; });
  }
  $("code-input").addEventListener("input", () => { $("code-error").hidden = true; });
  $("slip-input").addEventListener("input", () => { $("slip-error").hidden = true; });
  $("complaint-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitComplaint();
  });
  $("complaint-back").addEventListener("click", goHome);
  $("complaint-home").addEventListener("click", goHome);

  // --- idle: back home with nothing personal left ----------------------------------------------------------
  function idleReset() {
    stopPrompt();
    clearTimeout(printTimer);
    clearTimeout(ticketTimer);
    state.choosing = null;
    state.codeMode = null;
    for (const node of document.querySelectorAll("input, textarea")) node.value = "";
    for (const id of ["issue-error", "code-error", "slip-error", "complaint-error", "slip-result"]) {
      $(id).hidden = true;
      $(id).replaceChildren();
    }
    for (const id of ["ticket-number", "ticket-service", "ticket-windows", "ticket-ahead", "ticket-wait",
      "print-status"]) $(id).replaceChildren();
    clearComplaint();
    setPrintMaterials(true);
    setElderly(false);
    setEnglish(false);
    filterTiles();
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    goHome();
    state.lastTouch = Date.now();
  }

  const touched = () => {
    state.lastTouch = Date.now();
    if (state.screen === "ticket") restartTicketTimer();
  };
  document.addEventListener("pointerdown", touched, { capture: true, passive: true });
  document.addEventListener("keydown", touched, { capture: true, passive: true });
  let reloadAt = 0; // when a config.reloaded arrived (+0-3 s at random, not all kiosks at once)
  setInterval(() => {
    // Not while a ticket is on its way: its ack would show it to the next person.
    if (!state.issuing && Date.now() - state.lastTouch >= IDLE_MS) idleReset();
    // The hall file changed: reload for the new items, but only at home with nobody touching
    // it for a few seconds — never in the middle of a citizen's ticket.
    if (reloadAt && Date.now() >= reloadAt && state.screen === "home" && !state.issuing
        && Date.now() - state.lastTouch >= 5000) location.reload();
  }, 1000);

  // --- the connection ----------------------------------------------------------------------------------------
  function setNotice(center) {
    const box = $("notice");
    const zh = (center && center.notice) || "";
    const english = (center && center.notice_en) || "";
    box.hidden = !zh && !english;
    if (zh) bi(box, zh, english);
    else box.replaceChildren(en(english));
  }

  function applyCounts(d) {
    if (!d) return;
    // Two hubs may push their status in either order: never go back to an older one.
    if (typeof d.seq === "number") {
      if (state.countsSeq != null && d.seq < state.countsSeq) return;
      state.countsSeq = d.seq;
    }
    if (d.waiting) state.waiting = { ...d.waiting };
    if (d.closed_services) state.closed = { ...d.closed_services };
    if (d.open_windows) state.openWindows = { ...d.open_windows };
    renderTileStates();
  }

  function setConnected(on) {
    state.connected = on;
    $("reconnecting").hidden = on || !!state.refused;
    updateTakeButtons();
  }

  function refused(err) {
    const data = (err && err.data) || {};
    state.refused = { code: data.code || "refused", message: data.message || "" };
    $("offline").hidden = false;
    $("reconnecting").hidden = true;
    // For the staff who come to look: the hub's reason, when it sent one as data.
    $("offline-detail").textContent = [data.code, data.message].filter(Boolean).join(" · ");
  }

  function connect() {
    if (!TOKEN) {
      refused({ data: { code: "no_token", message: "地址中缺少 ?token=" } });
      return;
    }
    if (typeof io !== "function") {
      refused({ data: { code: "no_client", message: "Socket.IO client missing" } });
      return;
    }
    socket = io("/kiosk", {
      path: SOCKET_PATH,
      auth: { token: TOKEN },
      transports: ["websocket"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      randomizationFactor: 0.3,
      timeout: 5000,
    });
    socket.on("connect", () => {
      state.countsSeq = null; // a new connection (maybe another hub, maybe restored): start over
      state.refused = null;
      $("offline").hidden = true;
      setConnected(true);
    });
    socket.on("disconnect", (reason) => {
      setConnected(false);
      // The hub ended this kiosk's session: the client does not retry by itself.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 3000);
    });
    socket.on("connect_error", (err) => {
      setConnected(false);
      if (!socket.active) {
        // Refused by the hub (token unknown or revoked): out of service, and try again now and then.
        refused(err);
        setTimeout(() => socket.connect(), 10000);
      }
    });
    socket.on("snapshot", (snap) => {
      if (!snap) return;
      followHubClock(snap);
      nowCache = { at: 0, value: null };
      if (snap.center) {
        state.center = { ...state.center, ...snap.center };
        setNotice(snap.center);
      }
      if (snap.kiosk) state.kiosk = { ...snap.kiosk };
      applyCounts(snap);
    });
    socket.on("status", applyCounts);
    socket.on("event", (ev) => {
      if (ev && ev.type === "config.reloaded" && !reloadAt) reloadAt = Date.now() + Math.random() * 3000;
    });
    socket.on("printed", (p) => {
      if (!p || !p.ticket_id) return;
      if (!state.ticket || p.ticket_id !== state.ticket.id || state.screen !== "ticket") {
        // A quick printer can answer before the hub's answer to 取号 arrives: keep it for then.
        earlyPrints.set(p.ticket_id, p);
        if (earlyPrints.size > 5) earlyPrints.delete(earlyPrints.keys().next().value);
        return;
      }
      printState(p.ok ? "printed" : "failed");
    });
    socket.on("scan", (s) => scanned(s && typeof s.text === "string" ? s.text.trim() : ""));
  }

  function scanned(text) {
    if (!text) return;
    state.lastTouch = Date.now();
    if (state.screen === "code-screen") {
      $("code-input").value = text;
      submitCode();
    } else if (state.screen === "slip-screen") {
      $("slip-input").value = text;
      lookupSlip();
    } else if (SLIP_PREFIX && text.toUpperCase().startsWith(SLIP_PREFIX.toUpperCase()) && !state.issuing) {
      openSlip();
      $("slip-input").value = text;
      lookupSlip();
    }
  }

  // --- start -----------------------------------------------------------------------------------------------
  buildTiles();
  buildComplaintForm();
  setEnglish(false);
  setElderly(false);
  setPrintMaterials(true);
  setNotice(C.center);
  clearComplaint();
  filterTiles();
  renderTileStates();
  tickClock();
  goHome();
  setConnected(false);
  $("reconnecting").hidden = true; // not "reconnecting" before the first connection
  connect();

  // Read-only view for tests and the front desk's diagnostics.
  window.kiosk = {
    get state() {
      return JSON.parse(JSON.stringify({ ...state, lastTouch: undefined }));
    },
    idleReset,
  };
})();
