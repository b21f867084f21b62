"""The notice before any card (告知, 个人信息保护法 art. 17): a kiosk whose agent has an ID card
reader (`[id_reader]`) is told so in its snapshot and, when the agent comes, goes or changes, by
`id_reader` pushes; its home screen then says 可刷身份证取号 and what a card is used for before
a card is placed. Against a hub process and the kiosk's agent process reading a simulated
GA 467-2013 reader on a pty; the page in the system Chromium (Playwright), with axe-core.

Only the kiosk the reader is named for hears of it: an agent cannot make another kiosk's page
say it has a reader (such a report is ignored, and logged).
"""

from __future__ import annotations

import pytest

from devices.printer.sim import SimPrinter
from devices.sim.idcard import SimIdReader
from hub.auth import Role
from hub.runtime import open_database
from hub.store.accounts import Accounts
from tests.hubproc import SUITE_CLOCK, HubProcess
from tests.idhall import ZHANG, Recorder, id_hall, start_kiosk_agent
from tests.test_display_pages import (  # noqa: F401 - the browser fixture
    TIMEOUT_MS,
    browser,
    glyphs_ok,
    no_serious_axe_violations,
    only_local,
    shot,
    text_has,
)
from tests.test_kiosk_pages import LANDSCAPE, PORTRAIT, kiosk_page
from tests.test_kiosk_printing import devices, start_agent, stop
from tests.test_sockets import Listener
from tests.waiting import eventually

pytestmark = pytest.mark.slow

NOTICE = "#id-reader-notice"
READER = "id_reader@test-kiosk"


class Hall:
    """A hub with the card settings, a second kiosk, and (started when a test says) the first
    kiosk's agent with its printer and ID card reader."""

    def __init__(self, tmp_path, request) -> None:
        self.tmp_path = tmp_path
        self.hub = HubProcess(tmp_path / "hub", config=id_hall(tmp_path))
        self.hub.provision()
        db = open_database(self.hub.data_dir)
        self.hub.tokens["kiosk2"] = Accounts(db).add_token(Role.KIOSK, "kiosk-2", SUITE_CLOCK())
        db.close()
        self.hub.start()
        request.addfinalizer(self.hub.stop)
        self.printer = SimPrinter().start()
        request.addfinalizer(self.printer.stop)
        self.reader = SimIdReader(read_s=0.05).start()
        request.addfinalizer(self.reader.stop)
        self.agent = None
        request.addfinalizer(self.stop_agent)

    def start_agent(self) -> None:
        self.agent = start_kiosk_agent(self.tmp_path, self.hub, self.printer.path, self.reader)

    def stop_agent(self) -> None:
        if self.agent is not None:
            stop(self.agent)
            self.agent = None

    def kiosk(self, token: str = "kiosk") -> Recorder:
        return Recorder(self.hub.url, "/kiosk", {"token": self.hub.tokens[token]})


@pytest.fixture
def hall(tmp_path, request):
    return Hall(tmp_path, request)


def snapshot_kiosk(recorder: Recorder) -> dict:
    eventually(lambda: recorder.pushed("snapshot"), what="the kiosk's snapshot")
    return recorder.pushed("snapshot")[-1]["kiosk"]


def reader_said(recorder: Recorder, ready: bool) -> bool:
    return {"id_reader": True, "id_reader_ready": ready} in recorder.pushed("id_reader")


def test_the_kiosks_snapshot_and_pushes_say_it_has_a_reader(hall):
    kiosk, other = hall.kiosk(), hall.kiosk("kiosk2")
    try:
        # No agent yet: nothing says this kiosk has a reader.
        assert snapshot_kiosk(kiosk) == {"name": "test-kiosk", "printer": False,
                                         "id_reader": False, "id_reader_ready": False}
        # Its agent comes with `[id_reader]`: the page already connected is told.
        hall.start_agent()
        eventually(lambda: reader_said(kiosk, ready=True), timeout_s=20,
                   what="the reader's push to its kiosk")
        later = hall.kiosk()
        try:
            assert snapshot_kiosk(later) == {"name": "test-kiosk", "printer": True,
                                             "id_reader": True, "id_reader_ready": True}
        finally:
            later.close()
        # The agent away (a restart, a cable): still a kiosk with a reader, not reading now.
        hall.stop_agent()
        eventually(lambda: reader_said(kiosk, ready=False), what="the reader offline")
        again = hall.kiosk()
        try:
            kiosk_now = snapshot_kiosk(again)
            assert (kiosk_now["id_reader"], kiosk_now["id_reader_ready"]) == (True, False)
        finally:
            again.close()
        # The other kiosk has no reader and heard nothing of this one's.
        assert snapshot_kiosk(other)["id_reader"] is False
        assert other.pushed("id_reader") == []
    finally:
        kiosk.close()
        other.close()


