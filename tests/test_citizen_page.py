"""The ticket's phone page (/t/<cap>) in a real browser (the system Chromium via Playwright) in a
phone's viewport (412×915), against a hub process: a ticket followed from its issue to its call
(the full-screen alert, its tone and vibration), a recall, its end and the phone's 好差评; one
rating across phone and keypad; a forged or expired link refused; the page without sockets
reading its view every 30 s (the browser's clock run on, not waited for). axe-core on every
screen; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
import requests

from tests.hubproc import SUITE_START, HubProcess
from tests.test_display_pages import (  # noqa: F401 - the browser fixture
    TIMEOUT_MS,
    browser,
    glyphs_ok,
    no_serious_axe_violations,
    only_local,
    open_page,
    shot,
    text_has,
)
from tests.test_sockets import Listener

pytestmark = pytest.mark.slow

PHONE = (412, 915)
MORNING = SUITE_START.isoformat()
NEXT_MORNING = (SUITE_START + dt.timedelta(days=1)).isoformat()
# Vibration is recorded (a headless browser has no motor to ask); the tone is counted by the page.
RECORD_VIBRATION = """
  window.vibrated = [];
  navigator.vibrate = function (pattern) { window.vibrated.push(pattern); return true; };
"""


@pytest.fixture
def hub(tmp_path):
    found = HubProcess(tmp_path / "hub", clock=MORNING)
    found.provision()
    found.start()
    yield found
    found.stop()


def issued(hub: HubProcess, service: str = "S1") -> dict:
    r = hub.issue(service)
    assert r.status_code == 201, r.text
    return r.json()


def phone(browser, link: str, clock: bool = False,  # noqa: F811
          block: re.Pattern | None = None):
    """The ticket's page on a phone. `block`: a URL pattern the network refuses (sockets);
    `clock`: the page's timers on a clock the test runs on."""
    page = browser.new_page(viewport={"width": PHONE[0], "height": PHONE[1]}, locale="zh-CN",
                            has_touch=True, is_mobile=True)
    page.errors, page.requested, page.reads = [], [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requested.append(r.url))
    page.on("request", lambda r: page.reads.append(r.url) if "/api/v1/citizen/" in r.url
            and r.method == "GET" else None)
    page.add_init_script(RECORD_VIBRATION)
    if clock:
        page.clock.install()
    if block:
        page.route(block, lambda route: route.abort())
    page.goto(link)
    page.wait_for_function("() => window.citizen && window.citizen.state.view",
                           timeout=TIMEOUT_MS)
    return page


def live(page) -> None:
    page.wait_for_function("() => window.citizen.state.connected", timeout=TIMEOUT_MS)


def act(hub: HubProcess, clerk: str, action: str, **body) -> dict:
    r = hub.act(clerk, 1, action, **body)
    assert r.ok, r.text
    return r.json()


