"""A ticket's phone link held to the kiosk's scanner, in a real browser (the system Chromium via
Playwright) against a hub process: the scan arrives as the agent sends it (a /device Socket.IO
client with the kiosk's name, event `scan`), and the kiosk opens that ticket as the citizen's
phone shows it - number, item, status, people ahead, materials; a forged link and a link whose
day has ended say so. axe-core on each screen; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

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
from tests.test_kiosk_printing import Client

pytestmark = pytest.mark.slow

PORTRAIT = (1080, 1920)
MORNING = SUITE_START.isoformat()
NEXT_MORNING = (SUITE_START + dt.timedelta(days=1)).isoformat()


@pytest.fixture
def hub(tmp_path):
    found = HubProcess(tmp_path / "hub", clock=MORNING)
    found.provision()
    found.start()
    yield found
    found.stop()


def kiosk_page(browser, hub):  # noqa: F811
    page = open_page(browser, f"{hub.url}/kiosk/?token={hub.tokens['kiosk']}", *PORTRAIT)
    page.wait_for_function("() => window.kiosk.state.connected", timeout=TIMEOUT_MS)
    return page


def scanner(hub) -> Client:
    """The kiosk's scanner as its agent reports it: the /device namespace, the kiosk's name."""
    return Client(hub.url, "/device", {"token": hub.tokens["agent"], "windows": [],
                                       "kiosk": "test-kiosk"})


def scanned(page, device: Client, text: str) -> None:
    assert device.call("scan", {"text": text}) == {"ok": True}
    page.wait_for_selector("#phone-ticket:not([hidden])", timeout=TIMEOUT_MS)


def refused_aside(errors: list[str]) -> list[str]:
    """The page's errors but the browser's own note of the citizen view's 404 (the refusal)."""
    return [e for e in errors if "status of 404" not in e]


def test_a_phones_ticket_link_held_to_the_scanner_opens_that_ticket(browser, hub):  # noqa: F811
    first = hub.issue("S1").json()
    mine = hub.issue("S1").json()
    device = scanner(hub)
    page = kiosk_page(browser, hub)
    try:
        scanned(page, device, mine["link"])
        text_has(page, "#phone-ticket-number", mine["number"])
        text_has(page, "#phone-ticket-service", "企业设立登记")
        text_has(page, "#phone-ticket-status", "等候中")
        text_has(page, "#phone-ticket-ahead", "前面还有 1 人")
        assert page.locator("#phone-ticket-materials li").count() >= 1
        assert page.locator("#phone-ticket-refused").is_hidden()
        glyphs_ok(page)
        no_serious_axe_violations(page)
        shot(page, "kiosk-phone-ticket-1080x1920.png")
        assert first["number"] not in page.inner_text("#phone-ticket")
        page.click("#phone-ticket-done")
        page.wait_for_selector("#home:not([hidden])", timeout=TIMEOUT_MS)

        clerk = hub.login("clerk1", 1)
        assert hub.act(clerk, 1, "call-next").ok and hub.act(clerk, 1, "finish").ok
        assert hub.act(clerk, 1, "call-next").ok  # this one now
        scanned(page, device, mine["link"])
        text_has(page, "#phone-ticket-status", "已叫号")
        text_has(page, "#phone-ticket-status", "1号窗口")
        assert page.locator("#phone-ticket-ahead").is_hidden()

        assert not page.errors, page.errors

        # A forged link: the phone page's refusal, said at the kiosk; the ticket is gone.
        scanned(page, device, f"{hub.url}/t/{secrets.token_urlsafe(16)}")
        page.wait_for_selector("#phone-ticket-refused:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#phone-ticket-refused", "此链接无效或已过期")
        assert page.locator("#phone-ticket-found").is_hidden()
        assert mine["number"] not in page.inner_text("#phone-ticket")
        no_serious_axe_violations(page)
        shot(page, "kiosk-phone-ticket-refused-1080x1920.png")
        assert not refused_aside(page.errors), page.errors
        only_local(page, hub.url)
    finally:
        device.close()


def test_a_link_whose_day_has_ended_is_refused_at_the_kiosk(browser, hub):  # noqa: F811
    ticket = hub.issue("S1").json()
    hub.stop()
    hub.clock = NEXT_MORNING  # the same store the next day: the ticket's link ended with its day
    hub.start()
    device = scanner(hub)
    page = kiosk_page(browser, hub)
    try:
        scanned(page, device, ticket["link"])
        page.wait_for_selector("#phone-ticket-refused:not([hidden])", timeout=TIMEOUT_MS)
        assert ticket["number"] not in page.inner_text("#phone-ticket")
        # Any other code still goes where it went: a slip number opens the slip lookup.
        page.click("#phone-ticket-done")
        assert device.call("scan", {"text": "CN000"})["ok"]
        page.wait_for_selector("#slip-screen:not([hidden])", timeout=TIMEOUT_MS)
        assert not refused_aside(page.errors), page.errors
    finally:
        device.close()
