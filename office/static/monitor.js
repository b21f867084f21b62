/* 实时监控: the center office's live monitor. A supervisor signs in (POST /api/v1/login, no
 * window; token in sessionStorage), then the /monitor namespace sends a snapshot (windows,
 * waiting counts, returns, devices, alerts, totals) and every event after it. The page applies
 * events to that snapshot and never polls; on a reconnect the hub sends a fresh snapshot, which
 * replaces everything (the snapshot is the truth). Totals are pushed by the hub after each
 * commit rather than summed here, so they cannot drift.
 *
 * Actions: the scrolling notice (POST /notice), suspending or reopening an item
 * (POST /services/{code}/close|reopen), moving a clerk (POST /clerks/{username}/move), and
 * deciding a 退件 with the socket's `decide_return` event. */
(() => {
  "use strict";
  const KEY = "onestop.office.session";
  const C = JSON.parse(document.getElementById("catalogue").textContent);
  const $ = (id) => document.getElementById(id);
  let session = null; // {token, username, name, role}
  let socket = null;
  let lastSeq = -1;
  let firstSnapshot = true;
  const st = {
    windows: new Map(), // no -> {no, name, department, services, status, pause_reason, clerk, current}
    waiting: {},
    closed: {},
    notice: "",
    noticeEn: "",
    alerts: new Map(), // key -> {key, kind, since, message, message_en, window, fresh}
    devices: new Map(), // id -> {device, kind, window, windows, agent, status, detail, since}
    returns: new Map(), // ticket id -> {id, number, service, window, clerk, reason}
    totals: null,
  };

  const deptName = (code) => (C.departments.find((d) => d.code === code) || { name: code }).name;
  const svcName = (code) => (C.services[code] || { name: code }).name;
  const at = (iso) => Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  const two = (n) => String(n).padStart(2, "0");
  const mmss = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    return `${two(Math.floor(s / 60))}:${two(s % 60)}`;
  };
  // Times in the hall's own time zone, whatever the office PC's clock is set to.
  const hallTime = (opts) => {
    try {
      return new Intl.DateTimeFormat("zh-CN", { timeZone: C.center.timezone, hour12: false, ...opts });
    } catch (e) {
      return new Intl.DateTimeFormat("zh-CN", { hour12: false, ...opts });
    }
  };
  const HHMM = hallTime({ hour: "2-digit", minute: "2-digit" });
  const HHMMSS = hallTime({ hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const hhmm = (iso) => {
    const d = new Date(at(iso));
    return Number.isNaN(d.getTime()) ? "" : HHMM.format(d);
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bilingual(tag, className, zh, en) {
    const node = el(tag, className, zh);
    if (en) {
      const span = el("span", "en", ` ${en}`);
      span.lang = "en";
      node.append(span);
    }
    return node;
  }

  function error(text) {
    $("error").hidden = !text;
    $("error").textContent = text || "";
  }

  function info(text) {
    $("info").hidden = !text;
    $("info").textContent = text || "";
  }

  function conn(zh, en) {
    $("conn").replaceChildren(zh, " ");
    const span = el("span", "", en);
    span.lang = "en";
    $("conn").append(span);
  }

  const api = (method, path, body) => OnestopStaff.api(method, path, body,
    session && session.token, (msg) => signOut(`登录已失效，请重新登录 / ${msg}`));

  // --- sign-in --------------------------------------------------------------------------------
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    error("");
    try {
      const r = await api("POST", "/login", {
        username: $("username").value.trim(), password: $("password").value,
      });
      if (r.role === "clerk") throw new Error("实时监控需督查员账号 / a supervisor account is needed");
      $("password").value = "";
      session = OnestopStaff.saveSession(KEY, r);
      connect();
    } catch (err) {
      error(`登录失败 Sign-in failed: ${err.message}`);
    }
  });

  $("signout").addEventListener("click", async () => {
    try {
      await api("POST", "/logout");
    } catch (e) {
      /* signed out all the same */
    }
    signOut("");
  });

  function signOut(message) {
    session = null;
    sessionStorage.removeItem(KEY);
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
      socket = null;
    }
    $("monitor").hidden = true;
    $("offline").hidden = true;
    $("signout").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    conn("未登录", "Signed out");
    error(message);
  }

  function connect() {
    $("signin").hidden = true;
    $("monitor").hidden = false;
    $("signout").hidden = false;
    $("who").hidden = false;
    $("who").textContent = `${session.name || session.username}`;
    conn("连接中…", "Connecting…");
    firstSnapshot = true;
    socket = io("/monitor", {
      auth: { token: session.token }, transports: ["websocket"],
      reconnectionDelay: 500, reconnectionDelayMax: 3000, timeout: 5000,
    });
    socket.on("connect", () => {
      conn("已连接", "Online");
      $("offline").hidden = true;
    });
    socket.on("disconnect", () => {
      conn("离线 · 正在重新连接", "Offline · reconnecting");
      $("offline").hidden = false;
    });
    socket.on("connect_error", (err) => {
      const msg = (err && err.data && err.data.message) || String(err && err.message);
      if (!socket.active) signOut(`连接被拒绝，请重新登录 / ${msg}`);
      else {
        conn("离线 · 正在重新连接", "Offline · reconnecting");
        $("offline").hidden = false;
      }
    });
    socket.on("signed_out", (d) => signOut(d && d.reason === "session_ended"
      ? "已在别处登录 / signed in elsewhere" : "登录已失效，请重新登录 / please sign in again"));
    socket.on("snapshot", snapshot);
    socket.on("totals", (t) => {
      // Each hub of a pair pushes its own: never step back to an older one.
      if (st.totals && typeof t.seq === "number" && t.seq < st.totals.seq) return;
      st.totals = t;
      st.waiting = { ...t.waiting_by_service };
      render();
    });
    socket.on("event", (ev) => {
      if (typeof ev.seq === "number" && ev.seq <= lastSeq) return;
      if (typeof ev.seq === "number") lastSeq = ev.seq;
      apply(ev);
      render();
    });
  }

  // --- the state: a snapshot, then events -----------------------------------------------------
  function snapshot(snap) {
    lastSeq = snap.seq;
    OnestopStaff.followHubClock(snap);
    st.windows = new Map(snap.windows.map((w) => [w.no, {
      no: w.no, name: w.name, department: w.department.code, services: w.services,
      status: w.status, pause_reason: w.pause_reason, clerk: w.clerk,
      current: w.current ? { ...w.current } : null,
    }]));
    st.waiting = { ...snap.waiting };
    st.closed = { ...snap.closed_services };
    st.notice = snap.center.notice || "";
    st.noticeEn = snap.center.notice_en || "";
    const seen = new Set(st.alerts.keys());
    st.alerts = new Map((snap.alerts || []).map((a) => [a.key, {
      ...a, fresh: !firstSnapshot && !seen.has(a.key),
    }]));
    st.devices = new Map((snap.devices || []).map((d) => [d.device, d]));
    st.returns = new Map((snap.returns || []).map((t) => {
      const visit = (t.visits || [])[(t.visits || []).length - 1] || {};
      return [t.id, { id: t.id, number: t.number, service: t.service, window: visit.window,
                      clerk: visit.clerk || "", reason: (t.outcome && t.outcome.reason) || "" }];
    }));
    st.totals = snap.totals || null;
    firstSnapshot = false;
    renderServices(true);
    render();
  }

  function win(no) {
    return st.windows.get(no);
  }

  function apply(ev) {
    const d = ev.data || {};
    const w = d.window_no !== undefined ? win(d.window_no) : null;
    switch (ev.type) {
      case "ticket.called":
        if (w) w.current = { id: d.ticket_id, number: d.number, service: d.service, called_at: ev.at };
        break;
      case "ticket.return_requested":
        st.returns.set(d.ticket_id, {
          id: d.ticket_id, number: d.number, window: d.window_no, clerk: d.clerk,
          reason: d.reason, service: (w && w.current && w.current.service) || "",
        });
        if (w) w.current = null;
        break;
      case "ticket.no_show":
      case "ticket.transferred":
      case "ticket.finished":
        if (w && w.current && w.current.id === d.ticket_id) w.current = null;
        break;
      case "ticket.return_decided":
        st.returns.delete(d.ticket_id);
        break;
      case "window.signed_in":
        if (w) { w.status = "open"; w.pause_reason = null; w.clerk = { ...d.clerk }; }
        break;
      case "window.signed_out":
        if (w) { w.status = "closed"; w.pause_reason = null; w.clerk = null; w.current = null; }
        break;
      case "window.paused":
        if (w) { w.status = "paused"; w.pause_reason = d.reason; }
        break;
      case "window.resumed":
        if (w && w.clerk) { w.status = "open"; w.pause_reason = null; }
        break;
      case "day.rolled":
        for (const x of st.windows.values()) x.current = null;
        break;
      case "service.closed":
        st.closed[d.service] = d.reason;
        renderServices(true);
        break;
      case "service.reopened":
        delete st.closed[d.service];
        renderServices(true);
        break;
      case "notice.set":
        st.notice = d.text || "";
        st.noticeEn = d.text_en || "";
        break;
      case "device.state_changed":
        st.devices.set(d.device, {
          device: d.device, kind: d.kind, window: d.window_at, windows: d.windows_at || [],
          agent: d.agent, status: d.status, detail: d.detail || "", since: ev.at,
        });
        break;
      case "device.removed":
        st.devices.delete(d.device);
        break;
      case "alert.raised":
        st.alerts.set(d.key, {
          key: d.key, kind: d.kind, since: ev.at, message: d.message,
          message_en: d.message_en || "", window: d.window_at, service: d.service, fresh: true,
        });
        break;
      case "alert.cleared":
        st.alerts.delete(d.key);
        break;
      case "config.reloaded":
        // The hall file changed (items, windows): the page's catalogue is stale. Reload, a
        // little apart from the other pages; the session survives in sessionStorage.
        setTimeout(() => window.location.reload(), Math.random() * 3000);
        break;
      default:
        break;
    }
  }

  // --- drawing --------------------------------------------------------------------------------
  const STATUS = {
    open: ["服务中", "In service"], paused: ["暂停", "Paused"], closed: ["未开放", "Closed"],
  };
  const DEVICE_STATUS = { online: "在线 online", offline: "离线 offline", error: "故障 error" };

  function render() {
    renderWindows();
    renderAlerts();
    renderReturns();
    renderTotals();
    renderServices(false);
    renderMove();
    $("notice-now").textContent = st.notice + (st.noticeEn ? ` / ${st.noticeEn}` : "");
  }

  function waitingFor(services) {
    return services.reduce((n, code) => n + (st.waiting[code] || 0), 0);
  }

  function renderWindows() {
    const list = $("windows");
    const items = [];
    for (const w of st.windows.values()) {
      const li = el("li", `window status-${w.status}`);
      li.dataset.no = String(w.no);
      const head = el("div", "window-head");
      head.append(el("h3", "window-name", OnestopStaff.windowLabel(w)), el("span", "dept", deptName(w.department)));
      const [zh, en] = STATUS[w.status] || [w.status, ""];
      const badge = bilingual("p", `badge badge-${w.status}`, zh, en);
      if (w.status === "paused" && w.pause_reason) badge.append(`（${w.pause_reason}）`);
      const clerk = el("p", "clerk");
      clerk.textContent = w.clerk ? `${w.clerk.name} · 工号 ${w.clerk.staff_no}` : "无人登录 No clerk";
      const current = el("div", "current");
      if (w.current) {
        const num = el("span", "number", w.current.number);
        const svc = el("span", "service", svcName(w.current.service));
        const since = el("span", "serving-for", "");
        since.dataset.since = w.current.called_at || "";
        current.append(num, svc, since);
      } else {
        current.append(el("span", "idle", "当前无号 Idle"));
      }
      const foot = el("div", "window-foot");
      const waiting = el("p", "waiting", `等候 ${waitingFor(w.services)} 人`);
      waiting.append(bilingual("span", "", "", "waiting"));
      const dots = el("span", "devices");
      dots.setAttribute("role", "group");
      dots.setAttribute("aria-label", `${OnestopStaff.windowLabel(w)} 设备 Devices`);
      for (const dev of st.devices.values()) {
        // a slip printer serves every window in `windows` (its `window` is the first)
        if (dev.window !== w.no && !(dev.windows || []).includes(w.no)) continue;
        const dot = el("span", `dot dot-${dev.status}`);
        const label = `${dev.kind} ${dev.device}: ${DEVICE_STATUS[dev.status] || dev.status}`;
        dot.title = dev.detail ? `${label} (${dev.detail})` : label;
        dot.setAttribute("role", "img");
        dot.setAttribute("aria-label", dot.title);
        dots.append(dot);
      }
      if (!dots.children.length) dots.append(el("span", "no-devices", "无设备 No devices"));
      foot.append(waiting, dots);
      li.append(head, badge, clerk, current, foot);
      items.push(li);
    }
    list.replaceChildren(...items);
    tick();
  }

  function tick() {
    $("clock").textContent = HHMMSS.format(new Date(OnestopStaff.hubNow()));
    for (const span of document.querySelectorAll(".serving-for")) {
      const since = at(span.dataset.since);
      span.textContent = Number.isNaN(since) ? "" : `已办理 ${mmss(OnestopStaff.hubNow() - since)}`;
    }
  }

  // Alerts keep their elements while they hold, so a new one flashes and the others do not
  // start flashing again at every event.
  const alertNodes = new Map();

  function alertItem(a) {
    const li = el("li", `alert alert-${a.kind}${a.fresh ? " flash" : ""}`);
    li.dataset.key = a.key;
    const when = el("time", "since", hhmm(a.since));
    when.dateTime = a.since;
    li.append(when, el("span", "message", a.message));
    if (a.message_en) {
      const en = el("span", "en message-en", a.message_en);
      en.lang = "en";
      li.append(en);
    }
    return li;
  }

  function renderAlerts() {
    const alerts = [...st.alerts.values()].sort((a, b) => at(b.since) - at(a.since)
      || a.key.localeCompare(b.key));
    const keys = alerts.map((a) => a.key).join("\n");
    const list = $("alerts");
    if (list.dataset.keys !== keys || list.children.length !== alerts.length) {
      list.dataset.keys = keys;
      const nodes = alerts.map((a) => alertNodes.get(a.key) || alertItem(a));
      alertNodes.clear();
      alerts.forEach((a, i) => alertNodes.set(a.key, nodes[i]));
      list.replaceChildren(...nodes);
    }
    for (const a of alerts) a.fresh = false;
    $("alert-count").textContent = String(alerts.length);
    $("alerts-empty").hidden = alerts.length > 0;
  }

  function renderReturns() {
    const list = $("returns");
    const returns = [...st.returns.values()];
    // Keep a half-typed note: redraw only when the set of returns changed.
    const ids = returns.map((t) => t.id).join(",");
    if (list.dataset.ids !== ids) {
      list.dataset.ids = ids;
      list.replaceChildren(...returns.map(returnItem));
    }
    $("return-count").textContent = String(returns.length);
    $("returns-empty").hidden = returns.length > 0;
  }

  function returnItem(t) {
    const li = el("li", "return");
    li.dataset.id = t.id;
    const head = el("p", "return-head");
    head.append(el("strong", "number", t.number), ` ${svcName(t.service)}`,
                ` · ${t.window ? `${t.window}号窗口` : ""} · ${t.clerk || ""}`);
    const reason = el("p", "reason", `原因 Reason：${t.reason}`);
    const note = el("input", "note");
    note.placeholder = "意见 Note";
    note.setAttribute("aria-label", `${t.number} 审批意见 Note`);
    const approve = bilingual("button", "primary approve", "批准", "Approve");
    approve.type = "button";
    approve.onclick = () => decide(t.id, true, note.value, approve);
    const refuse = bilingual("button", "refuse", "驳回", "Refuse");
    refuse.type = "button";
    refuse.onclick = () => decide(t.id, false, note.value, refuse);
    const row = el("div", "buttons");
    row.append(note, approve, refuse);
    li.append(head, reason, row);
    return li;
  }

  function decide(id, approve, note, button) {
    if (!socket) return;
    button.disabled = true;
    socket.timeout(5000).emit("decide_return", { ticket_id: id, approve, note }, (err, res) => {
      button.disabled = false;
      if (err) error("未收到答复，请重试 / no answer: try again");
      else if (!res.ok) error(res.error.message);
      else {
        error("");
        info(approve ? "已批准退件 / Return approved" : "已驳回退件 / Return refused");
      }
    });
  }

  function renderTotals() {
    const t = st.totals;
    if (!t) return;
    $("t-issued").textContent = String(t.issued);
    $("t-served").textContent = String(t.served);
    $("t-serving").textContent = String(t.serving);
    $("t-waiting").textContent = String(t.waiting);
    $("t-no-shows").textContent = String(t.no_shows);
    $("t-ratings").textContent = String(t.ratings);
    $("t-satisfaction").textContent =
      t.satisfaction === null || t.satisfaction === undefined ? "—" : `${(t.satisfaction * 100).toFixed(1)}%`;
    $("t-complaints").textContent = String(t.complaints);
  }

  // The item table keeps its inputs: rows are built once per change of the closed set, and
  // only the counts are refreshed on every event.
  function renderServices(rebuild) {
    const body = $("services").tBodies[0];
    if (rebuild || !body.rows.length) {
      body.replaceChildren();
      for (const [code, svc] of Object.entries(C.services)) {
        const row = body.insertRow();
        row.dataset.code = code;
        const name = row.insertCell();
        name.append(svc.name);
        if (svc.name_en) {
          const en = el("span", "en", ` ${svc.name_en}`);
          en.lang = "en";
          name.append(en);
        }
        row.insertCell().className = "count";
        const status = row.insertCell();
        const action = row.insertCell();
        if (code in st.closed) {
          status.append(bilingual("span", "svc-closed", `暂停受理：${st.closed[code]}`, "Suspended"));
          const reopen = bilingual("button", "reopen", "恢复受理", "Reopen");
          reopen.type = "button";
          reopen.onclick = () => act(`/services/${encodeURIComponent(code)}/reopen`, {},
                                     `已恢复受理 ${svc.name} / reopened`);
          action.append(reopen);
        } else {
          status.append(bilingual("span", "svc-open", "受理中", "Open"));
          const reason = el("input", "close-reason");
          reason.placeholder = "暂停原因 Reason";
          reason.setAttribute("aria-label", `${svc.name} 暂停原因 Reason`);
          const close = bilingual("button", "close", "暂停受理", "Suspend");
          close.type = "button";
          close.onclick = () => {
            if (!reason.value.trim()) {
              error("请填写暂停原因 / give a reason");
              reason.focus();
              return;
            }
            act(`/services/${encodeURIComponent(code)}/close`, { reason: reason.value.trim() },
                `已暂停受理 ${svc.name} / suspended`);
          };
          action.append(reason, close);
        }
      }
    }
    for (const row of body.rows) {
      row.cells[1].textContent = String(st.waiting[row.dataset.code] || 0);
    }
  }

  function option(value, text) {
    const o = el("option", "", text);
    o.value = String(value);
    return o;
  }

  function renderMove() {
    const clerks = [...st.windows.values()].filter((w) => w.clerk && w.clerk.username);
    const free = [...st.windows.values()].filter((w) => !w.clerk);
    const key = JSON.stringify([clerks.map((w) => [w.no, w.clerk.username]), free.map((w) => w.no)]);
    if ($("move-form").dataset.key === key) return; // keep the supervisor's choice
    $("move-form").dataset.key = key;
    const pick = $("move-clerk").value;
    const to = $("move-window").value;
    $("move-clerk").replaceChildren(...clerks.map((w) => option(
      w.clerk.username, `${w.clerk.name}（${w.clerk.staff_no}）· ${OnestopStaff.windowLabel(w)}`)));
    $("move-window").replaceChildren(...free.map((w) => option(w.no, `${OnestopStaff.windowLabel(w)} ${deptName(w.department)}`)));
    if ([...$("move-clerk").options].some((o) => o.value === pick)) $("move-clerk").value = pick;
    if ([...$("move-window").options].some((o) => o.value === to)) $("move-window").value = to;
  }

  async function act(path, body, done) {
    try {
      await api("POST", path, body);
      error("");
      info(done);
    } catch (e) {
      error(e.message);
    }
  }

  $("notice-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("notice-text").value.trim();
    if (!text) {
      error("请填写公告内容 / write the notice");
      return;
    }
    act("/notice", { text, text_en: $("notice-text-en").value.trim() }, "公告已发布 / Notice set");
  });

  $("notice-reset").addEventListener("click", () => {
    act("/notice", { text: "" }, "已恢复默认公告 / Notice reset");
  });

  $("move-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const username = $("move-clerk").value;
    const to = Number($("move-window").value);
    if (!username || !to) {
      error("请选择工作人员和空闲窗口 / choose a clerk and a free window");
      return;
    }
    act(`/clerks/${encodeURIComponent(username)}/move`, { window: to },
        `已调至${to}号窗口 / moved to window ${to}`);
  });

  setInterval(tick, 1000); // the clock and the "served for" timers only: state comes by push

  session = OnestopStaff.loadSession(KEY);
  if (session) connect();
})();
