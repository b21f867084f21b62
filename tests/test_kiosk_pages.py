"""The ticket kiosk's touchscreen in a real browser (the system Chromium via Playwright), against
a hub process and a device agent process printing on a simulated ESC/POS printer.

Walks what a citizen does: home → an item's six disclosures → 取号 (a double tap gives one
ticket) → the printed bytes decoded; a green-channel code typed, an appointment scanned; a slip
looked up (typed, and scanned on the home screen); a complaint; elderly mode; the idle reset.
axe-core runs on every screen; screenshots at 1080×1920 and 1920×1080 go to tests/artifacts/.
"""

from __future__ import annotations

import pytest
import requests

from devices.printer.sim import SimPrinter, text_of
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
from tests.test_kiosk_printing import (
    Client,
    devices,
    eventually,
    printed_jobs,
    qr_payloads,
    start_agent,
    stop,
)

pytestmark = pytest.mark.slow

PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)


@pytest.fixture
def hall(tmp_path, request):
    from tests.hubproc import HubProcess

    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)  # also when the setup below fails
    printer = SimPrinter().start()
    request.addfinalizer(printer.stop)
    agent = start_agent(tmp_path, hub, printer)
    request.addfinalizer(lambda: stop(agent))
    eventually(lambda: devices(hub).get("printer@test-kiosk", {}).get("status") == "online",
               what="the kiosk printer online")
    yield hub, printer