def test_a_reader_named_for_another_kiosk_is_ignored_and_logged(hall):
    hub = hall.hub
    kiosk2 = hall.kiosk("kiosk2")
    agent = Listener(hub, "/device", hub.tokens["agent"], kiosk="test-kiosk")
    lone = Listener(hub, "/device", hub.tokens["agent"])  # an agent with no kiosk
    try:
        agent.snapshot()
        lone.snapshot()
        hostile = [
            {"id": "id_reader@kiosk-2", "kind": "id_reader", "status": "online"},
            {"id": "id_reader@kiosk-2", "kind": "scanner", "status": "online"},
            {"id": "id_reader@", "kind": "id_reader", "status": "online"},
            {"id": "reader", "kind": "id_reader", "status": "online"},
        ]
        for report in hostile:
            answer = agent.call("health", {"devices": [report]})
            assert answer == {"ok": True, "result": {"changed": 0}}, (report, answer)
        assert lone.call("health", {"devices": [
            {"id": READER, "kind": "id_reader", "status": "online"}]})["result"]["changed"] == 0
        # Its own reader beside them: that one counts, the others are still dropped.
        mixed = agent.call("health", {"devices": [
            hostile[0], {"id": READER, "kind": "id_reader", "status": "online"}]})
        assert mixed == {"ok": True, "result": {"changed": 1}}
        assert READER in devices(hub) and "id_reader@kiosk-2" not in devices(hub)
        assert snapshot_kiosk(kiosk2)["id_reader"] is False
        assert kiosk2.pushed("id_reader") == []
        again = hall.kiosk("kiosk2")
        try:
            assert snapshot_kiosk(again)["id_reader"] is False
        finally:
            again.close()
        assert "an ID card reader's report ignored" in hub.log()
        assert "Traceback" not in hub.log()
    finally:
        agent.close()
        lone.close()
        kiosk2.close()


def notice_shown(page) -> bool:
    return page.is_visible(NOTICE)


def test_the_home_screen_says_what_a_card_is_for_before_any_card(browser, hall):  # noqa: F811
    hub = hall.hub
    page = kiosk_page(browser, hub, PORTRAIT)
    # No agent with a reader: no line about cards on the home screen.
    assert page.is_hidden(NOTICE)
    hall.start_agent()
    page.wait_for_selector(f"{NOTICE}:not([hidden])", timeout=20_000)  # pushed, no reload
    text_has(page, NOTICE, "可刷身份证取号")
    text_has(page, NOTICE, "不保存身份证号码、姓名和住址")
    text = page.eval_on_selector(NOTICE, "n => n.textContent")
    assert text.index("可刷身份证取号") < text.index("You can take a ticket")
    assert text.index("刷身份证仅用于") < text.index("Your ID card is used only")
    assert page.is_hidden("#id-reader-away")
    glyphs_ok(page)
    shot(page, "kiosk-id-reader-notice-1080x1920.png")
    no_serious_axe_violations(page)

    # A fresh page (a reload, a kiosk restarted): shown from its snapshot, before any card.
    fresh = kiosk_page(browser, hub, LANDSCAPE)
    text_has(fresh, NOTICE, "可刷身份证取号")
    shot(fresh, "kiosk-id-reader-notice-1920x1080.png")
    no_serious_axe_violations(fresh)

    # After a swipe the card's own line says it; the home line comes back when the card goes.
    hall.reader.insert(ZHANG)
    page.wait_for_function("() => !!window.kiosk.state.identity", timeout=TIMEOUT_MS)
    hall.reader.remove()
    page.wait_for_selector(NOTICE, state="hidden", timeout=TIMEOUT_MS)
    text_has(page, "#id-card", "不保存身份证号码、姓名和住址")
    page.click("#id-cancel")
    page.wait_for_selector(f"{NOTICE}:not([hidden])", timeout=TIMEOUT_MS)

    # The agent away: the kiosk still has a reader, and says it is not reading now.
    hall.stop_agent()
    page.wait_for_selector("#id-reader-away:not([hidden])", timeout=TIMEOUT_MS)
    assert page.is_hidden("#id-reader-ready")
    text_has(page, NOTICE, "身份证读卡器暂不可用")
    text_has(page, NOTICE, "不保存身份证号码、姓名和住址")
    no_serious_axe_violations(page)
    for p in (page, fresh):
        assert ZHANG.text.name not in p.content() and ZHANG.text.number not in p.content()
        assert not p.errors, p.errors
    only_local(page, hub.url)


def test_a_kiosk_without_a_reader_shows_no_card_line(browser, tmp_path, request):  # noqa: F811
    """A kiosk whose agent has a printer and no reader: nothing about cards on its home."""
    hub = HubProcess(tmp_path / "hub", config=id_hall(tmp_path))
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)
    printer = SimPrinter().start()
    request.addfinalizer(printer.stop)
    agent = start_agent(tmp_path, hub, printer)
    request.addfinalizer(lambda: stop(agent))
    eventually(lambda: devices(hub).get("printer@test-kiosk", {}).get("status") == "online",
               what="the kiosk printer online")
    page = kiosk_page(browser, hub, PORTRAIT)
    assert page.evaluate("window.kiosk.state.kiosk") == {
        "name": "test-kiosk", "printer": True, "id_reader": False, "id_reader_ready": False}
    assert page.is_hidden(NOTICE)
    assert "可刷身份证取号" not in page.inner_text("#home")
    no_serious_axe_violations(page)
    assert not page.errors, page.errors
