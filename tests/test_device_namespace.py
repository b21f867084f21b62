"""The /device namespace: caller keys, rating presses and health from an agent, exactly once."""

from __future__ import annotations

import datetime as dt
import queue
import uuid

import pytest
import requests

from tests.hubproc import HALL_24H, SUITE_CLOCK, HubProcess
from tests.test_sockets import Listener
from tests.waiting import eventually

pytestmark = pytest.mark.slow


def event(kind: str, window: int, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "window": window,
        "at": SUITE_CLOCK().isoformat(),
        **fields,
    }


def ticket(hub, ticket_id: str) -> dict:
    return hub.full_ticket(ticket_id)


def test_caller_keypad_keys_act_for_its_window_only_with_a_clerk(hub):
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        agent.snapshot()
        hub.issue("S1")
        refused = agent.call("device_event", event("key", 1, key="call-next"))
        assert refused["ok"] is False and refused["error"]["code"] == "no_clerk"
        hub.login("clerk1", 1)
        press = event("key", 1, key="call-next")
        first = agent.call("device_event", press)
        assert first["ok"] and first["result"]["current"]["number"] == "A001"
        again = agent.call("device_event", press)  # the agent re-sends after a reconnect
        assert again["ok"] and again["duplicate"] is True
        assert (
            agent.call("device_event", event("key", 2, key="call-next"))["error"]["code"]
            == "wrong_window"
        )
        assert (
            agent.call("device_event", event("key", 1, key="dance"))["error"]["code"]
            == "unknown_key"
        )
        paused = agent.call("device_event", event("key", 1, key="pause"))
        assert paused["error"]["code"] == "ticket_in_service"
        assert agent.call("device_event", event("key", 1, key="finish"))["ok"]
        assert (
            agent.call("device_event", event("key", 1, key="pause"))["result"]["status"] == "paused"
        )
        assert (
            agent.call("device_event", event("key", 1, key="pause"))["result"]["status"] == "open"
        )
    finally:
        agent.close()


def test_a_rating_press_is_stored_once_against_ticket_window_and_clerk(hub):
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[2])
    try:
        agent.snapshot()
        served = hub.issue("S2").json()
        clerk = hub.login("clerk2", 2)
        hub.act(clerk, 2, "call-next")
        early = agent.call("device_event", event("rating", 2, request_id=1, level=1))
        assert early["ok"] is False and early["error"]["code"] == "no_rating_open"
        hub.act(clerk, 2, "finish")
        asked = agent.next_event("rating.requested")
        assert asked["data"]["window_no"] == 2
        assert asked["data"]["clerk_name"] == "职员2" and asked["data"]["staff_no"] == "JZ002"
        press = event("rating", 2, request_id=asked["data"]["request_id"], level=4, reason=2)
        got = agent.call("device_event", press)
        assert got == {"ok": True, "result": {"ticket_id": served["id"], "level": 4}}
        assert agent.call("device_event", press)["duplicate"] is True
        gaming = agent.call(
            "device_event", event("rating", 2, request_id=asked["data"]["request_id"], level=1)
        )
        assert gaming["error"]["code"] == "already_rated"
        rating = ticket(hub, served["id"])["rating"]
        assert (
            rating["status"],
            rating["level"],
            rating["reason"],
            rating["clerk"],
            rating["window"],
        ) == ("rated", 4, "办事效率", "clerk2", 2)
        assert agent.call("device_event", {"id": "short"})["error"]["code"] == "invalid"
        assert agent.call("device_event", "garbage")["error"]["code"] == "invalid"
    finally:
        agent.close()


def test_a_bad_rating_reason_can_be_added_later_at_the_kiosk(hub):
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[3])
    try:
        agent.snapshot()
        served = hub.issue("S3").json()
        clerk = hub.login("clerk3", 3)
        hub.act(clerk, 3, "call-next")
        hub.act(clerk, 3, "finish")
        asked = agent.next_event("rating.requested")
        agent.call(
            "device_event", event("rating", 3, request_id=asked["data"]["request_id"], level=5)
        )
        r = requests.post(
            f"{hub.url}/api/v1/tickets/{served['id']}/rating-reason",
            json={"reason": "等候时间太长"},
            headers=hub.auth(hub.tokens["kiosk"]),
            timeout=5,
        )
        assert r.status_code == 200
        assert ticket(hub, served["id"])["rating"]["reason"] == "等候时间太长"
    finally:
        agent.close()


