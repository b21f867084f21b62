/* 效能记录: the office's staff pages. `/office/staff` lists the staff with their efficiency
 * records (批评教育, 通报批评, 效能告诫) counted and whether a 效能告诫 keeps them out of this
 * year's 评先评优 (GET /api/v1/staff); `/office/staff/<username>` shows one member's records
 * (GET /api/v1/staff/{username}/records), a supervisor's form to add one, and the cases naming
 * them (GET /api/v1/cases?clerk=). Live over /monitor: a record or case event about them reads
 * the page's lists again. */
import { readJson } from "/shared/static/catalogue.js";
import { KINDS, hallToday, shortAt, statusWords, word } from "/shared/static/casework.js";
import { $, bilingual, make, say } from "/shared/static/dom.js";
import { StaffSession } from "/shared/static/staff.js";
import { N_, joined, t, t2 } from "/shared/static/i18n.js";

const member = readJson("member");
const RECORDS = ["criticism", "notice", "warning"];
const RECORD_KEYS = {
  criticism: N_("casework.record.criticism"),
  notice: N_("casework.record.notice"),
  warning: N_("casework.record.warning"),
};
const ROLE_KEYS = {
  clerk: N_("office.staff_page.role_clerk"),
  supervisor: N_("office.staff_page.role_supervisor"),
  admin: N_("office.staff_page.role_admin"),
};

const staff = new StaffSession({
  key: "onestop.office.session",
  wrongRole: joined("office.supervisor_account_needed"),
  parts: ["staff", "signout", "who"],
  signedIn: start,
});
const failed = (e) => say("error", e.message);
const href = (username) => `/office/staff/${encodeURIComponent(username)}`;
const counts = (s) => s.records || {};
const excluded = (s) => !!s.excluded;
/** 评先评优 in `year`: [Chinese, English] of out (a 效能告诫 that year) or not. */
const award = (out, year) => (out
  ? [t("office.staff_page.excluded", { year }), t2("office.staff_page.excluded", { year })]
  : [t("office.staff_page.eligible", { year }), t2("office.staff_page.eligible", { year })]);

function start(session) {
  $("who").textContent = `${session.name || session.username}`;
  if (member) $("record-form").hidden = session.role !== "supervisor";
  staff.connect("/monitor", {
    snapshot: () => refresh(),
    event: (ev) => {
      const d = ev.data || {};
      if (ev.type.startsWith("staff.") && (!member || d.username === member)) refresh();
      else if (ev.type.startsWith("case.") && member) refresh();
    },
  });
}

function refresh() {
  (member ? loadMember() : loadList()).catch(failed);
}

// --- the list -----------------------------------------------------------------------------

function awardCell(cell, s) {
  bilingual(cell, ...award(excluded(s), listYear));
  cell.className = excluded(s) ? "excluded" : "eligible";
}

let listYear = null;

async function loadList() {
  const found = await staff.api("GET", "/staff");
  listYear = found.year;
  const body = $("staff-table").tBodies[0];
  body.replaceChildren();
  for (const s of found.staff || []) {
    const row = body.insertRow();
    row.dataset.username = s.username;
    const name = make("th");
    name.scope = "row";
    const link = make("a", "", s.name || s.username);
    link.href = href(s.username);
    name.append(link);
    row.append(name);
    row.insertCell().textContent = s.staff_no || "—";
    row.insertCell().textContent = ROLE_KEYS[s.role] ? word(ROLE_KEYS, s.role) : (s.role || "—");
    for (const kind of RECORDS) {
      const cell = row.insertCell();
      cell.className = `num count-${kind}`;
      cell.textContent = String(counts(s)[kind] || 0);
    }
    awardCell(row.insertCell(), s);
  }
}

// --- one member -----------------------------------------------------------------------------

function recordRow(body, r) {
  const row = body.insertRow();
  row.dataset.id = r.record_id;
  row.insertCell().textContent = r.record_id;
  row.insertCell().textContent = shortAt(r.at);
  bilingual(row.insertCell(), t(RECORD_KEYS[r.kind] || r.kind), t2(RECORD_KEYS[r.kind] || r.kind))
    .className = `kind-${r.kind}`;
  row.insertCell().textContent = r.grounds || "";
  row.insertCell().textContent = r.detail || "";
  row.insertCell().textContent = r.by || "";
}

function caseRow(body, c) {
  const row = body.insertRow();
  row.dataset.id = c.case_id;
  const link = make("a", "", c.case_id);
  link.href = `/office/cases#${encodeURIComponent(c.case_id)}`;
  row.insertCell().append(link);
  bilingual(row.insertCell(), ...statusWords(c.status));
  row.insertCell().textContent = word(KINDS, c.kind);
  row.insertCell().textContent = shortAt(c.opened_at);
  row.insertCell().textContent = c.summary || "";
}

function showMember(found) {
  const who = found.staff || {};
  $("m-name").textContent = who.name || member;
  $("m-staff-no").textContent = who.staff_no ? `${who.staff_no} · ${member}` : member;
  // Out of 评先评优 for a year with a 效能告诫 in it: this year's standing is what is shown.
  const year = Number(hallToday().slice(0, 4));
  const out = (found.excluded_years || []).map(Number).includes(year);
  bilingual($("m-award"), ...award(out, year));
  $("m-award").className = `award ${out ? "excluded" : "eligible"}`;
}

async function loadRecords() {
  const found = await staff.api("GET", `/staff/${encodeURIComponent(member)}/records`);
  showMember(found);
  const records = found.records || [];
  const body = $("records").tBodies[0];
  body.replaceChildren();
  for (const r of records) recordRow(body, r);
  $("records-empty").hidden = records.length > 0;
}

async function loadCases() {
  const found = await staff.api("GET", `/cases?${new URLSearchParams({ clerk: member, limit: "100" })}`);
  const list = $("member-cases").tBodies[0];
  list.replaceChildren();
  for (const c of found.cases || []) caseRow(list, c);
  $("member-cases-empty").hidden = (found.cases || []).length > 0;
}

/** The member's records and cases, each shown as soon as it is read. */
function loadMember() {
  return Promise.all([loadRecords(), loadCases()]);
}

async function addRecord(ev) {
  ev.preventDefault();
  const body = { kind: $("r-kind").value, grounds: $("r-grounds").value.trim(),
                 detail: $("r-detail").value.trim() };
  try {
    const added = await staff.api("POST", `/staff/${encodeURIComponent(member)}/records`, body);
    $("record-form").reset();
    say("error", "");
    say("info", joined("office.staff_page.record_added", { record_id: added.record_id || "" }));
    await loadRecords();
  } catch (e) {
    failed(e);
  }
}

if (member) $("record-form").addEventListener("submit", addRecord);
staff.resume();
