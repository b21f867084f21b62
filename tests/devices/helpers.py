"""Shared rigs for the device tests: a simulated bus on a real pty and a master on its path."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from devices.bus import Bus
from devices.driver import BusDevice
from devices.master import ModbusMaster
from devices.sim import SimBus, SimDevice
from devices.transport import SerialTransport

FAST_BAUD = 115200


@contextmanager
def rig(*devices: SimDevice, baud: int = FAST_BAUD, pace: bool = False,
        **master_kw: Any) -> Iterator[tuple[SimBus, ModbusMaster]]:
    """A simulator hosting `devices` and an open master on its stable path."""
    sim = SimBus(devices, baud=baud, pace=pace).start()
    master = ModbusMaster(SerialTransport(sim.path, baud), **master_kw)
    try:
        master.open()
        yield sim, master
    finally:
        master.close()
        sim.stop()


def wait_until(predicate: Callable[[], Any], timeout_s: float = 5.0,
               step_s: float = 0.01) -> Any:
    """Poll `predicate` until truthy (returned) or fail after `timeout_s`: every wait is bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(step_s)


class Recorder:
    """Collects a Bus's callbacks (thread-safe) with the time each arrived."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.health: list[Any] = []
        self.lock = threading.Lock()

    def on_event(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def on_health(self, change: Any) -> None:
        with self.lock:
            self.health.append((time.monotonic(), change))

    def states(self, device: str) -> list[str]:
        with self.lock:
            return [str(c.state) for _, c in self.health if c.device == device]

    def first_state_at(self, device: str, state: str, after: float = 0.0) -> float | None:
        with self.lock:
            for at, c in self.health:
                if c.device == device and str(c.state) == state and at >= after:
                    return at
        return None


@contextmanager
def running(master: ModbusMaster, devices: list[BusDevice], rec: Recorder,
            **bus_kw: Any) -> Iterator[Bus]:
    """A Bus polling in its own thread, stopped (and joined) at the end."""
    bus = Bus(master, devices, on_event=rec.on_event, on_health=rec.on_health, **bus_kw)
    thread = threading.Thread(target=bus.run, name="test-bus", daemon=True)
    thread.start()
    try:
        yield bus
    finally:
        bus.stop()
        thread.join(timeout=5)
        assert not thread.is_alive(), "bus thread did not stop"
