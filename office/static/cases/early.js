/* The casework page's first read, carried in the page itself (office/pages.py inlines it, its
 * hash allowed by the page's content policy) so it starts as the HTML arrives, before the
 * styles and the page's modules are fetched: the first page of open cases, with the office's
 * session if the tab has one. cases/queue.js takes this answer for its first read when it asks
 * for the same page, and asks again otherwise (or if this one failed), so a refusal is handled
 * in the one place. A classic script: it must not wait for any module. */
{
  const KEY = "onestop.office.session"; // shared/static/staff.js: the office's pages' session
  const FIRST = "/api/v1/cases?open=1&limit=50"; // the filter form's defaults
  let token = null;
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    token = s && typeof s.token === "string" ? s.token : null;
  } catch (e) {
    token = null;
  }
  if (token) {
    // `data` once parsed: the page then draws it at once, before it is first laid out.
    const first = { url: FIRST, data: null };
    first.answer = fetch(FIRST, { headers: { Authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => { first.data = data; return data; })
      .catch(() => null);
    window.onestopFirstCases = first;
  }
}
