/* The admin page (art. 6 动态管理): the running hall file in a text editor, 校验
 * (POST /api/v1/admin/config/check: ConfigError's key and reason, the change, what in today's
 * hall blocks it), 应用 (POST /api/v1/admin/config: validated, checked, written with a backup,
 * reloaded) and a quick-edit form for the common changes, whose TOML the hub writes
 * (POST /api/v1/admin/config/edit) so comments and layout stay. Signs in like the monitor
 * (the same session); a supervisor gets a read-only view. */
import { $, make, option, say } from "/shared/static/dom.js";
import { StaffSession, windowLabel } from "/shared/static/staff.js";

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: "需管理员或督查员账号 / an admin or supervisor account is needed",
  parts: ["admin", "who", "signout"],
  signedIn: start,
});
let running = null; // GET /admin/config: the file as it runs

// --- what the hub answered ------------------------------------------------------------------
function describe(summary) {
  const lines = [];
  const names = { departments: "部门 Departments", services: "事项 Items", windows: "窗口 Windows" };
  const hows = { added: "新增 added", removed: "删除 removed", changed: "修改 changed" };
  for (const section of ["departments", "services", "windows"]) {
    for (const [how, keys] of Object.entries((summary && summary[section]) || {})) {
      lines.push(`${names[section]} · ${hows[how]}: ${keys.join(", ")}`);
    }
  }
  if (summary && summary.sections && summary.sections.length) {
    lines.push(`其他 Other sections: ${summary.sections.join(", ")}`);
  }
  return lines;
}

function show(kind, title, lines) {
  const box = $("result");
  box.className = `result ${kind}`;
  const head = make("p", "", title);
  const list = make("ul");
  for (const line of lines) list.append(make("li", "", line));
  box.replaceChildren(head, ...(lines.length ? [list] : []));
}

function showProblems(problems) {
  show("bad", "配置有误，未应用 / The file has a problem: nothing applied",
    problems.map((p) => (p.key ? `${p.key}: ${p.reason}` : p.reason)));
}

// --- the running file -----------------------------------------------------------------------
function fillQuick() {
  const item = $("item-code").value;
  $("item-code").replaceChildren(...running.services.map((s) => option(s.code, `${s.code} ${s.name}`)));
  if (item) $("item-code").value = item;
  $("item-hours").replaceChildren(...running.hours.map((h) => option(h, h)));
  const win = $("window-no").value;
  $("window-no").replaceChildren(...running.windows.map((w) => option(w.no, windowLabel(w))));
  if (win) $("window-no").value = win;
  $("window-backup").replaceChildren(option("", "无 None"),
    ...running.windows.map((w) => option(w.no, windowLabel(w))));
  itemChosen();
  windowChosen();
}

function itemChosen() {
  const s = running.services.find((x) => x.code === $("item-code").value);
  if (!s) return;
  $("item-quota").value = String(s.daily_quota);
  $("item-hours").value = s.hours;
}

function windowChosen() {
  const w = running.windows.find((x) => String(x.no) === $("window-no").value);
  if (!w) return;
  $("window-services").value = w.services.join(", ");
  $("window-backup").value = w.backup === null ? "" : String(w.backup);
}

async function load() {
  running = await staff.api("GET", "/admin/config");
  $("toml").value = running.toml;
  $("path").textContent = running.path || "（未指定 none）";
  $("hash").textContent = running.hash || "-";
  $("mode").textContent = running.editable
    ? "可修改（管理员） Editable (admin)"
    : "只读 Read only" + (staff.session.role === "admin" ? "（文件不可写 file not writable）" : "（督查员 supervisor）");
  const last = running.last_reload;
  $("last").textContent = last
    ? `${last.at ? last.at.slice(0, 19).replace("T", " ") : ""} · ${last.ok ? "已应用 applied" : "被拒绝 refused"}`
      + (last.ok ? ` · ${last.text || ""}` : ` · ${last.error || ""}`)
    : "—";
  $("toml").readOnly = !running.editable;
  for (const id of ["apply", "revert"]) $(id).hidden = !running.editable;
  $("quick").hidden = !running.editable;
  if (running.editable) fillQuick();
}

// --- actions --------------------------------------------------------------------------------
async function check() {
  say("info", "");
  try {
    const r = await staff.api("POST", "/admin/config/check", { toml: $("toml").value });
    if (r.problems.length) showProblems(r.problems);
    else if (r.blocked.length) {
      show("bad", "当前不能应用（今日在办情况） / Cannot apply now (today's hall)", r.blocked);
    } else {
      const lines = describe(r.summary);
      show("good", lines.length ? "校验通过，可以应用 / Valid: ready to apply"
        : "校验通过，与运行中的配置相同 / Valid: same hall as running", lines);
    }
  } catch (e) {
    say("error", e.message);
  }
}

async function apply() {
  say("info", "");
  say("error", "");
  $("apply").disabled = true;
  try {
    const r = await staff.api("POST", "/admin/config", { toml: $("toml").value });
    const lines = describe(r.summary);
    if (r.backup) lines.push(`原文件已备份 Previous file kept: ${r.backup}`);
    show("good", r.applied ? "已应用，各屏幕与取号机将自动刷新 / Applied: screens and kiosks reload"
      : "已保存，大厅无变化 / Saved: nothing in the hall changed", lines);
    await load();
  } catch (e) {
    const data = e.data || {};
    if (data.problems) showProblems(data.problems);
    else show("bad", "未应用 / Not applied", [e.message]);
  } finally {
    $("apply").disabled = false;
  }
}

async function quickEdit(edit) {
  say("error", "");
  try {
    const r = await staff.api("POST", "/admin/config/edit", { toml: $("toml").value, edit });
    $("toml").value = r.toml;
    if (r.problems.length) showProblems(r.problems);
    else {
      show("good", "已生成修改，检查后点“应用” / Prepared: check the text, then Apply",
        describe(r.summary));
    }
  } catch (e) {
    show("bad", "无法生成修改 / Cannot prepare the change", [e.message]);
  }
}

$("check").addEventListener("click", check);
$("apply").addEventListener("click", apply);
$("revert").addEventListener("click", () => {
  $("toml").value = running ? running.toml : "";
  $("result").replaceChildren();
  $("result").className = "result";
});
$("item-code").addEventListener("change", itemChosen);
$("window-no").addEventListener("change", windowChosen);
$("item-form").addEventListener("submit", (e) => {
  e.preventDefault();
  quickEdit({ service: $("item-code").value, daily_quota: Number($("item-quota").value),
    hours: $("item-hours").value });
});
$("window-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const backup = $("window-backup").value;
  quickEdit({
    window: Number($("window-no").value),
    services: $("window-services").value.split(/[,，\s]+/).filter(Boolean),
    backup: backup ? Number(backup) : null,
  });
});

// --- signed in ------------------------------------------------------------------------------
async function start(session) {
  $("who").textContent = `${session.name || session.username} · ${session.role}`;
  try {
    await load();
  } catch (e) {
    if (staff.session) say("error", `无法读取配置 / cannot read the hall file: ${e.message}`);
  }
}

staff.resume();
