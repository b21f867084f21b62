/* One case on the casework page: its facts, its timeline (every step: who, when, what, with its
 * text attachments) and the actions its status allows, as forms (POST
 * /api/v1/cases/{id}/steps). Deciding an appeal is a supervisor's; the hub refuses the rest of
 * what is not allowed, and the page says why. */
import { catalogue, serviceName } from "/shared/static/catalogue.js";
import { ACTIONS, CHANNELS, FIELDS, KINDS, SOURCES, VERDICTS, attachments, isOverdue, nextDue, shortAt,
  statusWords, word, words } from "/shared/static/casework.js";
import { $, bilingual, en, make, say } from "/shared/static/dom.js";
import { N_, joined, spaced, t, t2 } from "/shared/static/i18n.js";

// The actions each status allows (the hub's rules; docs/events.md).
const ALLOWED = {
  pending: ["callback"],
  called_back: ["rectify", "close"],
  rectifying: ["rectified"],
  rectified: ["close"],
  appealing: ["decide_appeal"],
};
const FORMS = ["callback", "rectify", "rectified", "close", "decide_appeal"];

export const d = { id: null, view: null, token: 0 };

function fact(list, key, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = make("dt");
  dt.append(t(key), " ", en(t2(key)));
  const dd = make("dd");
  if (Array.isArray(value)) bilingual(dd, ...value);
  else dd.textContent = String(value);
  list.append(dt, dd);
}

/** A complaint category by the hall file's name (its code if the file no longer has it). */
function categoryName(code) {
  const found = (catalogue.complaint_categories || []).find((x) => x.code === code);
  return found ? [found.name, found.name_en] : [code, ""];
}

function facts(c) {
  const list = $("d-facts");
  list.replaceChildren();
  fact(list, N_("office.cases.kind"), words(KINDS, c.kind));
  fact(list, N_("office.cases.source"), words(c.channel ? CHANNELS : SOURCES, c.channel || c.source));
  fact(list, N_("office.cases.opened"), shortAt(c.opened_at));
  fact(list, N_("office.cases.window"), c.window_no ? t("common.window", { no: c.window_no }) : null);
  fact(list, N_("office.cases.clerk"), c.clerk ? `${c.clerk_name || c.clerk}（${c.staff_no || c.clerk}）` : null);
  fact(list, N_("office.cases.ticket"), c.number ? `${c.number}${c.service ? ` · ${serviceName(c.service)}` : ""}` : null);
  fact(list, N_("office.cases.level"), c.level ? spaced(`rating.level.${c.level}`) : null);
  fact(list, N_("office.cases.reason"), c.reason);
  fact(list, N_("office.cases.category"), c.category ? categoryName(c.category) : null);
  fact(list, N_("office.cases.summary"), c.summary);
  fact(list, N_("office.cases.contact"), c.contact); // the office's only: never on the panel
  fact(list, N_("office.cases.callback_due"), c.callback_due);
  fact(list, N_("office.cases.rectify_due"), c.rectify_due);
  fact(list, N_("office.cases.verdict"), c.verdict ? words(VERDICTS, c.verdict) : null);
  const next = nextDue(c);
  if (next && isOverdue(c)) {
    fact(list, N_("casework.overdue"), [t("office.cases.overdue_since", { due: next.due }),
      t2("office.cases.overdue_since", { due: next.due })]);
  }
}

function fieldText(name, value) {
  if (name === "verdict") return word(VERDICTS, value);
  if (name === "reached" || name === "upheld") return value ? spaced("office.cases.yes") : spaced("office.cases.no");
  return String(value);
}

function step(s) {
  const li = make("li", `step step-${s.action}`);
  const head = make("p", "step-head");
  const when = make("time", "at", shortAt(s.at));
  when.dateTime = s.at || "";
  head.append(when, " ", bilingual(make("strong", "action"), ...words(ACTIONS, s.action)));
  if (s.status) head.append(" → ", bilingual(make("span", `status status-${s.status}`), ...statusWords(s.status)));
  head.append(" · ", make("span", "by", s.by_name || s.by || "—"));
  li.append(head);
  const data = s.data || s; // the hub gives a step's fields beside its envelope
  const list = make("dl", "step-data");
  for (const [name, key] of Object.entries(FIELDS)) {
    if (data[name] === undefined || data[name] === null || data[name] === "") continue;
    const dt = make("dt");
    dt.append(t(key), " ", en(t2(key)));
    list.append(dt, make("dd", "", fieldText(name, data[name])));
  }
  if (list.children.length) li.append(list);
  const files = data.attachments || [];
  if (files.length) {
    const box = make("div", "attachments");
    box.append(bilingual(make("p", "attachments-title"), t("office.cases.attachments_n", { n: files.length }),
                         t2("office.cases.attachments_n", { n: files.length })));
    const ul = make("ul");
    for (const text of files) ul.append(make("li", "attachment", text));
    box.append(ul);
    li.append(box);
  }
  return li;
}

function actions(c, role) {
  const allowed = c.actions || ALLOWED[c.status] || [];
  let shown = 0;
  for (const action of FORMS) {
    const ok = allowed.includes(action) && (action !== "decide_appeal" || role === "supervisor");
    $(`act-${action}`).hidden = !ok;
    if (ok) shown += 1;
  }
  // 办结 after a rectification finds the 差评 founded; straight after the callback, unfounded.
  const base = c.status === "appealing" ? c.resumed : c.status;
  const verdict = base === "called_back" ? "unfounded" : "founded";
  for (const o of $("close-verdict").options) o.disabled = o.value !== verdict;
  $("close-verdict").value = verdict;
  $("no-actions").hidden = shown > 0;
  $("attachments-hint").hidden = shown === 0;
}

/** Show case `view` ({case, steps}) as the hub sent it. */
export function show(view, role) {
  d.view = view;
  const c = view.case;
  d.id = c.case_id;
  $("detail").hidden = false;
  $("d-id").textContent = c.case_id;
  bilingual($("d-status"), ...statusWords(c.status)).className = `status status-${c.status}`;
  facts(c);
  // The opening is the case's first line: when, from where, by whom (a step of its own).
  const opened = { at: c.opened_at, action: "open", status: "pending",
                   by: c.opened_by || word(c.channel ? CHANNELS : SOURCES, c.channel || c.source) };
  $("timeline").replaceChildren(...[opened, ...(view.steps || [])].map(step));
  actions(c, role);
}

/** Read case `id` and show it; a later call wins over an earlier one still on its way. */
export async function load(staff, id) {
  const mine = ++d.token;
  const view = await staff.api("GET", `/cases/${encodeURIComponent(id)}`);
  if (mine === d.token) show(view, staff.session.role);
  return view;
}

function body(form) {
  const action = form.dataset.action;
  const out = { action };
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.name === "attachments") out.attachments = attachments(el.value);
    else if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.name === "upheld") out.upheld = el.value === "true";
    else out[el.name] = el.value.trim();
  }
  return out;
}

/** The action forms: each posts its step for the case shown; the answer is the case as now. */
export function wireActions(staff, stepped) {
  for (const action of FORMS) {
    const form = $(`act-${action}`);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!d.id) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const view = await staff.api("POST", `/cases/${encodeURIComponent(d.id)}/steps`, body(form));
        form.reset();
        say("error", "");
        say("info", joined("office.cases.step_recorded", { case_id: view.case.case_id }));
        show(view, staff.session.role);
        stepped(view.case);
      } catch (e) {
        say("info", "");
        say("error", e.message);
      } finally {
        button.disabled = false;
      }
    });
  }
}
