"""The office's casework pages and the clerk's "About me" in a real browser, against a hub process.

A 差评 pressed at a window's keypad (an agent on /device) opens a case that appears on the
casework page live; the office calls the citizen back, rectifies and closes it there; a clerk
appeals a 差评 from the panel and a supervisor decides it on the casework page; the spot-check
page draws last week and reviews a ticket; the staff page records a 效能告诫. Each page is
checked with axe and photographed into tests/artifacts.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
import requests

from hub.auth import Role
from hub.runtime import open_database
from hub.store.accounts import Accounts
from tests.hubproc import PASSWORD, SUITE_CLOCK, HubProcess
from tests.test_display_pages import (  # noqa: F401 - the module's browser fixture
    TIMEOUT_MS,
    browser,
    no_serious_axe_violations,
    only_local,
    open_page,
    shot,
    text_has,
    text_is,
)
from tests.test_sockets import Listener

pytestmark = pytest.mark.slow

# The hub's own week before the suite's (a Wednesday, 2026-11-18): tickets finished then are
# last week's once the hub runs on the suite's clock again.
LAST_WEEK = "2026-11-18T10:00:00+08:00"
LAST_MONDAY = "2026-11-16"


def hall(tmp_path) -> HubProcess:
    """A hub with clerks, the supervisor the pages sign in as, and a second one for the test's
    own API calls (signing in as "super" again would end the page's session)."""
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    db = open_database(hub.data_dir)
    Accounts(db).add_user("boss2", PASSWORD, Role.SUPERVISOR, "副主任", "JZ901", SUITE_CLOCK())
    db.close()
    return hub


def sign_in(page, username: str, window: int | None = None) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    if window is not None:
        page.select_option("#window-select", str(window))
    page.click("#signin-form button[type=submit]")


def api(hub, token: str, method: str, path: str, body=None) -> dict:
    r = requests.request(method, f"{hub.url}/api/v1{path}", json=body, headers=hub.auth(token),
                         timeout=5)
    assert r.ok, (path, r.status_code, r.text)
    return r.json()


def served(hub, clerk: str, window: int = 1) -> str:
    """A ticket issued, called and finished at `window`: its id (the keypad is then asked)."""
    ticket = hub.issue("S1").json()
    assert hub.act(clerk, window, "call-next").ok
    assert hub.act(clerk, window, "finish").ok
    return ticket["id"]


def press(agent: Listener, window: int, level: int, reason: int | None = None) -> None:
    """The window's keypad: the citizen presses `level` (4 不满意, 5 非常不满意) for the rating
    the hub asked for."""
    asked = agent.next_event("rating.requested")
    fields = {"request_id": asked["data"]["request_id"], "level": level}
    if reason is not None:
        fields["reason"] = reason
    ack = agent.call("device_event", {"id": str(uuid.uuid4()), "kind": "rating", "window": window,
                                      "at": SUITE_CLOCK().isoformat(), **fields})
    assert ack["ok"], ack


def queue_row(case_id: str) -> str:
    return f'#queue tbody tr[data-id="{case_id}"]'


def ok_box(page) -> None:
    assert page.locator("#error").is_hidden(), page.inner_text("#error")


def step(page, action: str, fields: dict[str, str]) -> None:
    """Fill the shown case's form for `action` and send it."""
    form = f"#act-{action}"
    page.wait_for_selector(f"{form}:not([hidden])", timeout=TIMEOUT_MS)
    for selector, value in fields.items():
        if page.eval_on_selector(f"{form} {selector}", "e => e.tagName") == "SELECT":
            page.select_option(f"{form} {selector}", value)
        else:
            page.fill(f"{form} {selector}", value)
    page.click(f"{form} button[type=submit]")


def test_a_keypad_poor_rating_is_worked_to_a_closed_case_on_the_casework_page(browser, tmp_path):  # noqa: F811, PLR0915
    hub = hall(tmp_path)
    hub.start()
    agent = None
    try:
        boss2 = hub.login("boss2")
        page = open_page(browser, f"{hub.url}/office/cases", 1920, 1080)
        sign_in(page, "super")
        page.wait_for_selector("#casework:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#conn", "已连接")
        page.wait_for_selector("#queue-empty:not([hidden])", timeout=TIMEOUT_MS)

        # A citizen served at window 1 presses 不满意 on its keypad: the case appears live.
        agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
        agent.snapshot()
        clerk = hub.login("clerk1", 1)
        ticket = served(hub, clerk)
        press(agent, 1, 4, reason=1)
        found = api(hub, boss2, "GET", "/cases?open=1")["cases"]
        assert [c["ticket_id"] for c in found] == [ticket]
        rating_case = found[0]["case_id"]
        page.wait_for_selector(queue_row(rating_case), timeout=TIMEOUT_MS)
        text_has(page, queue_row(rating_case), "待核实")
        text_has(page, queue_row(rating_case), "差评")
        text_has(page, queue_row(rating_case), "1号窗口")

        # A complaint phoned in, entered on the page: a second case, about window 2.
        page.select_option("#c-channel", "phone")
        page.select_option("#c-window", "2")
        page.fill("#c-text", "二号窗口工作人员态度生硬")
        page.click("#complaint-form button[type=submit]")
        text_has(page, "#info", "立案")
        # the new case's detail is read after the message: wait until it is shown
        page.wait_for_function("(old) => { const e = document.querySelector('#d-id'); "
                               "const id = e ? e.textContent.trim() : ''; "
                               "return id !== '' && id !== old; }",
                               arg=rating_case, timeout=TIMEOUT_MS)
        complaint_case = page.inner_text("#d-id").strip()
        assert complaint_case.startswith("GD") and complaint_case != rating_case
        page.wait_for_selector(queue_row(complaint_case), timeout=TIMEOUT_MS)
        text_has(page, "#d-facts", "投诉电话")

        # Filters: by kind, then by window; cleared, both again.
        page.select_option("#f-kind", "complaint")
        page.click("#filters button[type=submit]")
        page.wait_for_selector(queue_row(rating_case), state="detached", timeout=TIMEOUT_MS)
        assert page.is_visible(queue_row(complaint_case))
        page.select_option("#f-kind", "")
        page.select_option("#f-window", "1")
        page.click("#filters button[type=submit]")
        page.wait_for_selector(queue_row(complaint_case), state="detached", timeout=TIMEOUT_MS)
        assert page.is_visible(queue_row(rating_case))
        page.click("#f-reset")
        page.wait_for_selector(queue_row(complaint_case), timeout=TIMEOUT_MS)

        # A step taken elsewhere (another office page) shows here without a reload.
        api(hub, boss2, "POST", f"/cases/{complaint_case}/steps",
            {"action": "callback", "result": "已电话联系投诉人", "reached": True})
        text_has(page, queue_row(complaint_case), "已回访")
        text_has(page, "#timeline", "已电话联系投诉人")  # it is the case shown

        # The 差评 through its whole course: callback, rectify, rectified, close.
        page.click(f"{queue_row(rating_case)} button.case-link")
        text_is(page, "#d-id", rating_case)
        assert page.is_hidden("#act-close")  # not before the citizen is called back
        step(page, "callback", {
            "textarea[name=result]": "群众反映等候时间长，已致歉",
            "textarea[name=attachments]": "回访录音 LY-0001\n\n通话时长 3 分钟"})
        text_has(page, "#d-status", "已回访")
        text_has(page, "#timeline", "回访录音 LY-0001")
        text_has(page, "#timeline", "通话时长 3 分钟")
        step(page, "rectify", {"textarea[name=cause]": "高峰时段只开一个窗口",
                               "textarea[name=plan]": "高峰时段增开 AB 岗"})
        text_has(page, "#d-status", "整改中")
        step(page, "rectified", {"textarea[name=fix]": "已排班增开 AB 岗"})
        text_has(page, "#d-status", "已整改")
        step(page, "close", {"select[name=verdict]": "founded",
                             "textarea[name=reply]": "已告知群众整改情况"})
        text_has(page, "#d-status", "已办结")
        ok_box(page)
        page.wait_for_selector(queue_row(rating_case), state="detached", timeout=TIMEOUT_MS)
        text_is(page, "#no-actions", page.inner_text("#no-actions").strip())
        steps = page.eval_on_selector_all("#timeline > li", "ls => ls.map(l => l.textContent)")
        for word in ("回访", "整改", "已整改", "办结"):
            assert any(word in s for s in steps), (word, steps)
        assert all("督查员" in s or "super" in s for s in steps[-4:]), steps
        case = api(hub, boss2, "GET", f"/cases/{rating_case}")
        assert case["case"]["status"] == "closed"
        assert [s["action"] for s in case["steps"]][-4:] == ["callback", "rectify", "rectified",
                                                            "close"]
        assert case["steps"][-4]["attachments"] == ["回访录音 LY-0001", "通话时长 3 分钟"]

        # The closed case is still there for the asking (status filter).
        page.select_option("#f-status", "closed")
        page.click("#filters button[type=submit]")
        page.wait_for_selector(queue_row(rating_case), timeout=TIMEOUT_MS)
        page.click("#f-reset")
        page.click(f"{queue_row(complaint_case)} button.case-link")
        text_is(page, "#d-id", complaint_case)
        text_has(page, "#d-facts", "服务态度")  # the category by its name
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "office-cases-1920x1080.png")
        no_serious_axe_violations(page)
        page.set_viewport_size({"width": 1280, "height": 800})
        shot(page, "office-cases-1280x800.png")
        only_local(page, hub.url)
        assert not page.errors, page.errors
    finally:
        if agent is not None:
            agent.close()
        hub.stop()


