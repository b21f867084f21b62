"""The agent's pure parts: the window board, message ordering, the outbox, its config."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from agent.bridge import Agent
from agent.config import AgentConfig, Bus, BusDevice, load_agent_config
from agent.ordering import SeqOrderer
from agent.outbox import Outbox
from agent.windows import Command, WindowBoard
from devices.events import RatingExpired, RatingPress
from devices.regmap import CallerKey, RatingLevel
from devices.sim import SimBus, SimCallerKeypad
from hub.config import ConfigError
from tests.devices.helpers import wait_until

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def snapshot(seq: int = 10, **window) -> dict:
    base = {"no": 3, "services": ["S1"], "status": "open", "current": None}
    return {"seq": seq, "waiting": {"S1": 2, "S9": 5}, "windows": [{**base, **window}]}


def ev(seq: int, type_: str, **data) -> dict:
    return {"seq": seq, "type": type_, "data": data}


def test_snapshot_shows_every_window_and_waiting_of_its_services():
    board = WindowBoard([3])
    commands = board.load(snapshot(current={"number": "A007"}), NOW)
    assert Command("led", 3, text="请A007号") in commands
    assert Command("caller_display", 3, number="A007", waiting=2) in commands


@pytest.mark.parametrize(("status", "text"), [("closed", "暂停受理"), ("paused", "暂停服务"),
                                              ("open", "3号窗口")])
def test_led_text_follows_the_window_status(status, text):
    board = WindowBoard([3])
    assert Command("led", 3, text=text) in board.load(snapshot(status=status), NOW)


def test_events_update_number_and_waiting_and_old_ones_are_ignored():
    board = WindowBoard([3])
    board.load(snapshot(), NOW)
    assert board.apply(ev(9, "ticket.issued", service="S1"), NOW) == []  # in the snapshot
    board.apply(ev(11, "ticket.issued", service="S1", number="A003"), NOW)
    commands = board.apply(ev(12, "ticket.called", service="S1", number="A001",
                              window_no=3), NOW)
    assert Command("led", 3, text="请A001号") in commands
    assert Command("caller_display", 3, number="A001", waiting=2) in commands
    commands = board.apply(ev(13, "ticket.finished", number="A001", window_no=3), NOW)
    assert Command("led", 3, text="3号窗口") in commands


def test_rating_request_lights_the_keypad_with_the_badge_and_closes_on_the_answer():
    board = WindowBoard([3])
    board.load(snapshot(), NOW)
    deadline = NOW + dt.timedelta(seconds=30)
    commands = board.apply(ev(11, "rating.requested", window_no=3, request_id=7,
                              deadline=deadline.isoformat(), clerk_name="李明", staff_no="JZ1001",
                              number="A001", ticket_id="t"), NOW)
    assert commands == [Command("rating_request", 3, text="李明 工号JZ1001", request_id=7,
                                timeout_s=30, left_s=30.0)]
    assert board.open_rating(3) == 7
    assert board.apply(ev(12, "ticket.rated", window_no=3, request_id=6), NOW) == []
    assert board.apply(ev(13, "ticket.rated", window_no=3, request_id=7), NOW) == [
        Command("rating_thanks", 3)]
    assert board.open_rating(3) is None


def test_other_windows_events_change_only_waiting_counts():
    board = WindowBoard([3])
    board.load(snapshot(), NOW)
    commands = board.apply(ev(11, "ticket.called", service="S1", number="A001",
                              window_no=4), NOW)
    assert Command("caller_display", 3, number="", waiting=1) in commands


def test_orderer_hands_out_messages_by_seq_despite_arrival_order():
    orderer = SeqOrderer(hold_s=0.05)
    orderer.put("event", {"seq": 12})
    orderer.put("event", {"seq": 11})
    orderer.put("snapshot", {"seq": 10})
    got = [orderer.take(1.0) for _ in range(3)]
    assert [m["seq"] for _, m in got] == [10, 11, 12]
    assert orderer.take(0.05) is None
    orderer.close()


def test_outbox_survives_a_restart_in_order_and_forgets_answered_events(tmp_path):
    box = Outbox(tmp_path / "o.db")
    first = box.put({"kind": "rating", "level": 1})
    box.put({"kind": "key", "key": "call-next"})
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert len(again) == 2 and again.peek()["id"] == first
    again.remove(first)
    assert again.peek()["key"] == "call-next"
    threads = [threading.Thread(target=again.put, args=({"kind": "key", "n": i},))
               for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(again) == 21


def test_agent_config_is_strict(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('name = "a"\n[[buses]]\nport = "loop://"\n'
                    'devices = [{ kind = "led", address = 300, window = 1 }]\n')
    with pytest.raises(ConfigError) as err:
        load_agent_config(path)
    assert err.value.key == "buses[0].devices[0].address"
    path.write_text('name = "a"\ncolour = "red"\n')
    with pytest.raises(ConfigError) as err:
        load_agent_config(path)
    assert "colour" in str(err.value)
    path.write_text('name = "a"\n[[keypads]]\nport = "loop://"\nwindow = 2\nkind = "rating"\n'
                    'keymap = { "1" = "1", "0x32" = "2" }\n')
    cfg = load_agent_config(path)
    assert cfg.windows() == [2]


def test_a_reconnect_asks_the_keypad_for_the_rating_the_hub_still_waits_for():
    board = WindowBoard([3])
    deadline = NOW + dt.timedelta(seconds=20)
    pending = {"ticket_id": "t", "number": "A001", "request_id": 9,
               "deadline": deadline.isoformat()}
    snap = snapshot(rating=pending, clerk={"name": "李明", "staff_no": "JZ1001"})
    commands = board.load(snap, NOW)
    assert Command("rating_request", 3, text="李明 工号JZ1001", request_id=9,
                   timeout_s=20, left_s=20.0) in commands
    assert not [c for c in board.load(snap, NOW) if c.kind.startswith("rating")], \
        "already asking: nothing to redo"
    commands = board.load(snapshot(seq=11), NOW)  # the hub no longer waits: stop asking
    assert Command("rating_cancel", 3) in commands


def test_keymaps_are_checked_when_the_config_loads(tmp_path):
    path = tmp_path / "agent.toml"
    for keymap, key in (('{ "" = "1" }', "''"), ('{ "1" = "9" }', "'1'"),
                        ('{ "0x300" = "1" }', "'0x300'")):
        path.write_text(f'name = "a"\n[[keypads]]\nport = "loop://"\nwindow = 2\n'
                        f'kind = "rating"\nkeymap = {keymap}\n')
        with pytest.raises(ConfigError) as err:
            load_agent_config(path)
        assert err.value.key == f"keypads[0].keymap.{key}", err.value
    path.write_text('name = "a"\n[[keypads]]\nport = "loop://"\nwindow = 2\nkind = "caller"\n'
                    'keymap = { "a" = "call-next", "b" = "fly" }\n')
    with pytest.raises(ConfigError) as err:
        load_agent_config(path)
    assert "call-next" in err.value.reason


def test_the_agents_key_names_are_the_hubs():
    from agent.config import CALLER_KEYS
    from hub.device_desk import KEYS

    assert CALLER_KEYS == KEYS


def test_the_keypad_closes_no_later_than_the_hub_expects():
    board = WindowBoard([3])
    board.load(snapshot(), NOW)
    deadline = (NOW + dt.timedelta(seconds=29.6)).isoformat()
    (command,) = board.apply(ev(11, "rating.requested", window_no=3, request_id=7,
                                deadline=deadline, ticket_id="t"), NOW)
    assert (command.kind, command.timeout_s) == ("rating_request", 29)  # rounded down, never 0


def test_a_request_whose_deadline_passed_while_away_is_closed_not_opened_for_a_second():
    """Asking for 1 s after the deadline would take a press the hub must refuse; closing it
    makes the keypad report what it took in time, or that nothing came."""
    board = WindowBoard([3])
    deadline = NOW - dt.timedelta(seconds=5)
    pending = {"ticket_id": "t", "number": "A001", "request_id": 9,
               "deadline": deadline.isoformat()}
    commands = board.load(snapshot(rating=pending), NOW)
    assert Command("rating_close", 3, request_id=9, left_s=-5.0) in commands
    assert board.open_rating(3) is None


def test_every_keypad_outcome_goes_to_the_hub_in_order(tmp_path):
    cfg = AgentConfig(name="a", hub="http://127.0.0.1:9", token="t", state_dir=str(tmp_path),
                      buses=[Bus(port="loop://",
                                 devices=[BusDevice(kind="rating", address=1, window=3)])])
    agent = Agent(cfg)
    try:
        name = "bus1/rating@1"
        agent._device_event(RatingPress(name, 1, 1, 7, RatingLevel.UNSATISFIED, 0, at=1e9))
        agent._device_event(RatingExpired(name, 1, 8, "replaced", at=1e9 + 1))
        first = agent.outbox.peek()
        assert (first["kind"], first["request_id"], first["level"]) == ("rating", 7, 4)
        agent.outbox.remove(first["id"])
        ended = agent.outbox.peek()
        assert {k: ended[k] for k in ("kind", "window", "request_id", "why")} == {
            "kind": "rating_ended", "window": 3, "request_id": 8, "why": "replaced"}
    finally:
        agent.outbox.close()


def test_a_key_a_poll_took_as_the_agent_stops_reaches_the_outbox(tmp_path):
    """The bus thread has read a caller key off its keypad (the device no longer offers it to
    the next agent: a call-next from before it started is stale) when the agent is told to
    stop: the key goes into the outbox before the outbox closes."""
    sim = SimBus([SimCallerKeypad(2)], baud=115200).start()
    try:
        cfg = AgentConfig(name="a", hub="http://127.0.0.1:9", token="t",
                          state_dir=str(tmp_path),
                          buses=[Bus(port=sim.path, baud=115200, devices=[
                              BusDevice(kind="caller", address=2, window=3)])])
        agent = Agent(cfg)
        driver = agent.devices["bus1/caller@2"].driver
        taken, go_on = threading.Event(), threading.Event()
        poll = driver.poll

        def poll_held_after_a_key() -> list:
            events = poll()
            if events:  # the key is off the keypad, not yet handed to the agent
                taken.set()
                go_on.wait(10)
            return events

        driver.poll = poll_held_after_a_key
        agent.start()
        wait_until(lambda: driver.boot_id is not None)  # first contact made
        sim[2].press(CallerKey.CALL_NEXT)
        assert taken.wait(10)
        stopping = threading.Thread(target=agent.stop)
        stopping.start()
        stopping.join(0.5)  # the agent stopping while its bus thread holds the key
        go_on.set()
        stopping.join(10)
        assert not stopping.is_alive()
        outbox = Outbox(tmp_path / "outbox.db")
        try:
            item = outbox.peek()
            assert item is not None and (item["kind"], item["key"], item["window"]) == (
                "key", "call-next", 3)
        finally:
            outbox.close()
    finally:
        sim.stop()


def test_a_job_cut_short_by_the_agent_stopping_is_not_reported_as_its_fault(tmp_path, caplog):
    """The printer answers the station's first status check, then goes silent: the job waits
    for its status answer when the agent stops and closes the port under it. That is neither
    a malformed job nor a printer failure to report."""
    import os
    import select

    from agent.config import Printer
    from agent.printing import PrintStation
    from devices.printer import PrinterDriver, transport_for
    from devices.printer.status import ALL, OK_BYTE, request
    from devices.sim.pty import PtyPort

    port = PtyPort(str(tmp_path / "ttyPRN"))
    port.plug()
    assert port.fd is not None
    results: list[tuple] = []
    driver = PrinterDriver(transport_for(port.link), "80mm", require_status=True,
                           status_timeout_s=30.0)
    station = PrintStation(Printer(target=port.link, status_interval_s=60.0),
                           lambda *r: results.append(r), lambda *h: None, driver=driver)
    stop = threading.Event()
    printing = threading.Thread(target=station.run, args=(stop,), daemon=True)
    printing.start()
    heard = bytearray()

    def hear(until: bytes) -> None:
        while until not in heard:
            assert select.select([port.fd], [], [], 10)[0], bytes(heard)
            heard.extend(os.read(port.fd, 256))

    for n in ALL:  # the station's first check: a healthy printer
        hear(request(n))
        os.write(port.fd, bytes([OK_BYTE]))
    heard.clear()
    station.submit({"job": "j1", "kind": "ticket", "ticket": {
        "ticket_id": "t1", "number": "A001", "center_name": "测试中心", "item": "事项",
        "issued_at": "2026-11-25T09:00:00+08:00"}})
    hear(request(ALL[0]))  # the job's own status check, left unanswered
    with caplog.at_level("INFO", logger="agent.printing"):
        station.stop()
        stop.set()
        printing.join(10)
    assert not printing.is_alive()
    assert results == []
    assert "interrupted" in caplog.text and "malformed" not in caplog.text
    port.unplug()