def kiosk_page(browser, hub, size: tuple[int, int], clock: bool = False):  # noqa: F811
    if clock:
        page = browser.new_page(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
        page.clock.install()
        page.errors, page.requested = [], []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("request", lambda r: page.requested.append(r.url))
        page.goto(f"{hub.url}/kiosk/?token={hub.tokens['kiosk']}")
    else:
        page = open_page(browser, f"{hub.url}/kiosk/?token={hub.tokens['kiosk']}", *size)
    page.wait_for_function("() => window.kiosk.state.connected", timeout=TIMEOUT_MS)
    return page


def office(hub) -> dict[str, str]:
    if "office" not in hub.tokens:
        hub.tokens["office"] = hub.login("super")
    return hub.auth(hub.tokens["office"])


def waiting(hub, service: str) -> int:
    r = requests.get(f"{hub.url}/api/v1/queue", headers=hub.auth(hub.tokens["kiosk"]),
                     timeout=5)
    return r.json()["waiting"].get(service, 0)


def test_take_a_ticket_after_reading_the_six_disclosures(browser, hall):  # noqa: F811
    hub, printer = hall
    page = kiosk_page(browser, hub, PORTRAIT)
    glyphs_ok(page)
    text_has(page, ".tile[data-service=S1] .waiting", "0")
    shot(page, "kiosk-home-1080x1920.png")
    no_serious_axe_violations(page)

    page.click(".tile[data-service=S1]")
    page.wait_for_selector("#item:not([hidden])", timeout=TIMEOUT_MS)
    keys = page.eval_on_selector_all("#disclosures section", "s => s.map(x => x.dataset.key)")
    assert keys == ["duties", "legal_basis", "preconditions", "procedure", "time_limit", "fees"]
    for key in keys:  # every disclosure says something
        assert page.inner_text(f"#disclosures section[data-key={key}]").strip().count("\n") >= 1
    assert page.eval_on_selector_all("#materials li", "l => l.map(x => x.textContent)") == [
        "申请书", "身份证明"]
    shot(page, "kiosk-item-1080x1920.png")
    no_serious_axe_violations(page)

    # Impatient taps, five within one frame: one ticket.
    page.evaluate("() => { for (let i = 0; i < 5; i++) document.getElementById('take').click(); }")
    page.wait_for_selector("#ticket:not([hidden])", timeout=TIMEOUT_MS)
    number = page.inner_text("#ticket-number")
    assert number == "A001"
    text_has(page, "#ticket-ahead", "前面还有 0 人")
    text_has(page, "#print-status", "已打印")
    assert page.locator("#reprint").is_hidden()
    shot(page, "kiosk-ticket-1080x1920.png")
    no_serious_axe_violations(page)
    assert waiting(hub, "S1") == 1
    [job] = printed_jobs(printer)
    text = text_of(job)
    assert "A001" in text and "企业设立登记" in text and "身份证明" in text  # materials asked
    link = page.evaluate("window.kiosk.state.ticket.link")  # its page on the citizen's phone
    assert link.startswith(f"{hub.url}/t/") and qr_payloads(job) == [link]

    page.click("#done")
    page.wait_for_selector("#home:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, ".tile[data-service=S1] .waiting", "1")  # live, from the hub's status

    # A second ticket without the materials list: the next number, one ahead.
    page.click(".tile[data-service=S1]")
    page.click("#print-materials")
    page.dblclick("#take")  # a double tap: one ticket
    page.wait_for_selector("#ticket:not([hidden])", timeout=TIMEOUT_MS)
    assert page.inner_text("#ticket-number") == "A002"
    text_has(page, "#ticket-ahead", "前面还有 1 人")
    text_has(page, "#ticket-wait", "分钟")
    text_has(page, "#print-status", "已打印")
    assert "一次性告知" not in text_of(printed_jobs(printer)[1])
    assert not page.errors, page.errors
    only_local(page, hub.url)


def test_paper_out_says_ask_the_front_desk_and_prints_again(browser, hall):  # noqa: F811
    hub, printer = hall
    page = kiosk_page(browser, hub, PORTRAIT)
    printer.faults.paper_out = True
    page.click(".tile[data-service=S2]")
    page.click("#take")
    page.wait_for_selector("#ticket:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, "#print-status", "请凭屏幕上的号码到服务台")
    assert waiting(hub, "S2") == 1  # the ticket stands
    eventually(lambda: devices(hub)["printer@test-kiosk"]["status"] == "error",
               what="the device alert")
    printer.faults.paper_out = False
    page.click("#reprint")
    text_has(page, "#print-status", "已打印")
    assert page.inner_text("#ticket-number") in text_of(printed_jobs(printer)[-1])


def test_a_reprint_after_a_hub_restart_still_has_the_materials_list(browser, hall):  # noqa: F811
    """重新打印 prints what the first print had: the page says so, as the restarted hub no
    longer remembers."""
    hub, printer = hall
    page = kiosk_page(browser, hub, PORTRAIT)
    printer.faults.paper_out = True
    page.click(".tile[data-service=S2]")
    assert page.get_attribute("#print-materials", "aria-pressed") == "true"
    page.click("#take")
    page.wait_for_selector("#ticket:not([hidden])", timeout=TIMEOUT_MS)
    text_has(page, "#print-status", "请凭屏幕上的号码到服务台")
    hub.kill()
    printer.faults.paper_out = False  # paper put in while the hub is away
    hub.start()
    eventually(lambda: page.evaluate("window.kiosk.state.connected"),
               what="the page connected to the restarted hub")
    eventually(lambda: devices(hub)["printer@test-kiosk"]["status"] == "online",
               what="the agent's printer back on the restarted hub")
    page.click("#reprint")
    text_has(page, "#print-status", "已打印")
    job = text_of(printed_jobs(printer)[-1])
    assert page.inner_text("#ticket-number") in job
    assert "一次性告知" in job and "变更申请书" in job
    assert not [e for e in page.errors if "ERR_CONNECTION_REFUSED" not in e], page.errors


def test_green_channel_appointment_slip_and_complaint(browser, hall):  # noqa: F811, PLR0915
    hub, _printer = hall
    day = requests.get(f"{hub.url}/healthz", timeout=5).json()["day"]
    r = requests.post(f"{hub.url}/api/v1/green-passes", headers=office(hub), timeout=5,
                      json={"code": "G-2026-7", "project": "重点项目", "service": "S2"})
    assert r.status_code == 201, r.text
    r = requests.post(f"{hub.url}/api/v1/appointments", headers=office(hub), timeout=5,
                      json={"code": "YY123456", "service": "S3", "day": day})
    assert r.status_code == 201, r.text
    clerk = hub.login("clerk1", 1)
    assert hub.issue("S1").ok and hub.act(clerk, 1, "call-next").ok
    done = hub.act(clerk, 1, "finish", outcome="commitment").json()
    slip = next(e for e in done["events"] if e["type"] == "ticket.finished")[
        "data"]["outcome"]["slip"]
    scanner = Client(hub.url, "/device", {"token": hub.tokens["agent"], "windows": [],
                                          "kiosk": "test-kiosk"})
    page = kiosk_page(browser, hub, LANDSCAPE)
    try:
        shot(page, "kiosk-home-1920x1080.png")
        # 绿色通道: a typed code; the pass names its item, so no item is chosen.
        page.click("#go-green")
        page.fill("#code-input", "nope")
        page.click("#code-submit")
        text_has(page, "#code-error", "绿色通道服务卡无效")
        no_serious_axe_violations(page)
        page.fill("#code-input", "G-2026-7")
        page.click("#code-submit")
        page.wait_for_selector("#ticket:not([hidden])", timeout=TIMEOUT_MS)
        assert page.inner_text("#ticket-number") == "A002"
        text_has(page, "#ticket-channel", "绿色通道")
        shot(page, "kiosk-ticket-1920x1080.png")
        page.click("#done")

        # 预约签到 by scanning the appointment's QR code at the scanner.
        page.click("#go-appointment")
        page.wait_for_selector("#code-screen:not([hidden])", timeout=TIMEOUT_MS)
        assert scanner.call("scan", {"text": "YY123456"}) == {"ok": True}
        page.wait_for_selector("#ticket:not([hidden])", timeout=TIMEOUT_MS)
        assert page.inner_text("#ticket-number") == "B001"
        page.click("#done")

        # 承诺单: typed, then scanned on the home screen (the slip's barcode opens the lookup).
        page.click("#go-slip")
        page.fill("#slip-input", "CN000")
        page.click("#slip-submit")
        page.wait_for_selector("#slip-error:not([hidden])", timeout=TIMEOUT_MS)
        page.fill("#slip-input", slip)
        page.click("#slip-submit")
        text_has(page, "#slip-result", "受理")
        text_has(page, "#slip-result", slip)
        promised = requests.get(f"{hub.url}/api/v1/slips/{slip}", headers=office(hub),
                                timeout=5).json()["promised_date"]
        text_has(page, "#slip-result", promised)
        shot(page, "kiosk-slip-1920x1080.png")
        no_serious_axe_violations(page)
        page.click("#slip-back")
        assert scanner.call("scan", {"text": slip})["ok"]
        page.wait_for_selector("#slip-screen:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#slip-result", "受理")
        page.click("#slip-back")

        # 投诉建议 (art. 27): the complaint phone is shown; the receipt has the number.
        page.click("#go-complaint")
        text_has(page, "#complaint-screen", "0416")  # hall-24h's complaint_phone
        page.click(".category[data-code=efficiency]")
        page.select_option("#complaint-window", "1")
        page.fill("#complaint-text", "等候时间太长，希望增加窗口")
        page.fill("#complaint-phone", "138 0000 0000")
        shot(page, "kiosk-complaint-1920x1080.png")
        no_serious_axe_violations(page)
        page.click("#complaint-submit")
        page.wait_for_selector("#complaint-done:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#complaint-done", f"TS{day.replace('-', '')}0001")
        assert not page.errors, page.errors
        only_local(page, hub.url)
    finally:
        scanner.close()


def test_elderly_mode_english_and_the_idle_reset(browser, hall):  # noqa: F811
    hub, _printer = hall
    page = kiosk_page(browser, hub, PORTRAIT, clock=True)
    height = "t => t.getBoundingClientRect().height"
    normal = page.eval_on_selector(".tile[data-service=S1]", height)
    page.click("#toggle-elderly")
    assert page.evaluate("document.body.classList.contains('elderly')")
    big = page.eval_on_selector(".tile[data-service=S1]", height)
    assert big > normal
    font = page.eval_on_selector("#take", "b => parseFloat(getComputedStyle(b).fontSize)")
    assert font >= 28
    page.click("#toggle-lang")
    assert page.locator(".tile[data-service=S1] [lang=en]").first.is_visible()
    shot(page, "kiosk-home-elderly-1080x1920.png")
    no_serious_axe_violations(page)
    page.click("#go-complaint")
    page.fill("#complaint-text", "个人信息 13800000000")
    page.fill("#complaint-phone", "13800000000")
    no_serious_axe_violations(page)

    idle = hub.config.read_text()  # the hall file leaves idle_seconds at its default, 60 s
    assert "idle_seconds" not in idle
    page.clock.fast_forward(61_000)
    page.wait_for_selector("#home:not([hidden])", timeout=TIMEOUT_MS)
    assert not page.evaluate("document.body.classList.contains('elderly')")
    assert not page.locator(".tile[data-service=S1] [lang=en]").first.is_visible()
    assert page.input_value("#complaint-text") == "" and page.input_value("#complaint-phone") == ""
    assert "13800000000" not in page.inner_text("body")
    assert not page.errors, page.errors


def test_a_kiosk_started_without_its_token_shows_its_pairing_code(browser, quiet_hub):  # noqa: F811
    """A kiosk without a token asks to be paired, in both languages (tests/test_pairing_pages.py
    approves one)."""
    page = open_page(browser, f"{quiet_hub.url}/kiosk/", *PORTRAIT)
    page.wait_for_function("() => document.querySelector('#pairing-code')?.dataset.code",
                           timeout=TIMEOUT_MS)
    text_has(page, "#pairing", "配对此设备")
    text_has(page, "#pairing", "Pair this device")
    # shown in English too, though the kiosk shows English to citizens only on request
    assert all(n.is_visible() for n in page.locator("#pairing [lang=en]").all())
    assert not page.errors, page.errors
