"""Socket.IO namespaces of a real hub process, with real python-socketio clients over loopback."""

from __future__ import annotations

import queue
import threading

import pytest
import socketio

pytestmark = pytest.mark.slow


class Listener:
    """A connected client that records its snapshots and pushed events."""

    def __init__(self, hub, namespace: str, token: str | None, **auth) -> None:
        self.client = socketio.Client(reconnection=False)
        self.snapshots: queue.Queue = queue.Queue()
        self.events: queue.Queue = queue.Queue()
        self.signed_out = threading.Event()
        self.client.on("snapshot", self.snapshots.put, namespace=namespace)
        self.client.on("event", self.events.put, namespace=namespace)
        self.client.on("signed_out", lambda data: self.signed_out.set(), namespace=namespace)
        self.namespace = namespace
        self.client.connect(
            hub.url,
            namespaces=[namespace],
            transports=["websocket"],
            auth={"token": token, **auth},
            wait_timeout=5,
        )

    def snapshot(self) -> dict:
        return self.snapshots.get(timeout=5)

    def next_event(self, type_: str) -> dict:
        while True:
            event = self.events.get(timeout=5)
            if event["type"] == type_:
                return event

    def call(self, event: str, data=None) -> dict:
        return self.client.call(event, data, namespace=self.namespace, timeout=5)

    def close(self) -> None:
        self.client.disconnect()


def refused(hub, namespace: str, token: str | None, **auth) -> bool:
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            hub.url,
            namespaces=[namespace],
            transports=["websocket"],
            auth={"token": token, **auth},
            wait_timeout=5,
        )
    except socketio.exceptions.ConnectionError:
        return True
    client.disconnect()
    return False


def test_each_namespace_admits_only_its_roles(hub):
    clerk = hub.login("clerk1", 1)
    boss = hub.login("super")
    t = hub.tokens
    assert refused(hub, "/display", None)
    assert refused(hub, "/display", "garbage")
    assert refused(hub, "/display", t["kiosk"])
    assert not refused(hub, "/display", t["screen"])
    assert refused(hub, "/display", t["screen"], room="window:99")
    assert refused(hub, "/display", t["screen"], room="window:" + "9" * 5000)
    assert not refused(hub, "/display", t["screen"], room="window:2")
    assert refused(hub, "/kiosk", t["screen"])
    assert not refused(hub, "/kiosk", t["kiosk"])
    assert refused(hub, "/caller", t["kiosk"])
    assert refused(hub, "/caller", boss)
    assert not refused(hub, "/caller", clerk)
    assert refused(hub, "/monitor", clerk)
    assert not refused(hub, "/monitor", boss)
    assert refused(hub, "/device", t["screen"])
    assert not refused(hub, "/device", t["agent"])


def test_display_gets_snapshot_then_every_newer_event_with_its_seq(hub):
    screen = Listener(hub, "/display", hub.tokens["screen"], room="hall")
    try:
        snap = screen.snapshot()
        assert len(snap["windows"]) == 4 and snap["waiting"] == {}
        base = snap["seq"]
        number = hub.issue("S1").json()["number"]
        issued = screen.next_event("ticket.issued")
        assert issued["seq"] > base and issued["data"]["number"] == number
        assert "reference" not in issued["data"]
        clerk = hub.login("clerk1", 1)
        hub.act(clerk, 1, "call-next")
        called = screen.next_event("ticket.called")
        assert called["data"] == {
            "ticket_id": issued["data"]["ticket_id"],
            "number": number,
            "service": "S1",
            "window_no": 1,
        }
        assert called["seq"] > issued["seq"]
    finally:
        screen.close()


def test_a_screen_cannot_write(hub):
    screen = Listener(hub, "/display", hub.tokens["screen"])
    try:
        screen.snapshot()
        for event, data in (("issue_ticket", {"service": "S1"}), ("call-next", {})):
            got = screen.client.call(event, data, namespace="/display", timeout=5)
            assert got["ok"] is False and got["error"]["code"] == "unknown_event"
        assert hub.issue("S1").json()["number"] == "A001", "nothing was issued by the screen"
    finally:
        screen.close()


def test_kiosk_and_caller_act_over_sockets_through_the_same_rules(hub):
    kiosk = Listener(hub, "/kiosk", hub.tokens["kiosk"])
    caller = Listener(hub, "/caller", hub.login("clerk3", 3))
    try:
        kiosk.snapshot()
        caller.snapshot()
        got = kiosk.call("issue_ticket", {"service": "S3"})
        assert got["ok"] and got["result"]["ticket"]["number"] == "B001"
        bad = kiosk.call("issue_ticket", {"service": "NOPE"})
        assert bad == {
            "ok": False,
            "error": {"code": "unknown_service", "message": bad["error"]["message"]},
        }
        assert not kiosk.call("issue_ticket", "garbage")["ok"]
        called = caller.call("call-next")
        assert called["ok"] and called["result"]["current"]["number"] == "B001"
        assert caller.call("call-next")["error"]["code"] == "ticket_in_service"
        assert caller.call("finish", {"outcome": "immediate"})["ok"]
        assert caller.call("pause", ["not", "an", "object"])["error"]["code"] == "invalid"
        assert caller.call("pause", {"reason": "会议"})["result"]["status"] == "paused"
        assert caller.call("resume")["ok"]
    finally:
        kiosk.close()
        caller.close()


