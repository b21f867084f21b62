"""Keypad press → rating committed in the hub, through the real chain.

A hub process (as deployed), a real device agent (its bus thread, outbox and Socket.IO link, in
this process) and a simulated RS-485 bus that paces its bytes at the baud rate. Each round a
clerk finishes a ticket, the agent opens the rating keypad, and once it is open the benchmark
presses a level after a random 0.2-1.2 s (a citizen's reaction: so the press lands anywhere in
the poll cycle, not always just after the keypad was written) and notes the time; the latency
is the hub's commit time of `ticket.rated` (the event's `at`, same machine clock) minus the
press. Two buses: one window's three devices, and a full bus of ten windows (30 devices) and
two more LEDs.

    .venv/bin/python benchmarks/rating_latency.py [--baud 115200] [--rounds 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import queue
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import socketio  # noqa: E402

from agent.bridge import Agent  # noqa: E402
from agent.config import AgentConfig, Bus, BusDevice  # noqa: E402
from benchmarks.common import OUT_DIR, summarize_ms  # noqa: E402
from devices.sim import SimBus, SimCallerKeypad, SimLed, SimRatingKeypad  # noqa: E402
from tests.hubproc import HubProcess  # noqa: E402

POLL_INTERVAL_MS = 50


def wait_for(check, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.002)


def sim_devices(full_bus: bool) -> list:
    """One window's three devices; or a full bus: ten windows' (30 devices) and two more LEDs."""
    windows = 10 if full_bus else 1
    devices = []
    for w in range(windows):
        devices += [SimRatingKeypad(3 * w + 1), SimCallerKeypad(3 * w + 2), SimLed(3 * w + 3)]
    if full_bus:
        devices += [SimLed(31), SimLed(32)]
    return devices


def agent_devices(sim: SimBus) -> list[BusDevice]:
    kinds = {SimRatingKeypad: "rating", SimCallerKeypad: "caller", SimLed: "led"}
    return [BusDevice(kind=kinds[type(d)], address=d.address,
                      window=min(4, 1 + (d.address - 1) // 3)) for d in sim.devices.values()]


def bench(baud: int, rounds: int, full_bus: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-rating-") as tmp:
        hub = HubProcess(Path(tmp) / "hub")
        hub.provision()
        hub.start()
        sim = SimBus(sim_devices(full_bus), baud=baud, pace=True).start()
        devices = agent_devices(sim)
        agent = Agent(AgentConfig(
            name="bench", hub=hub.url, token=hub.tokens["agent"],
            state_dir=str(Path(tmp) / "agent"),
            buses=[Bus(port=sim.path, baud=baud, poll_interval_ms=POLL_INTERVAL_MS,
                       reply_timeout_ms=100 if baud < 19200 else 50, devices=devices)]))
        rated: queue.Queue = queue.Queue()
        monitor = socketio.Client()
        monitor.on("event", lambda e: rated.put(e) if e["type"] == "ticket.rated" else None,
                   namespace="/monitor")
        try:
            agent.start()
            monitor.connect(hub.url, namespaces=["/monitor"], transports=["websocket"],
                            auth={"token": hub.login("super")}, wait_timeout=5)
            clerk = hub.login("clerk1", 1)
            keypad = sim[1]
            rng = random.Random(baud + full_bus)
            latencies = []
            for _ in range(rounds + 3):
                hub.issue("S2")
                hub.act(clerk, 1, "call-next")
                request_id = hub.act(clerk, 1, "finish").json()["events"][-1]["data"][
                    "request_id"]
                wait_for(lambda rid=request_id: keypad.window == rid)
                time.sleep(rng.uniform(0.2, 1.2))
                pressed = time.time()
                assert keypad.press_rating(2)
                event = rated.get(timeout=10)
                committed = dt.datetime.fromisoformat(event["at"]).timestamp()
                latencies.append(committed - pressed)
            latencies = latencies[3:]  # warm-up
        finally:
            monitor.disconnect()
            agent.stop()
            sim.stop()
            hub.stop()
    return {"baud": baud, "devices": 32 if full_bus else 3, "poll_interval_ms": POLL_INTERVAL_MS,
            **summarize_ms(latencies)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baud", type=int, action="append")
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args(argv)
    results = []
    for baud in args.baud or [115200, 9600]:
        for full_bus in (False, True):
            result = bench(baud, args.rounds, full_bus)
            results.append(result)
            print(json.dumps(result), flush=True)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "rating_latency.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
