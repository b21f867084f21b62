"""The clerk's panel in a real browser (the system Chromium via Playwright) against a hub
running as its own process: sign in, call with F1, recall, finish a 承诺件, move its slip on,
pause and resume, and a second sign-in elsewhere that returns the panel to the sign-in form."""

from __future__ import annotations

import pytest
import requests

from tests.test_display_pages import (  # noqa: F401 - the browser fixture
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    browser,
    no_serious_axe_violations,
    only_local,
    open_page,
    shot,
    text_has,
    text_is,
)

pytestmark = pytest.mark.slow


def ok_box(page) -> None:
    assert page.locator("#error").is_hidden(), page.inner_text("#error")


def test_clerk_panel_walkthrough(browser, tmp_path):  # noqa: F811, PLR0915 - one walk, in order
    from tests.hubproc import PASSWORD, HubProcess

    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/caller/", 1280, 800)
        page.fill("#username", "clerk1")
        page.fill("#password", PASSWORD)
        # Window names may repeat: the list says each window's number first.
        labels = page.eval_on_selector_all("#window-select option", "os => os.map(o => o.text)")
        assert labels and all(t.startswith(f"{n}号窗口") for n, t in enumerate(labels, 1)), labels
        page.select_option("#window-select", "1")
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#panel:not([hidden])", timeout=TIMEOUT_MS)
        text_is(page, "#staff-name", "职员1")
        text_is(page, "#staff-no", "JZ001")
        text_has(page, "#conn", "已连接")
        assert page.evaluate("sessionStorage.getItem('onestop.caller')")
        assert not page.evaluate("localStorage.length")

        for _ in range(2):
            assert hub.issue("S1").status_code == 201
        text_has(page, "#waiting-list", "2")

        page.keyboard.press("F1")
        text_is(page, "#current-number", "A001")
        text_has(page, "#current-service", "企业设立登记")
        text_has(page, "#target", "分钟")
        page.wait_for_function("() => document.querySelector('#served').textContent !== '—'",
                               timeout=TIMEOUT_MS)
        ok_box(page)
        page.keyboard.press("F2")  # recall
        page.wait_for_timeout(300)
        ok_box(page)

        page.select_option("#outcome", "commitment")
        page.keyboard.press("F4")
        text_has(page, "#slip-result", "承诺单号")
        slip = page.input_value("#slip-number")
        assert slip and slip in page.inner_text("#slip-result")
        text_has(page, "#slip-printed", "没有可用的打印机")  # no printer agent in this hall
        text_is(page, "#current-number", "—")

        page.select_option("#slip-status", "ready")
        page.click("#slip-form button[type=submit]")
        text_has(page, "#slip-shown", "可取件")
        r = requests.get(f"{hub.url}/api/v1/slips/{slip}",
                         headers=hub.auth(hub.tokens["kiosk"]), timeout=5)
        assert r.json()["status"] == "ready"

        # Going back is refused, and said so.
        page.select_option("#slip-status", "accepted")
        page.click("#slip-form button[type=submit]")
        text_has(page, "#error", "只能向前")

        # Pause with a reason, then resume (F5 both ways).
        page.select_option("#pause-reason", "会议")
        page.keyboard.press("F5")
        text_has(page, "#window-status", "暂停服务")
        text_has(page, "#pause-reason-now", "会议")
        page.keyboard.press("F5")
        text_has(page, "#window-status", "服务中")

        # A refused action shows its reason: recall with nobody at the window.
        page.keyboard.press("F2")
        page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)

        page.keyboard.press("F1")
        text_is(page, "#current-number", "A002")
        page.wait_for_timeout(300)
        shot(page, "caller-1280x800.png")
        only_local(page, hub.url)
        no_serious_axe_violations(page)
        # The console logs the refused slip update (409) and the missing badge photo (404).
        errors = [e for e in page.errors if "Failed to load resource" not in e]
        assert not errors, errors

        # The same clerk signs in elsewhere: this panel goes back to its sign-in form.
        page.keyboard.press("F4")
        text_is(page, "#current-number", "—")
        hub.login("clerk1", 2)
        page.wait_for_selector("#signin:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#error", "其他地方登录")
        assert page.evaluate("sessionStorage.getItem('onestop.caller')") is None
        no_serious_axe_violations(page)
    finally:
        hub.stop()


