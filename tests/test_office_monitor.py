"""The office's live monitor (/office/) in a real browser, against a hub process.

The hub's housekeeping tick is shortened (ONESTOP_TICK_S) so a supervision alert is raised
within a second of its condition, and the page is watched for it live.
"""

from __future__ import annotations

import queue

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

W1 = '#windows li[data-no="1"]'
W2 = '#windows li[data-no="2"]'


def row(code: str) -> str:
    return f'#services tbody tr[data-code="{code}"]'


def test_the_office_watches_and_steers_the_hall_live(browser, tmp_path, monkeypatch):  # noqa: F811, PLR0915
    monkeypatch.setenv("ONESTOP_TICK_S", "0.5")
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    # A second supervisor for the test's own reads: signing in as "super" again would end the
    # page's session (one place at a time).
    db = open_database(hub.data_dir)
    Accounts(db).add_user("boss2", PASSWORD, Role.SUPERVISOR, "副主任", "JZ901",
                          SUITE_CLOCK())
    db.close()
    hub.start()
    agent = caller = None
    try:
        hub.tokens["office"] = hub.login("boss2")
        page = open_page(browser, f"{hub.url}/office/", 1920, 1080)
        page.fill("#username", "super")
        page.fill("#password", PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#monitor:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#conn", "已连接")
        # Nobody at any window: the first ticks raise the unstaffed alerts.
        page.wait_for_selector('#alerts li[data-key="unstaffed:1"]', timeout=TIMEOUT_MS)
        text_has(page, W1, "未开放")

        # A clerk signs in at window 1 and calls a ticket: the grid shows it, with its timer.
        ticket = hub.issue("S1").json()
        text_is(page, "#t-issued", "1")
        text_is(page, "#t-waiting", "1")
        # The clerk signs in on their panel; the test acts with the panel's own token.
        panel = open_page(browser, f"{hub.url}/caller/", 1280, 800)
        panel.fill("#username", "clerk1")
        panel.fill("#password", PASSWORD)
        panel.select_option("#window-select", "1")
        panel.click("#signin-form button[type=submit]")
        panel.wait_for_selector("#panel:not([hidden])", timeout=TIMEOUT_MS)
        clerk = panel.evaluate("JSON.parse(sessionStorage.getItem('onestop.caller')).token")
        assert hub.act(clerk, 1, "call-next").ok
        text_has(page, W1, ticket["number"])
        text_has(page, W1, "服务中")
        text_has(page, W1, "职员1 · 工号 JZ001")
        text_has(page, W1, "已办理 00:0")
        text_is(page, "#t-waiting", "0")
        text_is(page, "#t-serving", "1")
        page.wait_for_selector('#alerts li[data-key="unstaffed:1"]', state="detached",
                               timeout=TIMEOUT_MS)

        # A device at window 1 goes offline: its dot turns red at once.
        agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
        ack = agent.call("health", {"devices": [
            {"id": "bus1/led@1", "kind": "led", "window": 1, "status": "offline",
             "detail": "无响应"}]})
        assert ack["ok"], ack
        page.wait_for_selector(f"{W1} .dot-offline", timeout=TIMEOUT_MS)
        # A slip printer for windows 1 and 2 (no keypad there): on both windows' cards.
        slips = Listener(hub, "/device", hub.tokens["agent"], windows=[],
                         printer={"windows": [1, 2]})
        ack = slips.call("health", {"devices": [
            {"id": "printer@slips-1F", "kind": "printer", "window": 1, "windows": [1, 2],
             "status": "error", "detail": "缺纸 (paper out)"}]})
        assert ack["ok"], ack
        for card in (W1, W2):
            page.wait_for_selector(f'{card} .dot-error[title*="printer@slips-1F"]',
                                   timeout=TIMEOUT_MS)
        slips.close()
        # The agent connects again without that printer (taken out of its agent.toml): it
        # leaves both cards at once.
        agent.close()
        agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1], devices=["bus1/led@1"])
        for card in (W1, W2):
            page.wait_for_selector(f'{card} [title*="printer@slips-1F"]', state="detached",
                                   timeout=TIMEOUT_MS)

        # An alert fires live: window 3 (and 4, its backup) staffed, then left again.
        clerk3 = hub.login("clerk3", 3)
        page.wait_for_selector('#alerts li[data-key="unstaffed:3"]', state="detached",
                               timeout=TIMEOUT_MS)
        requests.post(f"{hub.url}/api/v1/logout", headers=hub.auth(clerk3), timeout=5)
        page.wait_for_selector('#alerts li.flash[data-key="unstaffed:3"]', timeout=TIMEOUT_MS)
        text_has(page, '#alerts li[data-key="unstaffed:3"]', "无人值守")
        first = page.eval_on_selector("#alerts li", "li => li.dataset.key")
        assert first in ("unstaffed:3", "unstaffed:4")  # newest first

        # The scrolling notice, set here, is what the hall screen gets.
        page.fill("#notice-text", "今日下午系统升级，请耐心等候")
        page.fill("#notice-text-en", "System upgrade this afternoon")
        page.click("#notice-form button[type=submit]")
        text_has(page, "#notice-now", "今日下午系统升级")
        screen = requests.get(f"{hub.url}/api/v1/queue", headers=hub.auth(hub.tokens["screen"]),
                              timeout=5).json()
        assert screen["center"]["notice"] == "今日下午系统升级，请耐心等候"

        # An item suspended here is refused at the kiosk, then taken again once reopened.
        page.fill(f"{row('S2')} input", "系统故障")
        page.click(f"{row('S2')} button.close")
        text_has(page, row("S2"), "暂停受理：系统故障")
        refused = hub.issue("S2")
        assert refused.status_code >= 400 and refused.json()["error"]["code"] == "service_closed"
        page.click(f"{row('S2')} button.reopen")
        text_has(page, row("S2"), "受理中")
        ticket2 = hub.issue("S2").json()

        # Move the clerk from window 1 to 2: the grid follows, and so does their session.
        assert hub.act(clerk, 1, "finish").ok
        caller = Listener(hub, "/caller", clerk)
        moved: queue.Queue = queue.Queue()
        caller.client.on("moved", moved.put, namespace="/caller")
        page.select_option("#move-clerk", "clerk1")
        page.select_option("#move-window", "2")
        page.click("#move-form button[type=submit]")
        text_has(page, W2, "职员1 · 工号 JZ001")
        text_has(page, W1, "未开放")
        assert moved.get(timeout=5)["window"] == 2
        assert hub.act(clerk, 1, "call-next").json()["error"]["code"] == "wrong_window"
        assert caller.call("call-next")["result"]["no"] == 2  # the panel's socket acts at 2
        # The panel itself followed: it shows window 2 and the ticket just called there.
        text_has(panel, "#window-name", "2号窗口")
        text_is(panel, "#current-number", ticket2["number"])
        assert not panel.is_visible("#signin")
        shot(page, "office-monitor-1920x1080.png")
        no_serious_axe_violations(page)

        # A 退件 at the new window, approved from the monitor with a note.
        called = hub.act(clerk, 2, "finish", outcome="returned", reason="材料不齐")
        assert called.ok, called.text
        text_has(page, "#returns", "材料不齐")
        text_is(page, "#return-count", "1")
        page.fill("#returns input.note", "同意退件")
        page.click("#returns button.approve")
        page.wait_for_selector("#returns-empty:not([hidden])", timeout=TIMEOUT_MS)
        assert hub.full_ticket(ticket2["id"])["outcome"]["approved_by"] == "super"

        # The hub restarts: the page says it is offline, then takes a fresh snapshot.
        hub.kill()
        page.wait_for_selector("#offline:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#offline", "离线")
        hub.start()
        page.wait_for_selector("#offline", state="hidden", timeout=TIMEOUT_MS)
        text_has(page, W2, "职员1 · 工号 JZ001")
        text_is(page, "#t-issued", "2")
        text_is(page, "#t-served", "2")  # one finished, one returned (and approved)

        page.set_viewport_size({"width": 1280, "height": 800})
        shot(page, "office-monitor-1280x800.png")
        only_local(page, hub.url)
        assert not [e for e in page.errors if "ERR_CONNECTION_REFUSED" not in e], page.errors
        # The panel also asks for the clerk's badge photo, and this clerk has none (404).
        assert not [e for e in panel.errors
                    if "ERR_CONNECTION_REFUSED" not in e and "404" not in e], panel.errors
        # The office's pages share one sign-in: from the monitor to the reports and the hall
        # file in the same tab, without signing in again.
        for path, shown in (("/office/reports", "#reports"), ("/office/admin", "#admin")):
            page.goto(f"{hub.url}{path}")
            page.wait_for_selector(f"{shown}:not([hidden])", timeout=TIMEOUT_MS)
            assert page.is_hidden("#signin")
    finally:
        for client in (agent, caller):
            if client is not None:
                client.close()
        hub.stop()


