/* The live monitor's actions on the hall: the scrolling notice (POST /notice), suspending or
 * reopening an item (POST /services/{code}/close|reopen) in the item table, and moving a clerk
 * to a free window (POST /clerks/{username}/move). What they change comes back as events. */
import { catalogue, department } from "/shared/static/catalogue.js";
import { $, bilingual, en, make, option, say } from "/shared/static/dom.js";
import { windowLabel } from "/shared/static/staff.js";
import { st } from "./state.js";

async function act(staff, path, body, done) {
  try {
    await staff.api("POST", path, body);
    say("error", "");
    say("info", done);
  } catch (e) {
    say("error", e.message);
  }
}

function serviceRow(staff, body, code, svc) {
  const row = body.insertRow();
  row.dataset.code = code;
  const name = row.insertCell();
  name.append(svc.name);
  if (svc.name_en) name.append(en(` ${svc.name_en}`));
  row.insertCell().className = "count";
  const status = row.insertCell();
  const action = row.insertCell();
  if (code in st.closed) {
    status.append(bilingual(make("span", "svc-closed"), `暂停受理：${st.closed[code]}`, "Suspended"));
    const reopen = bilingual(make("button", "reopen"), "恢复受理", "Reopen");
    reopen.type = "button";
    reopen.onclick = () => act(staff, `/services/${encodeURIComponent(code)}/reopen`, {},
                               `已恢复受理 ${svc.name} / reopened`);
    action.append(reopen);
    return;
  }
  status.append(bilingual(make("span", "svc-open"), "受理中", "Open"));
  const reason = make("input", "close-reason");
  reason.placeholder = "暂停原因 Reason";
  reason.setAttribute("aria-label", `${svc.name} 暂停原因 Reason`);
  const close = bilingual(make("button", "close"), "暂停受理", "Suspend");
  close.type = "button";
  close.onclick = () => {
    if (!reason.value.trim()) {
      say("error", "请填写暂停原因 / give a reason");
      reason.focus();
      return;
    }
    act(staff, `/services/${encodeURIComponent(code)}/close`, { reason: reason.value.trim() },
        `已暂停受理 ${svc.name} / suspended`);
  };
  action.append(reason, close);
}

/** The item table keeps its inputs: rows are built again only when the closed set changed
 * (`rebuild`), and only the counts are refreshed on every event. */
export function renderServices(staff, rebuild) {
  const body = $("services").tBodies[0];
  if (rebuild || !body.rows.length) {
    body.replaceChildren();
    for (const [code, svc] of Object.entries(catalogue.services)) serviceRow(staff, body, code, svc);
  }
  for (const row of body.rows) {
    row.cells[1].textContent = String(st.waiting[row.dataset.code] || 0);
  }
}

export function renderMove() {
  const clerks = [...st.windows.values()].filter((w) => w.clerk && w.clerk.username);
  const free = [...st.windows.values()].filter((w) => !w.clerk);
  const key = JSON.stringify([clerks.map((w) => [w.no, w.clerk.username]), free.map((w) => w.no)]);
  if ($("move-form").dataset.key === key) return; // keep the supervisor's choice
  $("move-form").dataset.key = key;
  const pick = $("move-clerk").value;
  const to = $("move-window").value;
  $("move-clerk").replaceChildren(...clerks.map((w) => option(
    w.clerk.username, `${w.clerk.name}（${w.clerk.staff_no}）· ${windowLabel(w)}`)));
  $("move-window").replaceChildren(...free.map((w) => option(w.no,
    `${windowLabel(w)} ${department(w.department).name}`)));
  if ([...$("move-clerk").options].some((o) => o.value === pick)) $("move-clerk").value = pick;
  if ([...$("move-window").options].some((o) => o.value === to)) $("move-window").value = to;
}

export function wireActions(staff) {
  $("notice-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("notice-text").value.trim();
    if (!text) {
      say("error", "请填写公告内容 / write the notice");
      return;
    }
    act(staff, "/notice", { text, text_en: $("notice-text-en").value.trim() }, "公告已发布 / Notice set");
  });

  $("notice-reset").addEventListener("click", () => {
    act(staff, "/notice", { text: "" }, "已恢复默认公告 / Notice reset");
  });

  $("move-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const username = $("move-clerk").value;
    const to = Number($("move-window").value);
    if (!username || !to) {
      say("error", "请选择工作人员和空闲窗口 / choose a clerk and a free window");
      return;
    }
    act(staff, `/clerks/${encodeURIComponent(username)}/move`, { window: to },
        `已调至${to}号窗口 / moved to window ${to}`);
  });
}
