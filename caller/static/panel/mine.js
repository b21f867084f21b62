/* 关于我的差评与投诉: the cases naming the signed-in clerk (GET /api/v1/my/cases), read-only, with
 * an appeal (申诉复核) the clerk may file against a 差评 or complaint they think mistaken or
 * malicious (POST /api/v1/cases/{id}/steps, action `appeal`, with the grounds). Read again when
 * the panel connects and on every case.* event the hub sends this clerk over /caller. A form
 * being written is kept: the list is drawn again only when what it shows changed. */
import { KINDS, appealable, shortAt, statusWords, words } from "/shared/static/casework.js";
import { $, bilingual, en, make, say } from "/shared/static/dom.js";
import { N_, joined, spaced, t, t2 } from "/shared/static/i18n.js";

let shown = "";
let reading = 0;

export async function loadMine(staff) {
  if (!staff.session) return;
  const mine = ++reading;
  let cases;
  try {
    cases = (await staff.api("GET", "/my/cases")).cases || [];
  } catch (e) {
    return; // read again on the next case event or reconnect
  }
  if (mine !== reading) return;
  const key = JSON.stringify(cases.map((c) => [c.case_id, c.status, c.appeal, c.updated_at]));
  if (key === shown) return;
  shown = key;
  $("mine-list").replaceChildren(...cases.map((c) => item(staff, c)));
  $("mine-empty").hidden = cases.length > 0;
}

function line(c) {
  const p = make("p", "mine-head");
  p.append(make("strong", "case-id", c.case_id), " ",
    bilingual(make("span", `status status-${c.status}`), ...statusWords(c.status)), " · ",
    bilingual(make("span", "kind"), ...words(KINDS, c.kind)), ` · ${shortAt(c.opened_at)}`);
  return p;
}

function appealState(c) {
  if (!c.appeal) return null;
  const key = { appealing: N_("caller.mine.appeal_waiting"), upheld: N_("caller.mine.appeal_upheld"),
                rejected: N_("caller.mine.appeal_rejected") }[c.appeal];
  return key ? bilingual(make("p", `appeal appeal-${c.appeal}`), t(key), t2(key)) : null;
}

function appealForm(staff, c) {
  const form = make("form", "appeal-form");
  const id = `grounds-${c.case_id}`;
  const label = make("label");
  label.htmlFor = id;
  label.append(t("caller.mine.grounds"), " ", en(t2("caller.mine.grounds")));
  const grounds = make("textarea");
  grounds.id = id;
  grounds.name = "grounds";
  grounds.rows = 2;
  grounds.maxLength = 2000;
  grounds.required = true;
  const button = bilingual(make("button", "appeal-button"), t("caller.mine.file_appeal"),
                           t2("caller.mine.file_appeal"));
  button.type = "submit";
  form.append(label, grounds, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      await staff.api("POST", `/cases/${encodeURIComponent(c.case_id)}/steps`,
        { action: "appeal", grounds: grounds.value.trim() });
      say("error", "");
      say("info", joined("caller.mine.appeal_filed", { case_id: c.case_id }));
      loadMine(staff);
    } catch (e) {
      say("error", spaced("caller.refused", { message: e.message }));
      button.disabled = false;
    }
  });
  return form;
}

function item(staff, c) {
  const li = make("li", "mine-case");
  li.dataset.id = c.case_id;
  li.append(line(c));
  const about = [c.number, c.reason, c.summary].filter(Boolean).join(" · ");
  if (about) li.append(make("p", "about", about));
  const state = appealState(c);
  if (state) li.append(state);
  if (appealable(c)) li.append(appealForm(staff, c));
  return li;
}