def test_clerk_panel_other_actions(browser, tmp_path):  # noqa: F811
    """Call a number, skip, transfer through the dialog, ask for a rating, finish as 上报件."""
    from tests.hubproc import PASSWORD, HubProcess

    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        for _ in range(3):
            assert hub.issue("S1").ok
        page = open_page(browser, f"{hub.url}/caller/", 1280, 800)
        page.fill("#username", "clerk1")
        page.fill("#password", PASSWORD)
        page.select_option("#window-select", "1")
        page.click("#signin-form button[type=submit]")
        text_has(page, "#conn", "已连接")

        page.fill("#call-number", "a003")  # typed in lower case
        page.press("#call-number", "Enter")
        text_is(page, "#current-number", "A003")
        page.keyboard.press("F3")  # skip: a no-show goes back in the queue once
        text_is(page, "#current-number", "—")
        page.keyboard.press("F1")
        text_is(page, "#current-number", "A001")

        page.keyboard.press("F6")  # transfer to another item, with a reason
        page.wait_for_selector("#transfer-dialog[open]", timeout=TIMEOUT_MS)
        page.select_option("#transfer-service", "S3")
        page.fill("#transfer-reason", "需公安办理")
        page.click("#transfer-form button[value=ok]")
        text_is(page, "#current-number", "—")
        day = requests.get(f"{hub.url}/healthz", timeout=5).json()["day"].replace("-", "")
        moved = hub.full_ticket(f"{day}-A001")
        assert moved["service"] == "S3" and moved["visits"][-1]["note"] == "需公安办理"
        ok_box(page)

        page.keyboard.press("F1")
        text_is(page, "#current-number", "A002")
        page.select_option("#outcome", "report")
        page.fill("#authority", "省市场监督管理局")
        page.keyboard.press("F4")
        text_has(page, "#slip-result", "承诺单号")
        page.keyboard.press("F7")  # ask again for the rating of the ticket just finished
        ok_box(page)
        text_has(page, "#info", "已请求评价")
        page.keyboard.press("F1")  # the next action: the note about the last one goes
        text_is(page, "#current-number", "A003")
        page.wait_for_selector("#info[hidden]", state="attached", timeout=TIMEOUT_MS)
        reported = hub.full_ticket(f"{day}-A002")
        assert reported["outcome"]["authority"] == "省市场监督管理局"
        assert reported["rating"]["status"] == "pending"
    finally:
        hub.stop()


def sign_in_page(browser, hub, username: str, window: int, clock: bool = False):  # noqa: F811
    from tests.hubproc import PASSWORD

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    if clock:
        page.clock.install()  # the page's own clock, moved on by the test
    page.goto(f"{hub.url}/caller/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.select_option("#window-select", str(window))
    page.click("#signin-form button[type=submit]")
    text_has(page, "#conn", "已连接")
    return page


def test_joint_case_goes_on_to_the_other_departments_panels(browser, tmp_path):  # noqa: F811
    """联办件 finished at window 1 (市场监管) appears on the 公安 clerk's panel at window 3, who
    completes their part; and the target-time warning comes on as the case runs long."""
    from tests.hubproc import HubProcess

    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        assert hub.issue("S1").ok
        lead = sign_in_page(browser, hub, "clerk1", 1, clock=True)
        other = sign_in_page(browser, hub, "clerk3", 3)
        text_has(other, "#joint-empty", "暂无")

        lead.keyboard.press("F1")
        text_is(lead, "#current-number", "A001")

        lead.select_option("#outcome", "joint")
        lead.select_option("#departments", ["SCJG", "GA"])
        lead.keyboard.press("F4")
        text_has(lead, "#slip-result", "承诺单号")
        slip = lead.input_value("#slip-number")
        text_has(lead, "#joint-list", slip)  # 市场监管's own part is waiting too

        other.reload()  # or its 30-second round: the list is read when the panel connects
        text_has(other, "#joint-list", slip)
        text_has(other, "#joint-list", "市公安局…")
        no_serious_axe_violations(other)
        other.click(f"#joint-list button[data-slip='{slip}']")
        text_has(other, "#joint-empty", "暂无")
        shown = requests.get(f"{hub.url}/api/v1/slips/{slip}",
                             headers=hub.auth(hub.tokens["kiosk"]), timeout=5).json()
        assert shown["status"] == "in_progress"
        assert [(d["code"], d["done"]) for d in shown["departments"]] == [
            ("SCJG", False), ("GA", True)]

        # 限时办结 at the window: the warning comes on as the next case runs long (the page's
        # clock is moved on; the socket may reconnect after the jump, which changes nothing).
        assert hub.issue("S1").ok
        lead.keyboard.press("F1")
        text_is(lead, "#current-number", "A002")
        assert lead.locator("#target-warning").is_hidden()
        target_min = 15  # S1 has the default target_minutes
        lead.clock.fast_forward(int(target_min * 0.85 * 60_000))
        text_has(lead, "#target-warning", "即将达到目标办理时长")
        lead.clock.fast_forward(int(target_min * 0.2 * 60_000))
        text_has(lead, "#target-warning", "已超过目标办理时长")
        assert "over" in lead.get_attribute("#target-warning", "class")
    finally:
        hub.stop()