def test_a_clerk_appeals_from_the_panel_and_a_supervisor_decides_it(browser, tmp_path):  # noqa: F811, PLR0915
    hub = hall(tmp_path)
    hub.start()
    agent = None
    try:
        boss2 = hub.login("boss2")
        panel = open_page(browser, f"{hub.url}/caller/", 1280, 800)
        sign_in(panel, "clerk1", 1)
        panel.wait_for_selector("#panel:not([hidden])", timeout=TIMEOUT_MS)
        text_has(panel, "#conn", "已连接")
        clerk = panel.evaluate("JSON.parse(sessionStorage.getItem('onestop.caller')).token")
        assert panel.is_visible("#mine-empty")

        # A 非常不满意 about this clerk: it shows in "About me" live, with the appeal form.
        agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1, 2])
        agent.snapshot()
        served(hub, clerk)
        press(agent, 1, 5, reason=2)
        item = "#mine-list li.mine-case"
        panel.wait_for_selector(item, timeout=TIMEOUT_MS)
        case_id = panel.eval_on_selector(item, "li => li.dataset.id")
        text_has(panel, item, "待核实")
        # Another clerk's 差评 is not shown to this one.
        other = hub.login("clerk2", 2)
        served(hub, other, 2)
        press(agent, 2, 4)
        assert api(hub, boss2, "GET", "/cases?clerk=clerk2")["cases"]
        assert panel.eval_on_selector_all("#mine-list li", "ls => ls.length") == 1

        panel.fill(f"{item} textarea", "该群众所办事项系统故障，非本人原因")
        panel.click(f"{item} button.appeal-button")
        text_has(panel, "#info", case_id)
        text_has(panel, item, "申诉中")
        panel.wait_for_selector(f"{item} form", state="detached", timeout=TIMEOUT_MS)
        shot(panel, "caller-about-me-1280x800.png")
        no_serious_axe_violations(panel)

        # The supervisor decides it on the casework page: upheld.
        page = open_page(browser, f"{hub.url}/office/cases#{case_id}", 1920, 1080)
        sign_in(page, "super")
        page.wait_for_selector("#casework:not([hidden])", timeout=TIMEOUT_MS)
        text_is(page, "#d-id", case_id)
        text_has(page, "#d-status", "申诉中")
        text_has(page, "#timeline", "该群众所办事项系统故障")
        assert page.is_hidden("#act-callback")
        step(page, "decide_appeal", {"select[name=upheld]": "true",
                                     "textarea[name=note]": "经查系统故障属实"})
        text_has(page, "#d-status", "申诉成立")
        ok_box(page)
        # The panel follows: the appeal upheld, and nothing left to appeal.
        text_has(panel, item, "申诉成立")
        case = api(hub, boss2, "GET", f"/cases/{case_id}")
        assert case["case"]["status"] == "appeal_upheld"
        assert [s["action"] for s in case["steps"]][-2:] == ["appeal", "decide_appeal"]
        only_local(panel, hub.url)
        only_local(page, hub.url)
        # The panel asks for the clerk's badge photo, and this clerk has none (404).
        assert not [e for e in panel.errors if "404" not in e], panel.errors
        assert not page.errors, page.errors
    finally:
        if agent is not None:
            agent.close()
        hub.stop()


