/* The admin page (art. 6 动态管理): the running hall file in a text editor, 校验
 * (POST /api/v1/admin/config/check: ConfigError's key and reason, the change, what in today's
 * hall blocks it), 应用 (POST /api/v1/admin/config: validated, checked, written with a backup,
 * reloaded) and a quick-edit form for the common changes, whose TOML the hub writes
 * (POST /api/v1/admin/config/edit) so comments and layout stay. Signs in like the monitor
 * (the same session); a supervisor gets a read-only view. */
import { $, make, option, say } from "/shared/static/dom.js";
import { StaffSession, windowLabel } from "/shared/static/staff.js";
import { joined, spaced } from "/shared/static/i18n.js";

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.admin_supervisor_account_needed"),
  parts: ["admin", "who", "signout"],
  signedIn: start,
});
let running = null; // GET /admin/config: the file as it runs

// --- what the hub answered ------------------------------------------------------------------
function describe(summary) {
  const lines = [];
  const names = { departments: spaced("office.departments"), services: spaced("office.items"), windows: spaced("office.windows") };
  const hows = { added: spaced("office.added"), removed: spaced("office.removed"), changed: spaced("office.changed") };
  for (const section of ["departments", "services", "windows"]) {
    for (const [how, keys] of Object.entries((summary && summary[section]) || {})) {
      lines.push(`${names[section]} · ${hows[how]}: ${keys.join(", ")}`);
    }
  }
  if (summary && summary.sections && summary.sections.length) {
    lines.push(spaced("office.other_sections", { sections: summary.sections.join(", ") }));
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
  show("bad", joined("office.file_has_problem_nothing"),
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
  $("window-backup").replaceChildren(option("", spaced("office.none")),
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
  $("path").textContent = running.path || `（${spaced("office.path_none")}）`;
  $("hash").textContent = running.hash || "-";
  $("mode").textContent = running.editable
    ? spaced("office.editable_admin")
    : spaced("office.read_only") + (staff.session.role === "admin" ? `（${spaced("office.file_not_writable")}）` : `（${spaced("office.supervisor")}）`);
  const last = running.last_reload;
  $("last").textContent = last
    ? `${last.at ? last.at.slice(0, 19).replace("T", " ") : ""} · ${last.ok ? spaced("office.applied_lower") : spaced("office.refused_lower")}`
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
      show("bad", joined("office.cannot_apply_now_today"), r.blocked);
    } else {
      const lines = describe(r.summary);
      show("good", lines.length ? joined("office.valid_ready_apply")
        : joined("office.valid_same_hall_as"), lines);
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
    if (r.backup) lines.push(spaced("office.previous_file_kept", { backup: r.backup }));
    show("good", r.applied ? joined("office.applied_screens_kiosks_reload")
      : joined("office.saved_nothing_in_hall"), lines);
    await load();
  } catch (e) {
    const data = e.data || {};
    if (data.problems) showProblems(data.problems);
    else show("bad", joined("office.not_applied"), [e.message]);
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
      show("good", joined("office.prepared_check_text_then"),
        describe(r.summary));
    }
  } catch (e) {
    show("bad", joined("office.cannot_prepare_change"), [e.message]);
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
    if (staff.session) say("error", joined("office.cannot_read_hall_file", { message: e.message }));
  }
}

staff.resume();
