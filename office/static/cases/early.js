/* The casework page's first read, started as soon as this small module arrives (it loads async,
 * without imports: before the page is parsed and its other modules have run): the first page of
 * open cases, with the office's session if the tab has one. cases/queue.js takes this answer
 * for its first read when it asks for the same page, and asks again otherwise (or if this one
 * failed), so a refusal is handled in the one place. */
const KEY = "onestop.office.session"; // shared/static/staff.js: the office's pages' session
export const FIRST = "/api/v1/cases?open=1&limit=50"; // the filter form's defaults

function token() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return s && typeof s.token === "string" ? s.token : null;
  } catch (e) {
    return null;
  }
}

const t = token();
if (t) {
  // `data` once parsed: the page then draws it at once, before it is first laid out.
  const first = { url: FIRST, data: null };
  first.answer = fetch(FIRST, { headers: { Authorization: `Bearer ${t}` } })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => { first.data = data; return data; })
    .catch(() => null);
  window.onestopFirstCases = first;
}