def test_a_screen_that_missed_events_heals_on_reconnect(hub):
    screen = Listener(hub, "/display", hub.tokens["screen"], room="window:1")
    first = screen.snapshot()
    screen.close()
    for _ in range(3):
        hub.issue("S1")
    clerk = hub.login("clerk1", 1)
    hub.act(clerk, 1, "call-next")
    again = Listener(hub, "/display", hub.tokens["screen"], room="window:1")
    try:
        snap = again.snapshot()
        assert snap["seq"] > first["seq"]
        window1 = next(w for w in snap["windows"] if w["no"] == 1)
        assert window1["current"]["number"] == "A001"
        assert snap["waiting"] == {"S1": 2}
        hub.act(clerk, 1, "finish")
        finished = again.next_event("ticket.finished")
        assert finished["seq"] > snap["seq"]
        assert "outcome" not in finished["data"], "slip numbers stay off the screens"
    finally:
        again.close()


def test_window_room_gets_only_its_window_and_hall_wide_events(hub):
    screen2 = Listener(hub, "/display", hub.tokens["screen"], room="window:2")
    try:
        screen2.snapshot()
        hub.issue("S3")
        hub.act(hub.login("clerk3", 3), 3, "call-next")  # window 3: not for screen 2
        clerk = hub.login("clerk2", 2)  # window 2 signs in
        first = screen2.events.get(timeout=5)
        assert first["type"] == "window.signed_in" and first["data"]["window_no"] == 2
        assert first["data"]["clerk"] == {"name": "职员2", "staff_no": "JZ002"}
        hub.act(clerk, 2, "pause", reason="培训")
        assert screen2.next_event("window.paused")["data"]["reason"] == "培训"
    finally:
        screen2.close()


def test_a_window_room_written_with_a_leading_zero_is_the_same_room(hub):
    screen = Listener(hub, "/display", hub.tokens["screen"], room="window:01")
    try:
        screen.snapshot()
        hub.login("clerk1", 1)
        assert screen.next_event("window.signed_in")["data"]["window_no"] == 1
    finally:
        screen.close()
    assert refused(hub, "/display", hub.tokens["screen"], room="window:١")  # Arabic-Indic 1


def test_second_sign_in_closes_the_first_panel(hub):
    panel = Listener(hub, "/caller", hub.login("clerk1", 1))
    try:
        panel.snapshot()
        hub.login("clerk1", 2)
        assert panel.signed_out.wait(5)
    finally:
        panel.close()


def test_monitor_sees_office_only_events(hub):
    boss = hub.login("super")
    monitor = Listener(hub, "/monitor", boss)
    try:
        snap = monitor.snapshot()
        assert snap["returns"] == []
        import requests

        requests.post(
            f"{hub.url}/api/v1/green-passes",
            json={"code": "G1", "project": "重点项目"},
            headers=hub.auth(boss),
            timeout=5,
        )
        granted = monitor.next_event("green_pass.granted")
        assert granted["data"]["code"] == "G1"
    finally:
        monitor.close()


def test_threading_mode_serves_the_same_namespaces(tmp_path):
    """async_mode stays configurable: the hub also runs without eventlet."""
    from tests.hubproc import HubProcess

    hub = HubProcess(tmp_path / "data", extra_args=["--async-mode", "threading"])
    hub.provision()
    hub.start()
    screen = Listener(hub, "/display", hub.tokens["screen"])
    try:
        assert screen.snapshot()["seq"] == 0
        assert hub.issue("S1").status_code == 201
        assert screen.next_event("ticket.issued")["data"]["number"] == "A001"
    finally:
        screen.close()
        hub.stop()


def test_a_revoked_token_stops_acting_at_once(hub):
    from hub.auth import Role
    from hub.runtime import open_database
    from hub.store.accounts import Accounts
    from tests.hubproc import SUITE_CLOCK

    kiosk = Listener(hub, "/kiosk", hub.tokens["kiosk"])
    try:
        kiosk.snapshot()
        assert kiosk.call("issue_ticket", {"service": "S1"})["ok"]
        accounts = Accounts(open_database(hub.data_dir))
        assert accounts.revoke_tokens(Role.KIOSK, "test-kiosk", SUITE_CLOCK()) == 1
        accounts.db.close()
        refused_now = kiosk.call("issue_ticket", {"service": "S1"})
        assert refused_now["ok"] is False and refused_now["error"]["code"] == "unauthorized"
    finally:
        kiosk.close()


NAMESPACES = ("/display", "/kiosk", "/caller", "/monitor", "/device")


