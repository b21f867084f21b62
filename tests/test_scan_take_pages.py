"""扫码取号 in a real browser (the system Chromium via Playwright) against a hub process: the
office prints today's poster and its QR code (rendered by Chromium, decoded with zbar) holds
today's URL; a phone (412×915) opens it, takes a ticket and lands on the ticket's page; a
refused take says why. axe-core on every page; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

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
ROOT = Path(__file__).resolve().parents[1]
ESLINT = ROOT / "node_modules" / ".bin" / "eslint"


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
    assert not page.errors, page.errors
    page.click("button.take[data-service=S1]")
    landed_on_ticket_page(page, hub)

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
    """The phone went to its ticket's own page, /t/<capability>, and that capability opens
    the ticket just taken (the page itself is the ticket page's, tested with it)."""
    page.wait_for_url(re.compile(re.escape(hub.url) + r"/t/[A-Za-z0-9_-]{22}$"),
                      timeout=TIMEOUT_MS)
    cap = page.url.rsplit("/", 1)[1]
    view = requests.get(f"{hub.url}/api/v1/citizen/{cap}", timeout=5).json()
    assert (view["number"], view["service"], view["status"]) == ("A001", "S1", "waiting")


# --- 承诺单 on the phone --------------------------------------------------------------------


def finished_as(hub, clerk: str, outcome: dict) -> tuple[str, str]:
    """A ticket issued at the kiosk, called and finished with `outcome` at window 1: its
    slip number and the slip's phone link (from the ticket's phone view)."""
    link = hub.issue("S1").json()["link"]
    assert hub.act(clerk, 1, "call-next").ok
    done = hub.act(clerk, 1, "finish", **outcome)
    assert done.ok, done.text
    cap = link.rsplit("/", 1)[1]
    slip = requests.get(f"{hub.url}/api/v1/citizen/{cap}", timeout=5).json()["slip"]
    return slip["number"], slip["link"]


def test_a_commitment_and_a_joint_case_with_one_part_done_on_the_phone(browser, hub):  # noqa: F811
    clerk = hub.login("clerk1", 1)
    number, link = finished_as(hub, clerk, {"outcome": "commitment", "items": ["营业执照"]})
    page = open_page(browser, link, *PHONE)
    assert page.text_content("#slip-number") == number
    assert "受理" in page.text_content("#status") and page.text_content("#promised")
    assert "营业执照" in page.text_content("main")
    assert "申请人有效身份证件" in page.text_content("#bring")
    assert "1号窗口" in page.text_content("#where")  # the windows that serve S1
    assert page.locator("#parts").count() == 0
    glyphs_ok(page)
    no_serious_axe_violations(page)
    only_local(page, hub.url)
    shot(page, "slip-phone-commitment.png")
    assert not page.errors, page.errors

    number, link = finished_as(hub, clerk, {"outcome": "joint", "departments": ["SCJG", "GA"]})
    ga = hub.login("clerk3", 3)  # window 3 is 公安 (GA): its part done
    assert requests.post(f"{hub.url}/api/v1/slips/{number}/parts", headers=hub.auth(ga),
                         timeout=5).ok
    page = open_page(browser, link, *PHONE)
    parts = {li.get_attribute("data-department"): li.get_attribute("class")
             for li in page.locator("#parts li").all()}
    assert parts == {"SCJG": "pending", "GA": "done"}
    assert "办理中" in page.text_content("#status")
    no_serious_axe_violations(page)
    shot(page, "slip-phone-joint.png")

    # A forged link and a ticket's: one refusal, said on the page.
    for wrong in (link[:-1] + ("A" if link[-1] != "A" else "B"),
                  hub.issue("S1").json()["link"].replace("/t/", "/s/")):
        r = requests.get(wrong, timeout=5)
        assert r.status_code == 404 and "纸质承诺单" in r.text


# --- old phones ---------------------------------------------------------------------------


def classic_scripts_only(page, hub) -> list[str]:
    """The page runs no ES module (an old Android browser would run nothing) and loads its
    scripts from the hub: their paths."""
    scripts = page.eval_on_selector_all(
        "script", "s => s.map(x => ({type: x.type, src: x.getAttribute('src')}))")
    assert all(s["type"] in ("", "text/javascript", "application/json") for s in scripts), scripts
    srcs = [s["src"] for s in scripts if s["src"]]
    assert all(src.startswith("/") for src in srcs), srcs  # the hub's own, nothing outside
    return srcs


def held_to_es2017(path: str) -> None:
    """eslint parses the hub's file served at `path` as an ES2017 classic script (a `?.` or
    an `import` in it fails `make lint`)."""
    if not ESLINT.exists():
        pytest.skip("eslint is not installed here (make eslint)")
    file = ROOT / "citizen" / "static" / path.removeprefix("/citizen/static/")
    assert path.startswith("/citizen/static/") and file.exists(), path
    said = subprocess.run([str(ESLINT), "--print-config", str(file)], cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=60).stdout
    options = json.loads(said)["languageOptions"]
    assert (options["ecmaVersion"], options["sourceType"]) == (2017, "script"), options


def test_the_take_and_slip_pages_run_on_an_old_phone(browser, hub):  # noqa: F811
    """扫码取号 and the 承诺单 are served like the ticket's page: classic scripts in ES2017 from
    citizen/, no module (Chrome < 61 and old Android WebViews run no modules)."""
    page = open_page(browser, poster(hub)["url"], *PHONE)
    page.wait_for_function("() => window.onestopTake && window.onestopTake.ready",
                           timeout=TIMEOUT_MS)
    srcs = classic_scripts_only(page, hub)
    assert "/citizen/static/take.js" in srcs, srcs
    for src in srcs:
        held_to_es2017(src)
    clerk = hub.login("clerk1", 1)
    _number, link = finished_as(hub, clerk, {"outcome": "commitment", "items": ["营业执照"]})
    page = open_page(browser, link, *PHONE)
    assert page.locator("#slip-number").count() == 1
    assert classic_scripts_only(page, hub) == []  # the slip's page reads without a script
    assert not page.errors, page.errors
    page = open_page(browser, f"{hub.url}/q/{'x' * 43}", *PHONE)  # the refusal too
    assert classic_scripts_only(page, hub) == []
