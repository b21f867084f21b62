"""The whole window chain: hub process, agent process, simulated RS-485 bus on a pty.

Caller keys call and finish, the LED shows the number, the rating keypad lights with the clerk's
badge, a press is stored against the ticket — also when it was pressed while the hub was down —
and a silent device is reported offline, then online again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from devices import regmap as rm
from devices.sim import SimBus, SimCallerKeypad, SimLed, SimRatingKeypad
from tests.hubproc import HubProcess
from tests.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def hall(tmp_path, request):
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)  # also when the setup below fails
    sim = SimBus([SimRatingKeypad(1), SimCallerKeypad(2), SimLed(3)], baud=115200).start()
    request.addfinalizer(sim.stop)
    config = tmp_path / "agent.toml"
    config.write_text(f"""
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
    log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115
    agent = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--log-level", "info", "agent", "--config",
         str(config)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ONESTOP_AGENT_TOKEN": hub.tokens["agent"], "PYTHONUNBUFFERED": "1"})
    yield hub, sim, agent
    agent.terminate()
    try:
        agent.wait(10)
    except subprocess.TimeoutExpired:
        agent.kill()
    print((tmp_path / "agent.log").read_text(errors="replace")[-3000:])


def ticket(hub: HubProcess, ticket_id: str) -> dict:
    return hub.full_ticket(ticket_id)


def test_keys_led_and_rating_through_the_agent(hall):
    hub, sim, _agent = hall
    caller, rating, led = sim[2], sim[1], sim[3]
    eventually(lambda: led.text == "暂停受理", what="LED shows the window closed")
    hub.login("clerk1", 1)
    eventually(lambda: led.text == "1号窗口", what="LED shows the open window")
    served = hub.issue("S1").json()
    caller.press(rm.CallerKey.CALL_NEXT)
    eventually(lambda: led.text == f"请{served['number']}号", what="LED shows the call")
    eventually(lambda: caller.number == served["number"], what="caller display")
    caller.press(rm.CallerKey.FINISH)
    eventually(lambda: rating.window, what="rating keypad opened")
    assert "职员1" in rating.clerk_text and "JZ001" in rating.clerk_text
    assert rating.press_rating(2)
    result = eventually(lambda: ticket(hub, served["id"]).get("rating", {}).get("status")
                        == "rated" and ticket(hub, served["id"])["rating"], what="rating stored")
    assert (result["level"], result["window"], result["clerk"]) == (2, 1, "clerk1")
    eventually(lambda: led.text == "1号窗口", what="LED back to idle")


def test_a_rating_pressed_while_the_hub_is_down_is_not_lost(hall):
    hub, sim, _agent = hall
    caller, rating = sim[2], sim[1]
    hub.login("clerk1", 1)
    served = hub.issue("S2").json()
    eventually(lambda: sim[3].text == "1号窗口", what="agent connected and showing")
    caller.press(rm.CallerKey.CALL_NEXT)
    eventually(lambda: caller.number == served["number"], what="called")
    caller.press(rm.CallerKey.FINISH)
    eventually(lambda: rating.window, what="rating keypad opened")
    hub.kill()
    assert rating.press_rating(5, 2)  # 非常不满意, reason 2: pressed while the hub is down
    time.sleep(1.0)  # the agent has polled it into its outbox by now
    hub.start()
    stored = eventually(lambda: ticket(hub, served["id"]).get("rating", {}).get("status")
                        == "rated" and ticket(hub, served["id"])["rating"], timeout_s=20,
                        what="buffered rating delivered after the restart")
    assert (stored["level"], stored["reason"]) == (5, "办事效率")


def test_a_silent_device_goes_offline_and_comes_back(hall):
    hub, sim, _agent = hall
    boss = hub.login("super")

    def status() -> str | None:
        r = requests.get(f"{hub.url}/api/v1/devices", headers=hub.auth(boss), timeout=5)
        found = {d["device"]: d for d in r.json()["devices"]}
        return found.get("bus1/led@3", {}).get("status")

    eventually(lambda: status() == "online", what="LED online")
    sim[3].faults.set(no_reply=True)
    went = time.monotonic()
    eventually(lambda: status() == "offline", timeout_s=5, what="LED offline")
    assert time.monotonic() - went < 5
    sim[3].faults.clear()
    back = time.monotonic()
    eventually(lambda: status() == "online", timeout_s=5, what="LED online again")
    assert time.monotonic() - back < 2.5
