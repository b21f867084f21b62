"""The supervisors' 退件 queue (art. 4(5)) in a real browser, against a hub process."""

from __future__ import annotations

import pytest
import requests

from tests.hubproc import PASSWORD, HubProcess
from tests.test_display_pages import (  # noqa: F401 - the module's browser fixture
    TIMEOUT_MS,
    browser,
    no_serious_axe_violations,
    only_local,
    open_page,
    shot,
    text_has,
)

pytestmark = pytest.mark.slow


def test_a_supervisor_approves_a_return_from_the_queue(browser, tmp_path):  # noqa: F811
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/caller/returns", 1280, 800)
        page.fill("#username", "super")
        page.fill("#password", PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#queue:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#empty", "暂无待审批退件")

        ticket = hub.issue("S2").json()
        clerk = hub.login("clerk2", 2)
        hub.act(clerk, 2, "call-next")
        assert hub.act(clerk, 2, "finish", outcome="returned", reason="申请人撤回申请").ok
        text_has(page, "#returns tbody", ticket["number"])
        text_has(page, "#returns tbody", "申请人撤回申请")
        text_has(page, "#returns tbody", "clerk2")
        shot(page, "caller-returns-1280x800.png")
        no_serious_axe_violations(page)
        only_local(page, hub.url)

        page.fill("#returns tbody input", "同意退件")
        page.click("#returns tbody button.primary")
        page.wait_for_selector("#empty:not([hidden])", timeout=TIMEOUT_MS)
        done = hub.full_ticket(ticket["id"])
        assert done["status"] == "done" and done["outcome"]["approved_by"] == "super"
        assert not [e for e in page.errors if "ERR_CONNECTION_REFUSED" not in e], page.errors
    finally:
        hub.stop()


def test_the_queue_page_needs_no_token_to_load_but_the_data_does(tmp_path):
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        assert requests.get(f"{hub.url}/caller/returns", timeout=5).ok
        assert requests.get(f"{hub.url}/api/v1/returns", timeout=5).status_code == 401
    finally:
        hub.stop()