def test_a_client_cannot_send_the_servers_own_events(quiet_hub):
    """`disconnect` and `connect` are the server's: a client's event named so is refused with
    no effect. Before, `disconnect` made the hub forget a socket that stayed connected: after
    the supervisor signed out, it kept getting every office event and no sweep found it."""
    import requests

    hub = quiet_hub
    boss = hub.login("super")
    monitor = Listener(hub, "/monitor", boss)
    try:
        monitor.snapshot()
        for name in ("disconnect", "connect"):
            got = monitor.call(name, {"token": boss})
            assert got["ok"] is False and got["error"]["code"] == "reserved_event", got
        assert requests.post(f"{hub.url}/api/v1/logout", headers=hub.auth(boss),
                             timeout=5).status_code == 204
        assert monitor.signed_out.wait(5), "the ended session's socket is told and dropped"
    finally:
        monitor.close()
    assert "Traceback" not in hub.log()


def test_an_event_with_more_than_one_argument_gets_an_error_ack(quiet_hub):
    hub = quiet_hub
    kiosk = Listener(hub, "/kiosk", hub.tokens["kiosk"])
    caller = Listener(hub, "/caller", hub.login("clerk1", 1))
    try:
        kiosk.snapshot()
        caller.snapshot()
        got = kiosk.client.call("issue_ticket", ({"service": "S1"}, 2), namespace="/kiosk",
                                timeout=5)
        assert got["ok"] is False and got["error"]["code"] == "invalid", got
        got = caller.client.call("pause", ({"reason": "会议"}, {}, 3), namespace="/caller",
                                 timeout=5)
        assert got["ok"] is False and got["error"]["code"] == "invalid", got
        assert hub.issue("S1").json()["number"] == "A001", "nothing was issued"
    finally:
        kiosk.close()
        caller.close()
    assert "Traceback" not in hub.log()


def test_a_token_that_is_not_valid_text_is_refused_cleanly(quiet_hub):
    """A lone surrogate survives Socket.IO's JSON but no encoder: it used to crash the connect
    (a traceback in the log, no answer for the client)."""
    hub = quiet_hub
    for namespace in NAMESPACES:
        assert refused(hub, namespace, "osa_\ud800")
        assert refused(hub, namespace, "x" * 100_000)
    assert "Traceback" not in hub.log()


def test_malformed_packets_are_answered_and_leave_no_traceback(quiet_hub):
    """What a well-behaved library never sends: a payload nested 5,000 deep, JSON that does
    not parse, an event with no name or a number for a name, text with a lone surrogate.
    Each gets an error ack, the connection carries on, nothing changes, nothing is logged as
    a crash."""
    hub = quiet_hub
    from tests.rawsio import RawSocket

    kiosk = RawSocket(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
    try:
        assert kiosk.connected
        for body in ('["issue_ticket",' + "[" * 5000 + "]" * 5000 + "]",
                     '["issue_ticket", {"service": ' + "[" * 5000 + "]" * 5000 + "}]",
                     '["issue_ticket",', "[]", "{}", "[5]", "[null]",
                     '["issue_ticket", {"service": "\\ud800"}]',
                     '["issue_ticket", {"service": "S1"}, {"x": 1}]'):
            ack = kiosk.event_raw(body)
            assert ack[0]["ok"] is False and ack[0]["error"]["code"], (body[:40], ack)
        assert kiosk.alive()
    finally:
        kiosk.close()
    assert hub.issue("S1").json()["number"] == "A001", "nothing was issued"
    assert "Traceback" not in hub.log()


def test_a_green_pass_or_an_appointment_names_its_own_item(hub):
    """The kiosk sends no item with a green-channel or appointment code: the code names it."""
    import requests

    office = hub.login("super")
    for path, body in (("green-passes", {"code": "G-1", "project": "重点项目", "service": "S2"}),
                       ("appointments", {"code": "YY1", "service": "S3",
                                         "day": requests.get(f"{hub.url}/healthz",
                                                             timeout=5).json()["day"]})):
        r = requests.post(f"{hub.url}/api/v1/{path}", headers=hub.auth(office), json=body,
                          timeout=5)
        assert r.status_code == 201, r.text
    kiosk = Listener(hub, "/kiosk", hub.tokens["kiosk"])
    try:
        kiosk.snapshot()
        green = kiosk.call("issue_ticket", {"channel": "green", "code": "G-1"})
        assert green["ok"] and green["result"]["ticket"]["service"] == "S2", green
        booked = kiosk.call("issue_ticket", {"channel": "appointment", "code": "YY1"})
        assert booked["ok"] and booked["result"]["ticket"]["service"] == "S3", booked
        unknown = kiosk.call("issue_ticket", {"channel": "green", "code": "nope"})
        assert unknown["ok"] is False and unknown["error"]["code"] != "invalid", unknown
        missing = kiosk.call("issue_ticket", {"channel": "normal"})
        assert missing["ok"] is False and missing["error"]["code"] == "invalid", missing
    finally:
        kiosk.close()