def test_device_health_reaches_the_office_and_an_agent_gone_is_offline(hub):
    boss = hub.login("super")
    monitor = Listener(hub, "/monitor", boss)
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        monitor.snapshot()
        agent.snapshot()
        device = {"id": "bus1/rating@1", "kind": "rating", "window": 1, "status": "online"}
        assert agent.call("health", {"devices": [device]}) == {"ok": True, "result": {"changed": 1}}
        assert agent.call("health", {"devices": [device]})["result"]["changed"] == 0
        seen = monitor.next_event("device.state_changed")
        assert (seen["data"]["device"], seen["data"]["status"]) == ("bus1/rating@1", "online")
        bad = agent.call("health", {"devices": [{"id": "x", "kind": "k", "status": "melted"}]})
        assert bad["ok"] is False
        other = {"id": "bus9/led@9", "kind": "led", "window": 2, "status": "offline"}
        assert agent.call("health", {"devices": [other]})["error"]["code"] == "wrong_window"
        agent.close()
        gone = monitor.next_event("device.state_changed")
        assert (gone["data"]["status"], gone["data"]["detail"]) == ("offline", "agent disconnected")
    finally:
        monitor.close()


def test_a_kiosk_with_the_longest_name_has_its_devices_health_taken(hub):
    """auth.kiosk may be 64 characters; the agent names the kiosk's devices after it
    (`printer@`, `scanner@`, `id_reader@<kiosk>`, agent/bridge.py), longer than 64. Its health
    reports are taken, not refused whole (no printer state, no ID reader notice)."""
    kiosk = "k" * 64
    agent = Listener(hub, "/device", hub.tokens["agent"], kiosk=kiosk)
    try:
        agent.snapshot()
        report = [{"id": f"{kind}@{kiosk}", "kind": kind, "status": "online"}
                  for kind in ("printer", "scanner", "id_reader")]
        assert agent.call("health", {"devices": report}) == {"ok": True,
                                                              "result": {"changed": 3}}
        too_long = {"id": "d" * 129, "kind": "printer", "status": "online"}
        assert agent.call("health", {"devices": [too_long]})["ok"] is False
    finally:
        agent.close()


def test_an_agent_cannot_fake_its_own_disconnect(hub):
    """An event named `disconnect` used to run the hub's disconnect handler: the agent's
    devices were marked offline while it stayed connected and kept acting."""
    office = hub.login("super")
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        agent.snapshot()
        report = {"devices": [{"id": "kp@1", "kind": "caller_keypad", "window": 1,
                               "status": "online"}]}
        assert agent.call("health", report)["ok"]
        faked = agent.call("disconnect")
        assert faked["ok"] is False and faked["error"]["code"] == "reserved_event", faked
        devices = requests.get(f"{hub.url}/api/v1/devices", headers=hub.auth(office),
                               timeout=5).json()["devices"]
        assert [(d["device"], d["status"]) for d in devices] == [("kp@1", "online")]
    finally:
        agent.close()


def test_an_agents_windows_are_numbers_never_true(hub):
    """`true` is an int to Python: `auth.windows: [true]` was admitted as window 1."""
    from tests.test_sockets import refused

    assert refused(hub, "/device", hub.tokens["agent"], windows=[True])
    assert refused(hub, "/device", hub.tokens["agent"], windows=[1, False])
    assert refused(hub, "/device", hub.tokens["agent"], windows=[2**63])
    assert not refused(hub, "/device", hub.tokens["agent"], windows=[1])


