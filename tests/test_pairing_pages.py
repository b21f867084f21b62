"""Pairing in a real browser: a hall screen and a kiosk opened without any token show a code, a
supervisor approves it over the real API, and the page goes live with its token kept in its
storage, never in an address; a reload keeps it, a revoked token sends it back to pairing, and
an old `?token=` address still works, moved out of the address bar with a notice."""

from __future__ import annotations

import pytest
import requests

from hub.auth import Role
from hub.runtime import open_database
from hub.store.accounts import Accounts
from tests.hubproc import PASSWORD, SUITE_CLOCK, HubProcess, quiet_hall
from tests.test_display_pages import (  # noqa: F401 - the browser fixture
    TIMEOUT_MS,
    browser,
    call_next,
    online,
    open_page,
    text_is,
)

pytestmark = pytest.mark.slow

@pytest.fixture
def hub(tmp_path, monkeypatch):
    # Housekeeping's sweep drops the sockets of a revoked token: soon, for the test.
    monkeypatch.setenv("ONESTOP_TICK_S", "0.5")
    proc = HubProcess(tmp_path / "data", config=quiet_hall(tmp_path))
    proc.provision()
    proc.start()
    yield proc
    proc.stop()


def shown_code(page) -> str:
    page.wait_for_function("() => document.querySelector('#pairing-code')?.dataset.code",
                           timeout=TIMEOUT_MS)
    return page.eval_on_selector("#pairing-code", "n => n.dataset.code")


def approve(hub, office: str, code: str, role: str, name: str) -> requests.Response:
    return requests.post(f"{hub.url}/api/v1/pairing/approve", headers=hub.auth(office),
                         json={"code": code, "role": role, "name": name}, timeout=5)


def stored_token(page, kind: str) -> str:
    return page.evaluate(f"() => localStorage.getItem('onestop.device-token.{kind}')") or ""


def no_token_in_addresses(page, *tokens: str) -> None:
    addresses = [page.url, *page.requested]
    assert not [u for u in addresses if "token=" in u or any(t and t in u for t in tokens)], \
        addresses


def test_a_hall_screen_is_paired_without_a_token_in_any_address(browser, hub):  # noqa: F811
    page = open_page(browser, f"{hub.url}/display/hall", 1920, 1080)
    code = shown_code(page)
    assert page.is_visible("#pairing") and "配对此设备" in page.inner_text("#pairing")
    office = hub.login("super")
    assert approve(hub, office, code, "screen", "hall-1F").status_code == 200

    online(page)  # claimed, kept, loaded again: connected with the new token
    assert not page.is_visible("#pairing")
    token = stored_token(page, "screen")
    assert token.startswith("osd_")
    clerk = hub.login("clerk1", 1)
    assert hub.issue("S1").status_code == 201
    number = call_next(hub, clerk)
    text_is(page, "#now-number", number)

    page.reload()  # the stored token serves again: no new pairing
    online(page)
    text_is(page, "#now-number", number)
    assert not page.is_visible("#pairing")
    no_token_in_addresses(page, token)
    assert token not in hub.log()
    assert not page.errors, page.errors

    db = open_database(hub.data_dir)
    assert Accounts(db).revoke_tokens(Role.SCREEN, "hall-1F", SUITE_CLOCK()) == 1
    db.close()
    again = shown_code(page)  # dropped, refused on reconnecting: back to pairing
    assert again != code
    assert stored_token(page, "screen") == ""


def test_a_kiosk_paired_as_a_screen_is_refused_then_paired_as_a_kiosk(browser, hub):  # noqa: F811
    page = open_page(browser, f"{hub.url}/kiosk/", 1080, 1920)
    code = shown_code(page)
    office = hub.login("super")
    wrong = approve(hub, office, code, "screen", "kiosk-1F")
    assert wrong.status_code == 409, wrong.text
    assert "取号机" in wrong.json()["error"]["message"]
    assert approve(hub, office, code, "kiosk", "kiosk-1F").status_code == 200
    page.wait_for_function("() => window.kiosk && window.kiosk.state.connected",
                           timeout=TIMEOUT_MS)
    token = stored_token(page, "kiosk")
    assert token.startswith("osk_")
    no_token_in_addresses(page, token)


def test_an_old_token_address_still_works_moved_out_of_the_address_bar(browser, hub):  # noqa: F811
    token = hub.tokens["screen"]
    page = open_page(browser, f"{hub.url}/display/window/1?token={token}", 1280, 720)
    online(page)
    assert page.url == f"{hub.url}/display/window/1"  # history.replaceState
    assert stored_token(page, "screen") == token
    page.wait_for_selector("#device-notice", timeout=TIMEOUT_MS)
    assert "已弃用" in page.inner_text("#device-notice")
    assert "deprecated" in page.inner_text("#device-notice")
    page.reload()  # from storage now
    online(page)
    assert not page.is_visible("#device-notice")
    log = hub.log()
    assert "/display/window opened from 127.0.0.1 with ?token= in its address" in log
    assert token not in log
    # the badge photo, fetched with the token in a header (a blob: URL), not in its address
    clerk = hub.login("clerk1", 1)
    assert clerk
    assert not [u for u in page.requested[1:] if "token=" in u], page.requested


def test_a_supervisor_pairs_a_window_screen_on_the_office_page(browser, hub):  # noqa: F811
    screen = open_page(browser, f"{hub.url}/display/window/2", 1280, 720)
    code = shown_code(screen)
    office = open_page(browser, f"{hub.url}/office/", 1920, 1080)
    office.fill("#username", "super")
    office.fill("#password", PASSWORD)
    office.click("#signin-form button[type=submit]")
    office.wait_for_selector(f"#pair-requests li[data-code='{code}']", timeout=TIMEOUT_MS)
    assert "/display/window/2" in office.inner_text(f"#pair-requests li[data-code='{code}']")
    # typed as read off the screen: with its dash, in lower case, and the wrong kind first
    office.fill("#pair-code", f"{code[:4]}-{code[4:]}".lower())
    office.select_option("#pair-role", "kiosk")
    office.fill("#pair-name", "window-2")
    office.click("#pair-form button[type=submit]")
    office.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    assert "叫号屏" in office.inner_text("#error")
    office.select_option("#pair-role", "screen")
    office.click("#pair-form button[type=submit]")
    office.wait_for_selector("#info:not([hidden])", timeout=TIMEOUT_MS)
    assert "window-2" in office.inner_text("#info")
    online(screen)
    text_is(screen, "#status", "未开放")
    assert stored_token(screen, "screen").startswith("osd_")
    no_token_in_addresses(screen, stored_token(screen, "screen"))