def test_the_spot_check_page_draws_last_week_and_opens_a_case_from_a_finding(browser, tmp_path):  # noqa: F811, PLR0915
    hub = hall(tmp_path)
    hub.clock = LAST_WEEK  # tickets finished a week before the suite's day
    hub.start()
    try:
        clerk = hub.login("clerk1", 1)
        done = [served(hub, clerk) for _ in range(4)]
    finally:
        hub.stop()
    hub.clock = ""
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/office/spot-checks", 1920, 1080)
        sign_in(page, "super")
        page.wait_for_selector("#spot:not([hidden])", timeout=TIMEOUT_MS)
        page.wait_for_function("() => document.querySelector('#week').value !== ''",
                               timeout=TIMEOUT_MS)
        assert page.input_value("#week") == LAST_MONDAY
        text_has(page, "#info", "尚未抽取")
        page.click("#draw")
        page.wait_for_selector("#draw-card:not([hidden])", timeout=TIMEOUT_MS)
        text_is(page, "#draw-id", "CC2026W47")
        seed = page.inner_text("#draw-seed").strip()
        assert len(seed) == 32 and int(seed, 16) >= 0
        text_is(page, "#draw-method", "hmac-sha256-rank")
        text_is(page, "#verify-command", "onestop spot-check verify CC2026W47")
        rows = page.eval_on_selector_all("#sample tbody tr[data-ticket]",
                                         "rs => rs.map(r => r.dataset.ticket)")
        assert len(rows) == 3 and set(rows) <= set(done)  # 3 of window 1's 4

        # A review with a finding, opening a case from it.
        page.click(f'#sample tr[data-ticket="{rows[0]}"] button.review-button')
        page.wait_for_selector("#review-card:not([hidden])", timeout=TIMEOUT_MS)
        page.check("#answer-informed-fail")
        page.check("#answer-time_limit-pass")
        page.check("#answer-outcome-pass")
        page.check("#answer-return_justified-na")
        page.fill("#review-note", "未一次性告知所需材料")
        page.check("#review-open-case")
        page.click("#review-form button[type=submit]")
        text_has(page, "#info", "立案")
        row = f'#sample tr[data-ticket="{rows[0]}"]'
        text_has(page, row, "发现问题")
        case_id = page.inner_text(f"{row} a").strip()
        assert case_id.startswith("GD")
        text_has(page, "#draw-progress", "已复核1/3件")
        shot(page, "office-spot-checks-1920x1080.png")
        no_serious_axe_violations(page)
        # The finding's case is on the casework page.
        page.click(f"{row} a")
        page.wait_for_selector("#casework:not([hidden])", timeout=TIMEOUT_MS)
        text_is(page, "#d-id", case_id)
        text_has(page, "#d-facts", "抽查")
        only_local(page, hub.url)
        assert not page.errors, page.errors
    finally:
        hub.stop()


