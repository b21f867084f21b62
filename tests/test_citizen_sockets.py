"""The /citizen namespace against a real hub process, with real Socket.IO clients over loopback:
a phone admitted by its ticket's capability only, told when its ticket is called (view and
alert), while another ticket's phone hears only its item's tick."""

from __future__ import annotations

import threading

import pytest
import socketio

from tests.hubproc import SUITE_START, HubProcess
from tests.waiting import eventually

pytestmark = pytest.mark.slow


class Phone:
    """A phone page's socket: keeps everything the hub sends it."""

    def __init__(self, url: str, capability: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.got: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.sio.on("*", self._keep, namespace="/citizen")
        self.sio.connect(url, namespaces=["/citizen"], auth={"capability": capability},
                         transports=["websocket"], wait_timeout=5)

    def _keep(self, event, data=None):
        with self.lock:
            self.got.append((event, data))

    def names(self) -> list[str]:
        with self.lock:
            return [n for n, _ in self.got]

    def pushed(self, name: str) -> list:
        with self.lock:
            return [d for n, d in self.got if n == name]

    def refresh(self) -> dict:
        return self.sio.call("refresh", {}, namespace="/citizen", timeout=5)

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def hub(tmp_path):
    found = HubProcess(tmp_path / "hub", clock=SUITE_START.isoformat())
    found.provision()
    found.start()
    yield found
    found.stop()


def capability_of(ticket: dict) -> str:
    return ticket["link"].rsplit("/", 1)[1]


def test_the_called_ticket_s_phone_is_alerted_and_another_hears_only_its_item_tick(hub):
    first, second = hub.issue("S1").json(), hub.issue("S1").json()
    other_item = hub.issue("S2").json()
    called = Phone(hub.url, capability_of(first))
    waiting = Phone(hub.url, capability_of(second))
    elsewhere = Phone(hub.url, capability_of(other_item))
    phones = (called, waiting, elsewhere)
    try:
        for phone in phones:
            eventually(lambda p=phone: p.pushed("view"), what="the view on connect")
        assert waiting.pushed("view")[0]["people_ahead"] == 1
        clerk = hub.login("clerk1", 1)
        assert hub.act(clerk, 1, "call-next").ok
        alert = eventually(lambda: called.pushed("alert"), what="the called alert")
        assert alert == [{"kind": "called", "window": 1}]
        view = eventually(lambda: [v for v in called.pushed("view") if v["status"] == "called"],
                          what="the called view")[0]
        assert view["called"]["window"] == 1 and view["number"] == first["number"]
        eventually(lambda: waiting.pushed("queue_moved"), what="the item's tick")
        assert waiting.pushed("queue_moved") == [{"service": "S1"}]
        assert waiting.names().count("view") == 1 and not waiting.pushed("alert")
        refreshed = waiting.refresh()
        assert refreshed["ok"] and refreshed["result"]["people_ahead"] == 0
        assert hub.act(clerk, 1, "recall").ok
        eventually(lambda: len(called.pushed("alert")) == 2, what="the recall alert")
        assert called.pushed("alert")[1]["kind"] == "recalled"
        # The other item's phone heard nothing of S1; no phone ever got the hall or an event.
        assert elsewhere.names() == ["view"]
        for phone in phones:
            assert not {"snapshot", "event", "status"} & set(phone.names())
    finally:
        for phone in phones:
            phone.close()


def test_a_phone_without_a_valid_capability_is_refused(hub):
    ticket = hub.issue("S1").json()
    forged = capability_of(ticket)[:-2] + "zz"
    for auth in ({"capability": forged}, {"capability": "x"}, {}, {"token": hub.tokens["kiosk"]}):
        sio = socketio.Client(reconnection=False)
        reasons: list = []
        sio.on("connect_error", reasons.append, namespace="/citizen")
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(hub.url, namespaces=["/citizen"], auth=auth, transports=["websocket"],
                        wait_timeout=5)
        assert [r["data"]["code"] for r in reasons] == ["unknown_link"], (auth, reasons)
        sio.disconnect()
