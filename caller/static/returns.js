/* 退件审批: a supervisor's queue of returns awaiting consent (art. 4(5)). Signs in with
 * POST /api/v1/login (token in sessionStorage), lists GET /api/v1/returns, refreshes it on the
 * /monitor namespace's return events, and approves or refuses with a note. */
(() => {
  "use strict";
  const KEY = "onestop.returns.session";
  const catalogue = JSON.parse(document.getElementById("catalogue").textContent);
  const $ = (id) => document.getElementById(id);
  let token = (OnestopStaff.loadSession(KEY) || { token: "" }).token;
  let socket = null;

  function error(text) {
    $("error").hidden = !text;
    $("error").textContent = text || "";
  }

  const api = (method, path, body) => OnestopStaff.api(method, path, body, token);

  function cell(row, text) {
    const td = row.insertCell();
    td.textContent = text;
    return td;
  }

  function render(returns) {
    const body = $("returns").tBodies[0];
    body.replaceChildren();
    for (const t of returns) {
      const row = body.insertRow();
      const visit = (t.visits || [])[t.visits.length - 1] || {};
      const svc = catalogue.services[t.service] || { name: t.service };
      cell(row, t.number);
      cell(row, svc.name);
      cell(row, visit.window ? `${visit.window}号窗口` : "");
      cell(row, visit.clerk || "");
      cell(row, (t.outcome && t.outcome.reason) || "");
      const td = row.insertCell();
      const note = document.createElement("input");
      note.placeholder = "意见 Note";
      note.setAttribute("aria-label", `${t.number} 审批意见 Note`);
      const approve = document.createElement("button");
      approve.textContent = "批准 Approve";
      approve.className = "primary";
      approve.onclick = () => decide(t.id, "approve", note.value);
      const refuse = document.createElement("button");
      refuse.textContent = "驳回 Refuse";
      refuse.onclick = () => decide(t.id, "refuse", note.value);
      td.append(note, approve, refuse);
    }
    $("count").textContent = String(returns.length);
    $("empty").hidden = returns.length > 0;
  }

  async function refresh() {
    try {
      render((await api("GET", "/returns")).returns);
      error("");
    } catch (e) {
      error(`无法读取退件 / cannot read returns: ${e.message}`);
    }
  }

  async function decide(id, decision, note) {
    try {
      await api("POST", `/returns/${encodeURIComponent(id)}/${decision}`, { note });
      await refresh();
    } catch (e) {
      error(e.message);
    }
  }

  function connect() {
    $("signin").hidden = true;
    $("queue").hidden = false;
    socket = io("/monitor", { auth: { token }, transports: ["websocket"] });
    socket.on("connect", () => { $("conn").textContent = "已连接 Connected"; });
    socket.on("disconnect", () => { $("conn").textContent = "离线 Offline"; });
    socket.on("connect_error", () => {
      if (!socket.active) signOut("登录已失效，请重新登录 / please sign in again");
    });
    socket.on("signed_out", () => signOut("已在别处登录 / signed in elsewhere"));
    socket.on("snapshot", (snap) => render(snap.returns || []));
    socket.on("event", (ev) => {
      if (ev.type === "ticket.return_requested" || ev.type === "ticket.return_decided") refresh();
    });
  }

  function signOut(message) {
    token = "";
    sessionStorage.removeItem(KEY);
    if (socket) socket.disconnect();
    $("queue").hidden = true;
    $("signin").hidden = false;
    error(message);
  }

  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await fetch("/api/v1/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: $("username").value, password: $("password").value }),
      });
      const data = await r.json();
      if (!r.ok) throw new Error(data.error.message);
      if (data.role === "clerk") throw new Error("退件审批需督查员账号 / a supervisor account is needed");
      token = OnestopStaff.saveSession(KEY, data).token;
      error("");
      connect();
    } catch (err) {
      error(err.message);
    }
  });

  if (token) connect();
})();