def test_the_staff_pages_record_an_efficiency_warning(browser, tmp_path):  # noqa: F811
    hub = hall(tmp_path)
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/office/staff", 1920, 1080)
        sign_in(page, "super")
        page.wait_for_selector("#staff:not([hidden])", timeout=TIMEOUT_MS)
        clerk1 = '#staff-table tr[data-username="clerk1"]'
        page.wait_for_selector(clerk1, timeout=TIMEOUT_MS)
        text_has(page, clerk1, "可参加评先评优")
        page.click(f"{clerk1} a")
        page.wait_for_selector("#record-form:not([hidden])", timeout=TIMEOUT_MS)
        text_is(page, "#m-name", "职员1")
        page.wait_for_selector("#records-empty:not([hidden])", timeout=TIMEOUT_MS)
        page.select_option("#r-kind", "warning")
        page.fill("#r-grounds", "第十八条第（三）项")
        page.fill("#r-detail", "工作时间擅离岗位")
        page.click("#record-form button[type=submit]")
        text_has(page, "#records", "效能告诫")
        text_has(page, "#records", "工作时间擅离岗位")
        text_has(page, "#m-award", "取消评先评优")
        shot(page, "office-staff-member-1920x1080.png")
        no_serious_axe_violations(page)
        page.click("nav a[href='/office/staff']")
        page.wait_for_selector(clerk1, timeout=TIMEOUT_MS)
        text_is(page, f"{clerk1} td.count-warning", "1")
        text_has(page, clerk1, "取消评先评优")
        shot(page, "office-staff-1920x1080.png")
        no_serious_axe_violations(page)
        # The office's pages link to one another; the page shown is marked.
        current = page.eval_on_selector("nav a[aria-current=page]", "a => a.pathname")
        assert current == "/office/staff"
        for path, shown in (("/office/cases", "#casework"), ("/office/spot-checks", "#spot"),
                            ("/office/", "#monitor")):
            page.click(f"nav a[href='{path}']")
            page.wait_for_selector(f"{shown}:not([hidden])", timeout=TIMEOUT_MS)
        only_local(page, hub.url)
        assert not page.errors, page.errors
    finally:
        hub.stop()


def complain(hub, token: str, window: int, text: str) -> str:
    """A complaint the office enters (phone): its case's id."""
    return api(hub, token, "POST", "/complaints",
               {"category": "efficiency", "text": text, "channel": "phone",
                "window": window})["case_id"]