def alert_shown(page, window: str) -> None:
    page.wait_for_selector("#alert:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, "#alert-title", window)


def test_a_ticket_followed_from_issue_to_call_to_its_rating(browser, hub):  # noqa: F811, PLR0915
    first = issued(hub)
    mine = issued(hub)
    page = phone(browser, mine["link"])
    live(page)
    glyphs_ok(page)
    assert page.inner_text("#number") == mine["number"]
    text_has(page, "#service-name", "企业设立登记")
    text_has(page, "#ahead", "1人")
    text_has(page, "#status", "等候中")
    assert page.locator("#material-list li").count() >= 1
    assert page.locator("#window-list li").count() >= 1
    shot(page, "citizen-waiting-412x915.png")
    no_serious_axe_violations(page)

    # The checklist is kept on the phone for this ticket: ticked, read again, still ticked.
    page.check("#material-0")
    text_has(page, "#materials-count", "1/")
    page.reload()
    page.wait_for_function("() => window.citizen.state.view", timeout=TIMEOUT_MS)
    assert page.is_checked("#material-0")
    live(page)

    page.click("#enable-alerts")  # the tap a phone needs before a page may sound
    clerk = hub.login("clerk1", 1)
    act(hub, clerk, "call-next")  # the ticket before this one: one fewer ahead, live
    text_has(page, "#ahead", "0人")
    assert page.locator("#alert").is_hidden()
    act(hub, clerk, "finish")
    act(hub, clerk, "call-next")
    alert_shown(page, "1号窗口")
    text_has(page, "#alert-text", mine["number"])
    assert page.evaluate("window.vibrated.length") >= 1
    assert page.evaluate("window.citizen.state.beeps") >= 2  # the test tone, then the call
    text_has(page, "#status", "已叫号")
    text_has(page, "#rules", "过号")
    shot(page, "citizen-called-412x915.png")
    no_serious_axe_violations(page)

    page.click("#alert-ok")
    act(hub, clerk, "recall")
    alert_shown(page, "1号窗口")
    text_has(page, "#alert-kind", "再次叫号")
    page.click("#alert-ok")
    text_has(page, "#recalls", "1")

    act(hub, clerk, "finish")
    page.wait_for_selector("#rate:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, "#status", "已办结")
    page.click("#toggle-lang")
    page.click("[data-level='5']")  # 非常不满意: a reason is asked for
    page.wait_for_selector("#reasons:not([hidden])", timeout=TIMEOUT_MS)
    page.click("#rate-submit")
    text_has(page, "#rate-error", "请选择不满意的原因")
    page.click("#reason-list button >> nth=1")
    shot(page, "citizen-rate-412x915.png")
    no_serious_axe_violations(page)
    page.click("#rate-submit")
    page.wait_for_selector("#rated:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, "#rated-text", "非常不满意（手机）")
    assert page.locator("#rate").is_hidden()
    rating = hub.full_ticket(mine["id"])["rating"]
    assert (rating["level"], rating["source"]) == (5, "phone"), rating
    shot(page, "citizen-rated-412x915.png")
    assert first["number"] not in page.content()  # no other ticket on this page
    assert not page.errors, page.errors
    only_local(page, hub.url)


def finished_at_a_keypad_window(hub: HubProcess, agent: Listener) -> tuple[dict, dict]:
    """A ticket called and finished at window 1, whose keypad is asked for a rating."""
    ticket = issued(hub)
    clerk = hub.login("clerk1", 1)
    act(hub, clerk, "call-next")
    act(hub, clerk, "finish")
    asked = agent.next_event("rating.requested")["data"]
    assert asked["ticket_id"] == ticket["id"]
    return ticket, asked


def press(agent: Listener, asked: dict, level: int) -> dict:
    return agent.call("device_event", {"id": f"press-{secrets.token_hex(4)}", "kind": "rating",
                                       "window": 1, "level": level,
                                       "request_id": asked["request_id"]})


def test_a_phone_rating_first_then_the_keypad_is_refused(browser, hub):  # noqa: F811
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        ticket, asked = finished_at_a_keypad_window(hub, agent)
        page = phone(browser, ticket["link"])
        page.wait_for_selector("#rate:not([hidden])", timeout=TIMEOUT_MS)
        page.click("[data-level='2']")  # 满意: no reason asked
        assert page.locator("#reasons").is_hidden()
        page.click("#rate-submit")
        text_has(page, "#rated-text", "满意（手机）")
        answer = press(agent, asked, 4)
        assert not answer["ok"] and answer["error"]["code"] == "already_rated", answer
        rating = hub.full_ticket(ticket["id"])["rating"]
        assert (rating["level"], rating["source"]) == (2, "phone"), rating
        assert not page.errors, page.errors
    finally:
        agent.close()


def test_a_keypad_rating_first_shows_on_the_phone_as_rated_at_the_keypad(browser, hub):  # noqa: F811
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        ticket, asked = finished_at_a_keypad_window(hub, agent)
        page = phone(browser, ticket["link"])
        live(page)
        assert press(agent, asked, 1)["ok"]
        page.wait_for_selector("#rated:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#rated-text", "非常满意（评价器）")
        assert page.locator("#rate").is_hidden()
        shot(page, "citizen-rated-keypad-412x915.png")
        no_serious_axe_violations(page)
        refused = requests.post(f"{ticket['link'].replace('/t/', '/api/v1/citizen/')}/rating",
                                json={"level": 3}, timeout=5)
        assert refused.status_code == 409, refused.text
        assert not page.errors, page.errors
    finally:
        agent.close()


def refusal_shown(page) -> None:
    text_has(page, "h1", "此链接无效或已过期")
    assert "This link is not valid or has expired" in page.inner_text("body")


def test_a_forged_or_expired_link_gets_the_refusal_page_and_nothing_else(browser, hub):  # noqa: F811
    ticket = issued(hub)
    forged = f"{hub.url}/t/{secrets.token_urlsafe(16)}"
    assert requests.get(forged, timeout=5).status_code == 404
    page = browser.new_page(viewport={"width": PHONE[0], "height": PHONE[1]}, locale="zh-CN")
    page.goto(forged)
    refusal_shown(page)
    shot(page, "citizen-refused-412x915.png")
    no_serious_axe_violations(page)

    hub.stop()
    hub.clock = NEXT_MORNING  # the same store the next day: the ticket's link ended with its day
    hub.start()
    answer = requests.get(ticket["link"], timeout=5)
    assert answer.status_code == 404
    assert answer.text == requests.get(forged, timeout=5).text  # one page: no oracle
    page.goto(ticket["link"])
    refusal_shown(page)
    assert ticket["number"] not in page.content()


@pytest.mark.parametrize("blocked", [re.compile(r"/socket\.io/\?"),
                                     re.compile(r"/vendor/socket\.io\.min\.js")],
                         ids=["socket-refused", "no-socket-client"])
def test_without_sockets_the_page_reads_its_view_every_30_s(browser, hub, blocked):  # noqa: F811
    ticket = issued(hub)
    page = phone(browser, ticket["link"], clock=True, block=blocked)
    # The page's clock stops here, just after it started its 30 s timer, then runs as told.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 0.1)  # in seconds
    text_has(page, "#live", "每30秒自动刷新")
    assert not page.evaluate("window.citizen.state.connected")
    reads = len(page.reads)
    clerk = hub.login("clerk1", 1)
    act(hub, clerk, "call-next")
    page.clock.run_for(20_000)
    assert page.locator("#alert").is_hidden()  # not read again yet
    assert len(page.reads) == reads
    page.clock.run_for(11_000)
    alert_shown(page, "1号窗口")
    assert len(page.reads) == reads + 1
    text_has(page, "#status", "已叫号")
    shot(page, f"citizen-polled-{'no-client' if 'vendor' in blocked.pattern else 'refused'}.png")
    assert not page.errors, page.errors


def test_elderly_mode_and_a_complaint_from_the_phone(browser, hub):  # noqa: F811
    ticket = issued(hub)
    page = phone(browser, ticket["link"])
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.click("#toggle-elderly")
    assert page.get_attribute("#toggle-elderly", "aria-pressed") == "true"
    large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= normal * 1.3
    page.reload()
    page.wait_for_function("() => window.citizen.state.view", timeout=TIMEOUT_MS)
    assert page.evaluate("document.body.classList.contains('elderly')")
    shot(page, "citizen-elderly-412x915.png")
    no_serious_axe_violations(page)

    # A complaint: its category from the hall's list, the text, a phone number to be answered on.
    page.click("#complaint-open")
    assert page.get_attribute("#complaint-open", "aria-expanded") == "true"
    page.click("#complaint-submit")
    text_has(page, "#complaint-error", "请填写内容")
    categories = page.eval_on_selector_all("#complaint-category option", "o => o.map(x => x.value)")
    assert len(categories) >= 2
    page.select_option("#complaint-category", categories[1])
    page.fill("#complaint-text", "窗口等候时间太长")
    page.fill("#complaint-phone", "13800000000")
    no_serious_axe_violations(page)
    page.click("#complaint-submit")
    text_has(page, "#complaint-done", "已收到您的投诉建议")
    assert page.locator("#complaint-form").is_hidden()
    shot(page, "citizen-complaint-412x915.png")
    assert not page.errors, page.errors


def refused_at(url: str, accept: str) -> requests.Response:
    """`url` asked with `accept` until the address's limit refuses it (a bucket that refilled
    meanwhile is spent again: nothing here depends on how fast the machine is)."""
    for _ in range(40):
        r = requests.get(url, headers={"Accept": accept}, timeout=5)
        if r.status_code == 429:
            return r
        assert r.status_code in (200, 404), r.text
    raise AssertionError(f"{url} was never limited")


def test_past_the_limit_a_browser_reads_a_page_and_a_program_json(browser, tmp_path):  # noqa: F811
    from tests.test_citizen import limited_hall

    hub = HubProcess(tmp_path / "hub", config=limited_hall(tmp_path, per_minute=10, burst=3),
                     clock=MORNING)
    hub.provision()
    hub.start()
    try:
        link = issued(hub)["link"]
        html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Chromium's
        for url in (link, f"{hub.url}/q/{'p' * 43}", link.replace("/t/", "/s/")):
            page = refused_at(url, html)
            assert page.headers["Content-Type"].startswith("text/html"), url
            assert 1 <= int(page.headers["Retry-After"]) <= 7
            text = page.text
            assert text.index("请稍后再试") < text.index("Please try again shortly")
            assert "请求过于频繁" in text and "too many requests" in text
            api = refused_at(url, "application/json")
            assert api.json()["error"]["code"] == "rate_limited", url
            assert refused_at(url, "*/*").json()["error"]["code"] == "rate_limited"

        page = browser.new_page(viewport={"width": PHONE[0], "height": PHONE[1]},
                                locale="zh-CN")
        for _ in range(40):
            if page.goto(link).status == 429:
                break
        text_has(page, "h1", "请稍后再试")
        assert "Please try again shortly" in page.inner_text("body")
        glyphs_ok(page)
        no_serious_axe_violations(page)
        shot(page, "citizen-busy-412x915.png")
    finally:
        hub.stop()


def test_transfers_are_said_on_the_phone_and_its_slip_opens_from_it(browser, hub):  # noqa: F811
    """Sent on to another item (联办), then to another window of it: the phone says where, not
    "missed your call"; finished as a 承诺件, it links the slip's own page."""
    mine = issued(hub)
    page = phone(browser, mine["link"])
    live(page)
    at_1, at_3, at_4 = (hub.login(f"clerk{n}", n) for n in (1, 3, 4))
    assert hub.act(at_1, 1, "call-next").ok
    alert_shown(page, "1号窗口")
    page.click("#alert-ok")
    assert hub.act(at_1, 1, "transfer", service="S3", reason="需公安办理").ok
    page.wait_for_selector("#notice:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, "#notice", "已转到：户口迁移")
    text_has(page, "#service-name", "户口迁移")
    text_has(page, "#status", "等候中")
    assert [li.inner_text().split()[0] for li in page.locator("#window-list li").all()] == [
        "3号窗口", "4号窗口"]
    shot(page, "citizen-transferred-412x915.png")
    no_serious_axe_violations(page)

    assert hub.act(at_3, 3, "call-next").ok
    alert_shown(page, "3号窗口")
    page.click("#alert-ok")
    moved = requests.post(f"{hub.url}/api/v1/windows/3/transfer", json={"window": 4},
                          headers=hub.auth(at_3), timeout=5)  # `window` is act's own argument
    assert moved.ok, moved.text
    text_has(page, "#notice", "已转到：4号窗口")
    assert "过号" not in page.inner_text("#notice")
    assert page.locator("#window-list li").count() == 1

    assert hub.act(at_4, 4, "call-next").ok
    alert_shown(page, "4号窗口")
    page.click("#alert-ok")
    done = hub.act(at_4, 4, "finish", outcome="commitment", items=["户口簿"])
    assert done.ok, done.text
    slip = next(e for e in done.json()["events"] if e["type"] == "ticket.finished")[
        "data"]["outcome"]["slip"]
    page.wait_for_selector("#slip-link:not([hidden])", timeout=TIMEOUT_MS)  # the push, then a GET
    assert page.inner_text("#slip-number") == slip
    assert page.get_attribute("#slip-link", "href").startswith(f"{hub.url}/s/")
    shot(page, "citizen-slip-412x915.png")
    no_serious_axe_violations(page)
    assert not page.errors, page.errors
    page.click("#slip-link")
    page.wait_for_url(re.compile(re.escape(hub.url) + r"/s/[A-Za-z0-9_-]{22}$"),
                      timeout=TIMEOUT_MS)
    assert page.inner_text("#slip-number") == slip
    text_has(page, "main", "户口簿")
    no_serious_axe_violations(page)
