"""好差评 end to end: a real hub and a real agent, the rating keypad simulated on a pty.

The hall's rating window is 5 s (its shortest) so a test waits seconds, not minutes; the keypad's
own clock is the test's to move, so its reason wait ends when the test says. No assertion is on
how fast anything happens, only on what the hub stores and what its event feed says, in order.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest

from devices import regmap as rm
from devices.sim import SimBus, SimCallerKeypad, SimLed, SimRatingKeypad
from tests.hubproc import HALL_24H, SUITE_CLOCK, HubProcess
from tests.test_sockets import Listener
from tests.waiting import eventually

pytestmark = pytest.mark.slow

WINDOW_S = 5


class KeypadClock:
    """The keypad's clock: the real one, or stopped where the test stopped it, moved on by
    whatever the test says."""

    def __init__(self) -> None:
        self.ahead_s = 0.0
        self.stopped_at: float | None = None

    def __call__(self) -> float:
        now = time.monotonic() if self.stopped_at is None else self.stopped_at
        return now + self.ahead_s

    def stop(self) -> None:
        self.stopped_at = time.monotonic()

    def go_on(self, ahead_s: float) -> None:
        self.stopped_at, self.ahead_s = None, self.ahead_s + ahead_s


class Hall:
    def __init__(self, hub: HubProcess, sim: SimBus, clock: KeypadClock) -> None:
        self.hub, self.sim, self.clock = hub, sim, clock
        self.rating, self.caller = sim[1], sim[2]
        # One supervisor session for the feed and the ticket reads: a second sign-in of the
        # same account would end the first, and its socket with it.
        hub.tokens["office"] = hub.login("super")
        self.feed = Listener(hub, "/monitor", hub.tokens["office"])
        self.feed.snapshot()
        self.seen: list[dict] = []
        self.clerk = hub.login("clerk1", 1)

    def serve(self, service: str = "S1") -> dict:
        """Issue a ticket, call it and finish it with the caller keypad; the rating is asked."""
        ticket = self.hub.issue(service).json()
        self.caller.press(rm.CallerKey.CALL_NEXT)
        eventually(lambda: self.caller.number == ticket["number"], what="called")
        self.caller.press(rm.CallerKey.FINISH)
        asked = self.wait_for("rating.requested", ticket["id"])
        eventually(lambda: self.rating.window == asked["data"]["request_id"],
                   what="the keypad asks for the rating")
        return {**ticket, "asked": asked["data"]}

    def events(self) -> list[dict]:
        while not self.feed.events.empty():
            self.seen.append(self.feed.events.get())
        return self.seen

    def wait_for(self, type_: str, ticket_id: str, timeout_s: float = 15.0) -> dict:
        return eventually(lambda: next((e for e in self.events() if e["type"] == type_
                                        and e["data"].get("ticket_id") == ticket_id), None),
                          timeout_s=timeout_s,
                          what=f"{type_} for {ticket_id} (seen: {self.story(ticket_id)})")

    def rating_of(self, ticket_id: str) -> dict:
        return self.hub.full_ticket(ticket_id).get("rating") or {}

    def story(self, ticket_id: str) -> list[str]:
        """The feed's rating events for one ticket, in order."""
        return [e["type"] for e in self.events() if e["data"].get("ticket_id") == ticket_id
                and e["type"] in ("rating.requested", "ticket.rated", "rating.expired")]


@pytest.fixture
def hall(tmp_path, monkeypatch, request):
    monkeypatch.setenv("ONESTOP_TICK_S", "600")  # housekeeping never ends a rating here
    config = tmp_path / "hall.toml"
    rating = f"\n[rating]\ntimeout_s = {WINDOW_S}\n"
    config.write_text(HALL_24H.read_text(encoding="utf-8") + rating, encoding="utf-8")
    hub = HubProcess(tmp_path / "hub", config=config)
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)  # also when the setup below fails
    clock = KeypadClock()
    sim = SimBus([SimRatingKeypad(1, clock=clock), SimCallerKeypad(2), SimLed(3)],
                 baud=115200).start()
    request.addfinalizer(sim.stop)
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text(f"""
name = "window-1"
hub = "{hub.url}"
state_dir = "{tmp_path / 'agent'}"

[[buses]]
port = "{sim.path}"
baud = 115200
poll_interval_ms = 50
reply_timeout_ms = 50
devices = [
  {{ kind = "rating", address = 1, window = 1 }},
  {{ kind = "caller", address = 2, window = 1 }},
  {{ kind = "led", address = 3, window = 1 }},
]
""", encoding="utf-8")
    log = open(tmp_path / "agent.log", "ab")  # noqa: SIM115
    agents: list[subprocess.Popen] = []

    def start_agent() -> None:
        agents.append(subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "--log-level", "info", "agent", "--config",
             str(agent_toml)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ONESTOP_AGENT_TOKEN": hub.tokens["agent"],
                 "PYTHONUNBUFFERED": "1"}))

    start_agent()
    h = None
    try:
        eventually(lambda: sim[3].text == "暂停受理", what="the agent drives the LED")
        h = Hall(hub, sim, clock)
        h.agents, h.start_agent, h.agent_toml = agents, start_agent, agent_toml
        eventually(lambda: sim[3].text == "1号窗口", what="the clerk's window is open")
        yield h
    finally:
        if h is not None:
            h.feed.close()
        for agent in agents:
            agent.terminate()
            try:
                agent.wait(10)
            except subprocess.TimeoutExpired:
                agent.kill()
        log.close()
        print((tmp_path / "agent.log").read_text(errors="replace")[-3000:])
        print(hub.log()[-3000:])