def test_the_queue_puts_overdue_cases_first_and_pages_with_the_cursor(browser, tmp_path):  # noqa: F811
    hub = hall(tmp_path)
    hub.clock = LAST_WEEK  # three cases opened a week before: their callback is overdue now
    hub.start()
    try:
        boss2 = hub.login("boss2")
        late = {complain(hub, boss2, 1, f"上周投诉{i}") for i in range(3)}
    finally:
        hub.stop()
    hub.clock = ""
    hub.start()
    try:
        boss2 = hub.login("boss2")
        fresh = [complain(hub, boss2, 2, f"本周投诉{i}") for i in range(52)]
        page = open_page(browser, f"{hub.url}/office/cases", 1920, 1080)
        sign_in(page, "super")
        page.wait_for_selector("#casework:not([hidden])", timeout=TIMEOUT_MS)
        page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 50",
                               timeout=TIMEOUT_MS)
        text_is(page, "#queue-count", "50+")
        ids = page.eval_on_selector_all("#queue tbody tr", "rs => rs.map(r => r.dataset.id)")
        assert set(ids[:3]) == late  # overdue first, and marked so
        for case_id in late:
            text_has(page, queue_row(case_id), "超期")
        assert page.eval_on_selector_all("#queue tbody tr.overdue", "rs => rs.length") == 3
        page.click("#more")
        page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 55",
                               timeout=TIMEOUT_MS)
        assert page.is_hidden("#more")
        text_is(page, "#queue-count", "55")
        shown = page.eval_on_selector_all("#queue tbody tr", "rs => rs.map(r => r.dataset.id)")
        assert set(shown) == late | set(fresh)
        # A reconnect's snapshot reads the list again: the page read with "more" stays.
        with page.expect_response(lambda r: "/api/v1/cases?" in r.url, timeout=TIMEOUT_MS * 3):
            hub.stop()
            hub.start()
        page.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # drawn by now
        page.errors.clear()  # the refused reconnects while the hub was down
        assert page.eval_on_selector_all("#queue tbody tr", "rs => rs.length") == 55
        text_is(page, "#queue-count", "55")
        page.check("#f-overdue")
        page.click("#filters button[type=submit]")
        page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 3",
                               timeout=TIMEOUT_MS)
        assert page.is_hidden("#more")
        assert not page.errors, page.errors
    finally:
        hub.stop()


def test_a_signed_in_tab_asks_for_the_first_cases_from_the_page_itself(browser, tmp_path):  # noqa: F811
    """The page's inline script (allowed by its hash, not by 'unsafe-inline') asks for the first
    page of cases before any module is fetched, the page draws that answer without asking
    again, and the Socket.IO client is fetched only once the cases are on screen."""
    hub = hall(tmp_path)
    hub.start()
    try:
        r = requests.get(f"{hub.url}/office/cases", timeout=5)
        policy = r.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy
        inline = r.text.split("<script>", 1)[1].split("</script>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy.split("script-src", 1)[1].split(";", 1)[0]

        boss2 = hub.login("boss2")
        complain(hub, boss2, 1, "窗口人员态度生硬")
        page = open_page(browser, f"{hub.url}/office/cases", 1920, 1080)
        sign_in(page, "super")
        page.wait_for_selector("#casework:not([hidden])", timeout=TIMEOUT_MS)
        page.reload()  # the session is in the tab now
        page.wait_for_function("() => document.querySelectorAll('#queue tbody tr').length === 1",
                               timeout=TIMEOUT_MS)
        page.wait_for_function("() => typeof window.io === 'function'", timeout=TIMEOUT_MS)
        first = "/api/v1/cases?open=1&limit=50"
        times = page.evaluate("""(first) => {
            const at = (part) => performance.getEntriesByType('resource')
              .filter((r) => r.name.includes(part)).map((r) => [r.startTime, r.responseEnd]);
            const nav = performance.getEntriesByType('navigation')[0];
            return { cases: at(first), parsed: nav.domInteractive,
                     client: at('socket.io.min.js') };
        }""", first)
        # Asked once before the socket (whose snapshot reads the list again), by the page's
        # own script.
        before = [read for read in times["cases"] if read[0] < times["client"][0][0]]
        assert len(before) == 1, times
        asked, answered = before[0]
        # Asked while the page was still being parsed: by its inline script, not by the
        # page's module, which runs only once the document is parsed (a module is deferred).
        assert asked < times["parsed"], times
        assert times["client"][0][0] >= answered, times
        assert not page.errors, page.errors  # a refused inline script is a console error
    finally:
        hub.stop()
