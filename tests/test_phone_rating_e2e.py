"""好差评 from the phone beside the keypad, end to end: a real hub serving HTTP and Socket.IO on
loopback, a real device agent (its own process), the rating keypad simulated on a pty.

The hub runs in this process (Flask-SocketIO's threading mode on a Werkzeug server) so the test
can call the phone's service, `HallService.rate_by_phone`, as the phone page's route will: the
route itself is the citizen links' part. Everything between that call and the keypad is real:
the commit, the event pushed to the agent's window room, the agent's command to the keypad on
the bus, the keypad's report of how its window ended, and the hub's verdict on it.

No assertion is on how fast anything happens, only on what the hub stores and what its event
feed says, in order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
import requests
from werkzeug.serving import make_server

from devices import regmap as rm
from devices.sim import SimBus, SimCallerKeypad, SimLed, SimRatingKeypad
from hub.engine import DomainError
from hub.runtime import DB_FILE, open_hall
from hub.service import HallService
from hub.web.app import create_app
from tests.hubproc import HALL_24H, SUITE_CLOCK, HubProcess
from tests.test_agent_ratings_e2e import WINDOW_S, Hall, KeypadClock, deadline_of
from tests.waiting import eventually

pytestmark = pytest.mark.slow


class InProcessHub(HubProcess):
    """The hub's app and service in this process, served on a loopback port until stopped."""

    service: HallService

    def start(self, timeout_s: float = 20.0) -> InProcessHub:
        self.service = open_hall(self.config, self.data_dir, clock=SUITE_CLOCK)
        app, _ = create_app(self.service, async_mode="threading")
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        eventually(lambda: requests.get(f"{self.url}/healthz", timeout=1).ok,
                   timeout_s=timeout_s, what="the hub answers")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)
        self.service.db.close()

    def log(self) -> str:
        return ""  # its log is this process's (pytest shows it on failure)


@pytest.fixture
def hall(tmp_path, request):
    config = tmp_path / "hall.toml"
    config.write_text(HALL_24H.read_text(encoding="utf-8")
                      + f"\n[rating]\ntimeout_s = {WINDOW_S}\n", encoding="utf-8")
    hub = InProcessHub(tmp_path / "hub", config=config)
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)
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
    log_path = tmp_path / "agent.log"
    log = open(log_path, "ab")  # noqa: SIM115
    agent = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--log-level", "info", "agent", "--config",
         str(agent_toml)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ONESTOP_AGENT_TOKEN": hub.tokens["agent"], "PYTHONUNBUFFERED": "1"})
    h = None
    try:
        eventually(lambda: sim[3].text == "暂停受理", what="the agent drives the LED")
        h = Hall(hub, sim, clock)
        eventually(lambda: sim[3].text == "1号窗口", what="the clerk's window is open")
        h.agent_log = log_path
        yield h
    finally:
        if h is not None:
            h.feed.close()
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
        log.close()
        print(log_path.read_text(errors="replace")[-3000:])


def verdicts(hall: Hall) -> list[dict]:
    """What the hub answered each device event of the agent, in the order it stored them."""
    conn = sqlite3.connect(f"file:{hall.hub.data_dir / DB_FILE}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT result FROM device_inbox ORDER BY received_at").fetchall()
    finally:
        conn.close()
    return [json.loads(result) for (result,) in rows]


def ratings_stored(hall: Hall, ticket_id: str) -> int:
    conn = sqlite3.connect(f"file:{hall.hub.data_dir / DB_FILE}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM events WHERE type = 'ticket.rated' "
                            "AND ticket_id = ?", (ticket_id,)).fetchone()[0]
    finally:
        conn.close()


def past_the_deadline(hall: Hall, served: dict) -> None:
    """Until the keypad request's deadline is well past: a 未评价 would have come by then."""
    end = deadline_of(served) + dt.timedelta(seconds=2)
    eventually(lambda: SUITE_CLOCK() > end, timeout_s=WINDOW_S + 10,
               what="the keypad's deadline has passed")


def test_a_phone_rating_closes_the_keypads_window_and_nothing_follows_it(hall):
    served = hall.serve()
    assert hall.rating.window == served["asked"]["request_id"]  # the keypad asks
    before = len(verdicts(hall))  # the caller keypad's keys so far
    answer = hall.hub.service.rate_by_phone(served["id"], 2, None, "192.0.2.5")
    assert (answer["status"], answer["channel"]) == ("rated", "phone")
    rated = hall.wait_for("ticket.rated", served["id"])
    assert (rated["data"]["source"], rated["data"]["request_id"]) == (
        "phone", served["asked"]["request_id"])
    eventually(lambda: hall.rating.window == 0, what="the agent closed the keypad's window")
    eventually(lambda: "ended without a press (cancelled)" in hall.agent_log.read_text(),
               what="the keypad reported its window closed")
    eventually(lambda: len(verdicts(hall)) > before, what="the hub took the keypad's report")
    assert verdicts(hall)[before:] == [{"ok": True, "seqs": []}]  # it ends nothing: rated
    assert not hall.rating.press_rating(rm.RatingLevel.VERY_SATISFIED)  # the keypad is closed
    past_the_deadline(hall, served)
    assert hall.story(served["id"]) == ["rating.requested", "ticket.rated"]
    rating = hall.rating_of(served["id"])
    assert (rating["status"], rating["level"], rating["source"]) == ("rated", 2, "phone")
    assert ratings_stored(hall, served["id"]) == 1


def test_a_press_the_keypad_took_before_the_phones_rating_arrived_is_refused(hall):
    """不满意 pressed, the citizen still choosing a reason, when their phone's rating reaches
    the hub: the agent's command latches the level, the keypad delivers it, and the hub refuses
    it `already_rated`. One rating, the phone's; no 未评价."""
    served = hall.serve()
    assert hall.rating.press_level(rm.RatingLevel.UNSATISFIED)
    eventually(lambda: hall.rating.pending, what="the keypad waits for the reason")
    hall.hub.service.rate_by_phone(served["id"], 5, "服务态度", "192.0.2.5")
    hall.wait_for("ticket.rated", served["id"])
    eventually(lambda: not hall.rating.pending and hall.rating.window == 0,
               what="the agent's command latched the level and closed the window")
    refused = eventually(lambda: [v for v in verdicts(hall) if not v["ok"]],
                         what="the hub's verdict on the keypad's press")
    assert [v["error"]["code"] for v in refused] == ["already_rated"]
    past_the_deadline(hall, served)
    assert hall.story(served["id"]) == ["rating.requested", "ticket.rated"]
    rating = hall.rating_of(served["id"])
    assert (rating["level"], rating["reason"], rating["source"]) == (5, "服务态度", "phone")
    assert ratings_stored(hall, served["id"]) == 1


def test_a_keypad_rating_first_leaves_the_phone_refused(hall):
    served = hall.serve()
    assert hall.rating.press_rating(rm.RatingLevel.SATISFIED)
    rated = hall.wait_for("ticket.rated", served["id"])
    assert rated["data"].get("source", "keypad") == "keypad"  # the default is not sent
    with pytest.raises(DomainError) as err:
        hall.hub.service.rate_by_phone(served["id"], 1, None, "192.0.2.5")
    assert err.value.code == "already_rated"
    assert hall.rating_of(served["id"])["source"] == "keypad"
    assert ratings_stored(hall, served["id"]) == 1
