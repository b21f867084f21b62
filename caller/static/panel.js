/* The clerk's panel: sign in (POST /api/v1/login, token in sessionStorage), then the /caller
 * namespace: the window's state from the snapshot and events, the actions as acked events.
 * Plain JS, no build step, nothing from outside. */
"use strict";

(function () {
  const C = JSON.parse(document.getElementById("catalogue").textContent);
  const $ = (id) => document.getElementById(id);
  const KEY = "onestop.caller";
  let session = null; // {token, name, staff_no, window, username}
  let socket = null;
  let lastSeq = -1;
  const st = { status: "closed", pause: null, current: null, ticket: null, waiting: {} };

  const option = (value, text) => {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  };
  const svcName = (code) => (C.services[code] || { name: code }).name;
  const myWindow = () => C.windows.find((w) => w.no === (session && session.window));

  // --- messages ---------------------------------------------------------------------------
  function error(msg) {
    $("error").textContent = msg || "";
    $("error").hidden = !msg;
  }
  function info(msg) {
    $("info").textContent = msg || "";
    $("info").hidden = !msg;
  }
  function conn(zh, en) {
    $("conn").replaceChildren(zh + " ", Object.assign(document.createElement("span"),
      { lang: "en", textContent: en }));
  }

  // --- static selects from the catalogue ----------------------------------------------------
  for (const w of C.windows) $("window-select").append(option(w.no, OnestopStaff.windowLabel(w)));
  for (const r of C.pause_reasons) $("pause-reason").append(option(r, r));
  for (const o of C.outcomes) $("outcome").append(option(o.code, `${o.name} ${o.name_en}`));
  for (const d of C.departments) $("departments").append(option(d.code, d.name));
  for (const s of C.slip_statuses) $("slip-status").append(option(s.code, `${s.name} ${s.name_en}`));
  $("transfer-service").append(option("", "—"));
  for (const [code, s] of Object.entries(C.services)) {
    $("transfer-service").append(option(code, `${s.name}`));
  }
  $("transfer-window").append(option("", "—"));
  for (const w of C.windows) $("transfer-window").append(option(w.no, OnestopStaff.windowLabel(w)));

  function showOutcomeFields() {
    const v = $("outcome").value;
    $("f-departments").hidden = v !== "joint";
    $("f-authority").hidden = v !== "report";
    $("f-reason").hidden = v !== "returned";
  }
  $("outcome").addEventListener("change", showOutcomeFields);

  // --- sign in and out ----------------------------------------------------------------------
  function showSignin(message) {
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
      socket = null;
    }
    session = null;
    sessionStorage.removeItem(KEY);
    $("panel").hidden = true;
    $("signin").hidden = false;
    conn("未登录", "Signed out");
    if (message) error(message);
  }

  const api = (method, path, body) => OnestopStaff.api(method, path, body,
    session && session.token, (msg) => showSignin(`登录已失效，请重新登录 / ${msg}`));

  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error("");
    try {
      const r = await api("POST", "/login", {
        username: $("username").value.trim(),
        password: $("password").value,
        window: Number($("window-select").value),
      });
      if (r.role !== "clerk") throw new Error("此页面供窗口工作人员使用 / this panel is for clerks");
      $("password").value = "";
      session = { token: r.token, name: r.name, staff_no: r.staff_no, window: r.window,
                  username: r.username };
      sessionStorage.setItem(KEY, JSON.stringify(session));
      start();
    } catch (e) {
      error(`登录失败 Sign-in failed: ${e.message}`);
    }
  });

  $("signout").addEventListener("click", async () => {
    try {
      await api("POST", "/logout");
    } catch (e) {
      /* signed out all the same */
    }
    showSignin();
    info("已退出登录 / Signed out");
  });

  // --- the live window ------------------------------------------------------------------------
  function start() {
    $("signin").hidden = true;
    $("panel").hidden = false;
    info("");
    const w = myWindow();
    $("staff-name").textContent = session.name;
    $("staff-no").textContent = session.staff_no;
    $("window-name").textContent = w ? OnestopStaff.windowLabel(w) : `${session.window}号窗口`;
    const photo = $("photo");
    photo.hidden = true;
    photo.onload = () => { photo.hidden = false; };
    photo.onerror = () => { photo.hidden = true; };
    if (session.staff_no) {
      photo.src = `/display/badge/${encodeURIComponent(session.staff_no)}?token=${encodeURIComponent(session.token)}`;
    }
    conn("连接中…", "Connecting…");
    socket = io("/caller", {
      auth: { token: session.token }, transports: ["websocket"],
      reconnectionDelay: 500, reconnectionDelayMax: 3000, timeout: 5000,
    });
    socket.on("connect", () => { conn("已连接", "Online"); loadJoint(); });
    socket.on("disconnect", () => conn("离线 · 正在重新连接", "Offline · reconnecting"));
    socket.on("connect_error", (err) => {
      const msg = (err && err.data && err.data.message) || String(err && err.message);
      if (!socket.active) showSignin(`连接被拒绝，请重新登录 / ${msg}`);
      else conn("离线 · 正在重新连接", "Offline · reconnecting");
    });
    socket.on("signed_out", (d) => {
      const elsewhere = d && d.reason === "session_ended";
      showSignin(elsewhere
        ? "您的账号已在其他地方登录，本页已退出 / Signed in elsewhere: this panel was signed out"
        : "登录已失效，请重新登录 / Session ended: sign in again");
    });
    socket.on("snapshot", snapshot);
    socket.on("moved", (d) => {
      // A supervisor moved this clerk: the same session acts for the new window (a snapshot
      // of it follows), no new sign-in.
      session.window = d.window;
      sessionStorage.setItem(KEY, JSON.stringify(session));
      const now = myWindow();
      $("window-name").textContent = now ? OnestopStaff.windowLabel(now) : `${session.window}号窗口`;
      info(`已调至${$("window-name").textContent} / Moved to window ${d.window}`);
      loadJoint();
    });
    socket.on("printed", (d) => {
      // A 承诺单 printed at this window's printer (or the kiosk's): the citizen must get it.
      const box = $("slip-printed");
      box.hidden = false;
      box.textContent = d.ok
        ? `承诺单 ${d.slip} 已打印 / Slip printed`
        : `承诺单 ${d.slip} 未能打印：${d.message} / Not printed: ${d.message_en}`;
    });
    socket.on("event", (ev) => {
      if (typeof ev.seq === "number" && ev.seq <= lastSeq) return;
      lastSeq = ev.seq;
      // The hall file changed (art. 6): reload for the new catalogue (the session stays in
      // sessionStorage), 0-3 s at random so the panels don't reach the hub all at once.
      if (ev.type === "config.reloaded") setTimeout(() => location.reload(), Math.random() * 3000);
      event(ev);
    });
  }

  function applyWindow(w) {
    st.status = w.status;
    st.pause = w.pause_reason;
    setCurrent(w.current);
    render();
  }

  function snapshot(snap) {
    lastSeq = snap.seq;
    OnestopStaff.followHubClock(snap);
    st.waiting = { ...snap.waiting };
    const w = snap.windows.find((x) => x.no === session.window);
    if (w) applyWindow(w);
  }

  function addWaiting(code, delta) {
    if (!code) return;
    const n = (st.waiting[code] || 0) + delta;
    if (n > 0) st.waiting[code] = n;
    else delete st.waiting[code];
  }

  function event(ev) {
    const d = ev.data || {};
    const mine = d.window_no === session.window;
    switch (ev.type) {
      case "ticket.issued": addWaiting(d.service, +1); break;
      case "ticket.called":
        addWaiting(d.service, -1);
        if (mine) setCurrent({ id: d.ticket_id, number: d.number, service: d.service });
        break;
      case "ticket.no_show":
        if (d.requeued) addWaiting(d.service, +1);
        if (mine) setCurrent(null);
        break;
      case "ticket.transferred":
        addWaiting(d.to_service || (st.current && mine ? st.current.service : null), +1);
        if (mine) setCurrent(null);
        break;
      case "ticket.finished":
      case "ticket.return_requested":
        if (mine) setCurrent(null);
        break;
      case "window.paused": if (mine) { st.status = "paused"; st.pause = d.reason; } break;
      case "window.resumed": if (mine) { st.status = "open"; st.pause = null; } break;
      case "window.signed_in": if (mine) st.status = "open"; break;
      case "window.signed_out": if (mine) { st.status = "closed"; setCurrent(null); } break;
      case "day.rolled": st.waiting = {}; setCurrent(null); break;
      default: break;
    }
    render();
  }

  function setCurrent(cur) {
    const id = cur && cur.id;
    if ((st.current && st.current.id) === id) return;
    st.current = cur ? { ...cur } : null;
    st.ticket = null;
    if (!id) return;
    api("GET", `/tickets/${encodeURIComponent(id)}`).then((t) => {
      if (st.current && st.current.id === t.id) {
        st.ticket = t;
        render();
      }
    }).catch(() => {});
  }

  // --- drawing --------------------------------------------------------------------------------
  const STATUS = { open: "服务中 In service", paused: "暂停服务 Paused", closed: "未开放 Closed" };
  const mmss = (ms) => {
    if (!(ms >= 0)) return "—";
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}分${String(s % 60).padStart(2, "0")}秒`;
  };
  const at = (iso) => Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));

  function render() {
    if (!session) return;
    $("window-status").textContent = STATUS[st.status] || st.status;
    $("pause-line").hidden = st.status !== "paused";
    $("pause-reason-now").textContent = st.pause || "";
    $("btn-pause").firstChild.textContent = st.status === "paused" ? "F5 恢复 " : "F5 暂停 ";
    $("btn-pause").lastElementChild.textContent = st.status === "paused" ? "Resume" : "Pause";
    const cur = st.current;
    $("current-number").textContent = cur ? cur.number : "—";
    const svc = cur && C.services[cur.service];
    $("current-service").textContent = svc ? `${svc.name} ${svc.name_en}` : "";
    $("target").textContent = svc ? `${svc.target_minutes} 分钟 min` : "—";
    $("limit").textContent = svc
      ? (svc.time_limit_days ? `${svc.time_limit_days} 个工作日 working days` : "即办 same day") : "—";
    const list = $("waiting-list");
    const w = myWindow();
    list.replaceChildren(...(w ? w.services : []).map((code) => {
      const li = document.createElement("li");
      li.append(Object.assign(document.createElement("span"), { textContent: svcName(code) }),
        Object.assign(document.createElement("span"),
          { className: "count", textContent: String(st.waiting[code] || 0) }));
      return li;
    }));
    tick();
  }

  function tick() {
    const t = st.ticket;
    const cur = st.current;
    const warn = $("target-warning");
    if (!cur || !t) {
      $("waited").textContent = "—";
      $("served").textContent = "—";
      warn.hidden = true;
      return;
    }
    const called = at(t.called_at);
    $("waited").textContent = mmss(called - at(t.issued_at));
    const served = OnestopStaff.hubNow() - called;
    $("served").textContent = mmss(served);
    const svc = C.services[cur.service];
    const target = svc ? svc.target_minutes * 60000 : 0;
    if (target && served >= target) {
      warn.hidden = false;
      warn.className = "warning over";
      warn.textContent = "已超过目标办理时长 / Over the target time";
    } else if (target && served >= target * 0.8) {
      warn.hidden = false;
      warn.className = "warning";
      warn.textContent = "即将达到目标办理时长 / Nearing the target time";
    } else {
      warn.hidden = true;
    }
  }
  setInterval(tick, 1000);

  // --- actions ----------------------------------------------------------------------------------
  function act(action, args) {
    error("");
    if (!socket || !socket.connected) {
      error("未连接到服务器 / Not connected to the hub");
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      socket.timeout(8000).emit(action, args || {}, (err, ack) => {
        if (err) {
          error("服务器无应答 / The hub did not answer");
          resolve(null);
        } else if (!ack || !ack.ok) {
          error(`操作失败 Refused: ${(ack && ack.error && ack.error.message) || "?"}`);
          resolve(null);
        } else {
          applyWindow(ack.result);
          resolve(ack.result);
        }
      });
    });
  }

  $("btn-print-slip").addEventListener("click", () => {
    const slip = $("slip-number").value.trim();
    if (!slip) return error("请输入承诺单号 / Enter the slip number");
    if (!socket) return;
    socket.timeout(8000).emit("print_slip", { slip }, (err, ack) => {
      if (err) error("服务器无应答 / The hub did not answer");
      else if (!ack.ok) error(`补打失败 Refused: ${ack.error.message}`);
      else info(ack.result.print === "queued" ? "已发送打印 / Sent to the printer"
        : "没有可用的打印机 / No printer connected");
    });
  });

  // 联办件: cases accepted at another window that wait for this department's part.
  let jointTimer = null;
  async function loadJoint() {
    clearTimeout(jointTimer);
    if (!session) return;
    jointTimer = setTimeout(loadJoint, 30000);
    let cases;
    try {
      cases = (await api("GET", "/joint-cases")).cases;
    } catch (e) {
      return; // shown again on the next round
    }
    const list = $("joint-list");
    list.textContent = "";
    $("joint-empty").hidden = cases.length > 0;
    for (const c of cases) {
      const li = document.createElement("li");
      const progress = c.departments.map((d) => `${d.name}${d.done ? "✓" : "…"}`).join(" ");
      const text = document.createElement("span");
      text.textContent = `${c.number} · ${c.service_name} · 承诺 ${c.promised_date || "—"} · ${progress}`;
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "joint-done";
      btn.dataset.slip = c.number;
      btn.textContent = "本部门办结 / Our part done";
      btn.addEventListener("click", async () => {
        btn.disabled = true;
        try {
          const s = await api("POST", `/slips/${encodeURIComponent(c.number)}/parts`, {});
          info(`${s.number}：${s.status_name} / ${s.status_name_en}`);
        } catch (e) {
          error(`联办办结失败 Refused: ${e.message}`);
        }
        loadJoint();
      });
      li.append(text, " ", btn);
      list.append(li);
    }
  }

  async function finish() {
    const outcome = $("outcome").value;
    const args = { outcome };
    if (outcome === "joint") args.departments = [...$("departments").selectedOptions].map((o) => o.value);
    if (outcome === "report") args.authority = $("authority").value;
    if (outcome === "returned") args.reason = $("return-reason").value;
    const result = await act("finish", args);
    if (!result) return;
    if (outcome === "joint") loadJoint();
    const done = (result.events || []).find((e) => e.type === "ticket.finished");
    const slip = done && done.data.outcome && done.data.outcome.slip;
    const box = $("slip-result");
    box.hidden = false;
    if (slip) {
      box.textContent = `承诺单号 Slip no. ${slip} · 承诺办结日期 Promised date ${done.data.outcome.promised_date}`;
      $("slip-number").value = slip;
    } else if (outcome === "returned") {
      box.textContent = "退件已提交，待审批 / Return sent for approval";
    } else {
      box.textContent = "已办结 / Finished";
    }
  }

  const ACTIONS = {
    F1: () => act("call-next").then((r) => r && ($("slip-result").hidden = $("slip-printed").hidden = true)),
    F2: () => act("recall"),
    F3: () => act("skip"),
    F4: finish,
    F5: () => (st.status === "paused" ? act("resume") : act("pause", { reason: $("pause-reason").value })),
    F6: () => {
      $("transfer-reason").value = "";
      $("transfer-dialog").showModal();
    },
    F7: () => act("request-rating").then((r) => r && info("已请求评价 / Rating requested")),
  };
  const BUTTONS = { "btn-call-next": "F1", "btn-recall": "F2", "btn-skip": "F3", "btn-finish": "F4",
                    "btn-pause": "F5", "btn-transfer": "F6", "btn-rating": "F7" };
  for (const [id, key] of Object.entries(BUTTONS)) $(id).addEventListener("click", ACTIONS[key]);
  document.addEventListener("keydown", (ev) => {
    if (!ACTIONS[ev.key] || !session || $("panel").hidden) return;
    ev.preventDefault(); // F5 would reload, F1 open help
    if ($("transfer-dialog").open) return;
    ACTIONS[ev.key]();
  });

  $("call-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const number = $("call-number").value.trim().toUpperCase();
    if (number) act("call", { number }).then((r) => r && ($("call-number").value = ""));
  });

  $("transfer-dialog").addEventListener("close", () => {
    if ($("transfer-dialog").returnValue !== "ok") return;
    const args = { reason: $("transfer-reason").value };
    if ($("transfer-window").value) args.window = Number($("transfer-window").value);
    else if ($("transfer-service").value) args.service = $("transfer-service").value;
    act("transfer", args);
  });

  $("slip-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error("");
    const number = $("slip-number").value.trim();
    try {
      const s = await api("POST", `/slips/${encodeURIComponent(number)}/status`,
        { status: $("slip-status").value });
      $("slip-shown").textContent =
        `${s.number}：${s.status_name} ${s.status_name_en} · 承诺日期 ${s.promised_date || "—"}`;
    } catch (e) {
      error(`承诺单更新失败 Slip update refused: ${e.message}`);
    }
  });

  // --- start ------------------------------------------------------------------------------------
  showOutcomeFields();
  try {
    session = JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch (e) {
    session = null;
  }
  if (session && session.token) start();
  else showSignin();
})();