def test_a_slip_printer_reports_health_at_the_windows_it_prints_for(hub):
    """An agent with no keypad at windows 2 and 3, only their 承诺单 printer: it may report the
    printer there (and nowhere else), and the office sees both windows."""
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[],
                     printer={"windows": [2, 3]})
    try:
        agent.snapshot()
        printer = {"id": "printer@slips", "kind": "printer", "window": 2, "windows": [2, 3],
                   "status": "online"}
        assert agent.call("health", {"devices": [printer]})["ok"]
        seen = {d["device"]: d for d in requests.get(
            f"{hub.url}/api/v1/devices", headers=hub.auth(hub.login("super")),
            timeout=5).json()["devices"]}
        assert (seen["printer@slips"]["window"], seen["printer@slips"]["windows"]) == (2, [2, 3])
        for wrong, code in (({"windows": [2, 4]}, "wrong_window"), ({"window": 4}, "wrong_window"),
                            ({"windows": [True]}, "invalid"), ({"windows": [2, 2]}, "invalid"),
                            ({"windows": "2"}, "invalid")):
            answer = agent.call("health", {"devices": [{**printer, **wrong}]})
            assert answer["ok"] is False and answer["error"]["code"] == code, (wrong, answer)
    finally:
        agent.close()


def served_at(hub, agent, window: int) -> tuple[dict, dict]:
    """A ticket served and finished at `window`: (the ticket, its rating.requested)."""
    served = hub.issue("S1" if window == 1 else "S2").json()
    clerk = hub.login(f"clerk{window}", window)
    hub.act(clerk, window, "call-next")
    hub.act(clerk, window, "finish")
    return served, agent.next_event("rating.requested")


def test_a_reason_key_the_hall_does_not_list_costs_the_reason_not_the_rating(hub):
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        agent.snapshot()
        served, asked = served_at(hub, agent, 1)
        press = event("rating", 1, request_id=asked["data"]["request_id"], level=4, reason=7)
        assert agent.call("device_event", press)["ok"] is True  # the hall lists 6 reasons
        rating = ticket(hub, served["id"])["rating"]
        assert (rating["status"], rating["level"], rating.get("reason")) == ("rated", 4, None)
    finally:
        agent.close()


def test_a_keypads_agent_ends_its_ratings_and_what_ended_is_final(hub):
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        agent.snapshot()
        keypad = {"id": "bus1/rating@1", "kind": "rating", "window": 1, "status": "online"}
        assert agent.call("health", {"devices": [keypad]})["ok"]
        served, asked = served_at(hub, agent, 1)
        request_id = asked["data"]["request_id"]
        lost = agent.call("device_event", event("rating_ended", 1, request_id=request_id,
                                                why="device restarted"))
        assert lost == {"ok": True, "result": {"events": ["rating.requested"]}}
        again = agent.next_event("rating.requested")["data"]
        assert (again["request_id"], again["deadline"]) == (request_id, asked["data"]["deadline"])
        ended = agent.call("device_event", event("rating_ended", 1, request_id=request_id,
                                                 why="timeout"))
        assert ended["result"]["events"] == ["rating.expired"]
        assert agent.next_event("rating.expired")["data"]["request_id"] == request_id
        late = agent.call("device_event", event("rating", 1, request_id=request_id, level=5))
        assert late["ok"] is False and late["error"]["code"] == "rating_closed"
        assert ticket(hub, served["id"])["rating"]["status"] == "not_rated"
    finally:
        agent.close()


@pytest.fixture
def short_rating_hub(tmp_path, monkeypatch, request):
    """A hub whose rating window is 5 s, and whose housekeeping tick never comes in a test."""
    monkeypatch.setenv("ONESTOP_TICK_S", "600")
    hall = tmp_path / "hall.toml"
    hall.write_text(HALL_24H.read_text(encoding="utf-8") + "\n[rating]\ntimeout_s = 5\n",
                    encoding="utf-8")
    proc = HubProcess(tmp_path / "data", config=hall)
    proc.provision()
    proc.start()
    request.addfinalizer(proc.stop)
    return proc


def test_without_a_keypad_a_rating_expires_at_its_deadline_not_at_the_tick(short_rating_hub):
    hub = short_rating_hub
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        agent.snapshot()
        served, asked = served_at(hub, agent, 1)
        expired = eventually(lambda: _pushed(agent, "rating.expired"), timeout_s=20,
                             what="rating.expired without the housekeeping tick")
        assert expired["data"]["ticket_id"] == served["id"]
        at = dt.datetime.fromisoformat(expired["at"])
        assert at > dt.datetime.fromisoformat(asked["data"]["deadline"])
    finally:
        agent.close()


def _pushed(listener: Listener, type_: str) -> dict | None:
    try:
        while True:
            event = listener.events.get(timeout=0.1)
            if event["type"] == type_:
                return event
    except queue.Empty:
        return None