def test_the_office_api_needs_a_supervisor(tmp_path):
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        assert requests.get(f"{hub.url}/office/", timeout=5).ok
        assert requests.get(f"{hub.url}/api/v1/totals", timeout=5).status_code == 401
        clerk = hub.login("clerk1", 1)
        for path, body in (("/services/S1/close", {"reason": "x"}), ("/services/S1/reopen", {}),
                           ("/clerks/clerk1/move", {"window": 2})):
            r = requests.post(f"{hub.url}/api/v1{path}", json=body, headers=hub.auth(clerk),
                              timeout=5)
            assert r.status_code == 403, (path, r.text)
        boss = hub.auth(hub.login("super"))
        totals = requests.get(f"{hub.url}/api/v1/totals", headers=boss, timeout=5).json()
        assert totals["issued"] == 0 and totals["satisfaction"] is None
        r = requests.post(f"{hub.url}/api/v1/clerks/clerk1/move", json={"window": 9},
                          headers=boss, timeout=5)
        assert r.json()["error"]["code"] == "unknown_window"
        r = requests.post(f"{hub.url}/api/v1/clerks/clerk1/move", json={"window": 3},
                          headers=boss, timeout=5)
        assert r.ok, r.text
        assert [e["data"].get("reason") for e in r.json()["events"]] == ["moved", None]
        me = requests.post(f"{hub.url}/api/v1/windows/3/pause", json={"reason": "暂离"},
                           headers=hub.auth(clerk), timeout=5)
        assert me.ok, me.text  # the same token, now at window 3
        audit = requests.get(f"{hub.url}/api/v1/audit", headers=boss, timeout=5).json()
        assert "move-clerk" in [a["action"] for a in audit["records"]]
    finally:
        hub.stop()