def deadline_of(ticket: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(ticket["asked"]["deadline"])


def test_an_unhappy_press_in_time_without_a_reason_counts(hall):
    """The repro, scaled to a 5 s window: 不满意 pressed with time left and no reason key; the
    keypad latches it only when its reason wait ends, after the hub's deadline."""
    served = hall.serve()
    assert hall.rating.holding[rm.HR_REASON_TIMEOUT_S] != 0  # a real value, not "15 s"
    asked_at = dt.datetime.fromisoformat(hall.wait_for("rating.requested", served["id"])["at"])
    eventually(lambda: SUITE_CLOCK() > asked_at + dt.timedelta(seconds=3),
               what="3 s of the 5 s window gone (20 s of 30)")
    assert hall.rating.press_level(rm.RatingLevel.UNSATISFIED)
    pressed = SUITE_CLOCK()
    hall.clock.stop()  # the citizen reads the reasons and walks off: no reason key
    eventually(lambda: SUITE_CLOCK() > deadline_of(served) + dt.timedelta(seconds=1),
               what="the hub's deadline has passed")
    assert hall.rating_of(served["id"]).get("status") == "pending"  # a press may still come
    hall.clock.go_on(rm.MAX_TIMEOUT_S)  # the keypad's reason wait runs out: it latches
    hall.wait_for("ticket.rated", served["id"])
    rating = hall.rating_of(served["id"])
    assert (rating["status"], rating["level"], rating.get("reason")) == ("rated", 4, None)
    assert dt.datetime.fromisoformat(rating["rated_at"]) <= deadline_of(served)
    assert dt.datetime.fromisoformat(rating["rated_at"]) >= pressed - dt.timedelta(seconds=1)
    assert hall.story(served["id"]) == ["rating.requested", "ticket.rated"]


def test_no_press_ends_the_rating_once_without_the_housekeeping_tick(hall):
    served = hall.serve()
    expired = hall.wait_for("rating.expired", served["id"])
    assert dt.datetime.fromisoformat(expired["at"]) > deadline_of(served)
    assert hall.rating.window == 0  # the keypad's window is closed by then
    assert hall.rating_of(served["id"])["status"] == "not_rated"
    assert hall.story(served["id"]) == ["rating.requested", "rating.expired"]


def test_the_next_finish_keeps_a_press_waiting_for_its_reason(hall):
    first = hall.serve()
    assert hall.rating.press_level(rm.RatingLevel.VERY_UNSATISFIED)  # choosing a reason...
    eventually(lambda: hall.rating.pending, what="waiting for the reason")
    second = hall.serve("S2")  # ...when the clerk finishes the next ticket
    hall.wait_for("ticket.rated", first["id"])
    assert hall.rating_of(first["id"])["level"] == 5
    assert hall.rating.press_rating(rm.RatingLevel.SATISFIED)
    hall.wait_for("ticket.rated", second["id"])
    assert hall.story(first["id"]) == ["rating.requested", "ticket.rated"]
    assert hall.story(second["id"]) == ["rating.requested", "ticket.rated"]


def test_a_replaced_request_without_a_press_is_not_rated_once_and_for_good(hall):
    first = hall.serve()
    second = hall.serve("S2")
    hall.wait_for("rating.expired", first["id"])
    assert hall.rating.press_rating(rm.RatingLevel.SATISFIED)  # for the request it shows
    hall.wait_for("ticket.rated", second["id"])
    assert hall.story(first["id"]) == ["rating.requested", "rating.expired"]
    assert hall.rating_of(first["id"])["status"] == "not_rated"


def test_a_keypad_that_restarts_with_a_window_open_is_asked_again(hall):
    served = hall.serve()
    request_id = served["asked"]["request_id"]
    hall.rating.reboot()
    again = eventually(lambda: [e for e in hall.events() if e["type"] == "rating.requested"
                                and e["data"]["ticket_id"] == served["id"]][1:],
                       what="the hub asks again")[0]
    assert (again["data"]["request_id"], again["data"]["deadline"]) == (
        request_id, served["asked"]["deadline"])
    eventually(lambda: hall.rating.window == request_id, what="the keypad asks again")
    assert hall.rating.press_rating(rm.RatingLevel.VERY_SATISFIED)
    hall.wait_for("ticket.rated", served["id"])
    assert hall.story(served["id"]) == ["rating.requested", "rating.requested", "ticket.rated"]


def test_an_unhappy_press_kept_by_the_keypad_while_its_agent_was_down_counts(hall):
    """The agent dies while 不满意 waits for its reason key; the keypad latches it (reason 0)
    when its reason wait ends, after the hub's deadline, and the agent started again finds it
    in the keypad's ring. It cannot tell when it was pressed, only that the keypad took it while
    that window was open: a rating made in time, never lost for the agent's restart."""
    served = hall.serve()
    assert hall.rating.press_level(rm.RatingLevel.UNSATISFIED)
    eventually(lambda: hall.rating.pending, what="waiting for the reason")
    hall.agents[-1].kill()
    hall.agents[-1].wait(10)
    eventually(lambda: SUITE_CLOCK() > deadline_of(served) + dt.timedelta(seconds=1),
               timeout_s=WINDOW_S + 5, what="the hub's deadline has passed")
    hall.clock.go_on(rm.MAX_TIMEOUT_S)  # the reason wait runs out: the keypad latches it
    hall.start_agent()
    hall.wait_for("ticket.rated", served["id"])
    rating = hall.rating_of(served["id"])
    assert (rating["status"], rating["level"], rating.get("reason")) == ("rated", 4, None)
    assert dt.datetime.fromisoformat(rating["rated_at"]) <= deadline_of(served)
    assert hall.story(served["id"]) == ["rating.requested", "ticket.rated"]
    assert not [e for e in hall.events() if e["type"] == "device.removed"]  # the same devices


def test_an_unhappy_press_waiting_for_its_reason_across_an_agent_restart_counts(hall):
    """The agent stops while 不满意 waits for its reason key, and the clerk serves the next
    citizen meanwhile, so the hub's snapshot to the agent started again asks for the next
    rating, not this one. The keypad still shows the first window (ACTIVE_REQUEST, AWAIT_REASON)
    at the new agent's first poll and latches the level only when the next request's command
    reaches it, after the first window's deadline. The press was made in that window: the new
    agent sends it as found late (the hub dates it by the window's end), not as pressed now,
    which the hub would refuse as too late and end the rating 未评价."""
    served = hall.serve()
    assert hall.rating.press_level(rm.RatingLevel.UNSATISFIED)
    eventually(lambda: hall.rating.pending, what="waiting for the reason")
    hall.clock.stop()  # the citizen reads the reasons: the keypad's reason wait stands still
    hall.agents[-1].terminate()
    hall.agents[-1].wait(10)
    following = hall.hub.issue("S2").json()
    assert hall.hub.act(hall.clerk, 1, "call-next").json()["current"]["id"] == following["id"]
    assert hall.hub.act(hall.clerk, 1, "finish").ok
    hall.wait_for("rating.requested", following["id"])
    eventually(lambda: SUITE_CLOCK() > deadline_of(served) + dt.timedelta(seconds=1),
               timeout_s=WINDOW_S + 5, what="the first rating's deadline has passed")
    assert hall.rating.pending and hall.rating.window == served["asked"]["request_id"]
    hall.start_agent()
    hall.wait_for("ticket.rated", served["id"])
    rating = hall.rating_of(served["id"])
    assert (rating["status"], rating["level"], rating.get("reason")) == ("rated", 4, None)
    assert dt.datetime.fromisoformat(rating["rated_at"]) <= deadline_of(served)
    assert hall.story(served["id"]) == ["rating.requested", "ticket.rated"]


def test_a_keypad_taken_out_of_the_agents_configuration_no_longer_holds_ratings_open(hall):
    """The window's keypad goes for repair: the agent is started again without it. Nothing can
    press at that window now, so its ratings end at their deadline, as at any window without a
    keypad."""
    hall.serve()
    hall.agents[-1].terminate()
    hall.agents[-1].wait(10)
    toml = hall.agent_toml.read_text(encoding="utf-8")
    hall.agent_toml.write_text(toml.replace('{ kind = "rating", address = 1, window = 1 },', ""),
                               encoding="utf-8")
    hall.start_agent()
    removed = eventually(lambda: next((e for e in hall.events() if e["type"] == "device.removed"),
                                      None), what="the keypad removed")
    assert (removed["data"]["device"], removed["data"]["window_at"]) == ("bus1/rating@1", 1)
    ticket = hall.hub.issue("S2").json()
    assert hall.hub.act(hall.clerk, 1, "call-next").json()["current"]["id"] == ticket["id"]
    assert hall.hub.act(hall.clerk, 1, "finish").ok
    asked = hall.wait_for("rating.requested", ticket["id"])
    expired = hall.wait_for("rating.expired", ticket["id"], timeout_s=WINDOW_S + 10)
    assert expired["at"] >= asked["data"]["deadline"]
