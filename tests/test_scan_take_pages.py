"""扫码取号 in a real browser (the system Chromium via Playwright) against a hub process: the
office prints today's poster and its QR code (rendered by Chromium, decoded with zbar) holds
today's URL; a phone (412×915) opens it, takes a ticket and lands on the ticket's page; a
refused take says why. axe-core on every page; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import io

import pytest

from tests.hubproc import PASSWORD, HubProcess, hall_today
from tests.test_display_pages import (  # noqa: F401 - the browser fixture
    TIMEOUT_MS,
    browser,
    glyphs_ok,
    no_serious_axe_violations,
    only_local,
    open_page,
    shot,
)
from tests.test_scan_take import limited_hall, poster

pytestmark = pytest.mark.slow

PHONE = (412, 915)


@pytest.fixture
def hub(tmp_path, request):
    hub = HubProcess(tmp_path / "data", config=limited_hall(tmp_path, device=1))
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)
    hub.tokens["office"] = hub.login("super")
    return hub


def decoded(png: bytes) -> list[str]:
    from PIL import Image
    from pyzbar import pyzbar

    image = Image.open(io.BytesIO(png)).convert("L")
    canvas = Image.new("L", (image.width + 80, image.height + 80), 255)  # a quiet zone
    canvas.paste(image, (40, 40))
    return [found.data.decode() for found in pyzbar.decode(canvas)]


def test_the_printed_poster_holds_todays_url(browser, hub):  # noqa: F811
    today = poster(hub)  # before the page signs in: a second sign-in ends the first session
    page = open_page(browser, f"{hub.url}/office/poster", 900, 1270)
    page.fill("#username", "super")
    page.fill("#password", PASSWORD)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#qr svg", timeout=TIMEOUT_MS)
    assert page.text_content("#day") == hall_today().isoformat() == today["day"]
    assert page.text_content("#url") == today["url"]
    glyphs_ok(page)
    no_serious_axe_violations(page)
    only_local(page, hub.url)
    shot(page, "scan-take-poster.png")
    assert decoded(page.locator("#qr").screenshot()) == [today["url"]]
    assert not page.errors, page.errors


def test_a_phone_takes_a_ticket_from_the_poster_and_lands_on_its_page(browser, hub):  # noqa: F811
    url = poster(hub)["url"]
    page = open_page(browser, url, *PHONE)
    page.wait_for_function("() => window.onestopTake && window.onestopTake.ready",
                           timeout=TIMEOUT_MS)
    assert page.locator("button.take[data-service=S4]").is_disabled()  # outside its hours
    glyphs_ok(page)
    no_serious_axe_violations(page)
    only_local(page, hub.url)
    shot(page, "scan-take-phone.png")
    page.click("button.take[data-service=S1]")
    landed_on_ticket_page(page, hub)
    assert not page.errors, page.errors

    # The same phone again (its id kept in localStorage): this hall allows one a day.
    page.goto(url)
    page.wait_for_function("() => window.onestopTake && window.onestopTake.ready",
                           timeout=TIMEOUT_MS)
    page.click("button.take[data-service=S2]")
    page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    said = page.text_content("#error")
    assert "明天" in said and "tomorrow" in said
    no_serious_axe_violations(page)
    shot(page, "scan-take-phone-limit.png")


def landed_on_ticket_page(page, hub) -> None:
    """The ticket's page when the hall mints phone links; until then the number on this one."""
    page.wait_for_selector("#taken:not([hidden])", timeout=TIMEOUT_MS)
    assert page.text_content("#taken-number") == "A001"
