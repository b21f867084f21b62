"""The poller that owns one RS-485 bus: polls its devices in turn, runs queued commands between
polls, reports events and health changes, and reopens the port after an unplug.

The agent runs `Bus.run()` in a worker thread. Callbacks are called on that thread: hand their
arguments to your own loop (a queue, `socketio.start_background_task`), never block in them.

Scheduling: a device is polled at most every `poll_interval_s`; when the wire is slower than
that (32 devices at 9600 baud need about 0.9 s), devices are simply polled back to back in turn.
An offline device is tried once per `offline_poll_interval_s` (1 s), so it costs the bus one
reply timeout a second and is back online within about a second of answering again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from devices.driver import BusDevice
from devices.errors import DeviceError, DeviceGone
from devices.events import Event, HealthChange
from devices.master import Health, ModbusMaster

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.1  # as the agent's poll_interval_ms = 100 (docs/devices.md §2)
OFFLINE_POLL_INTERVAL_S = 1.0

T = TypeVar("T")


class Bus:
    def __init__(self, master: ModbusMaster, devices: Sequence[BusDevice], *,
                 on_event: Callable[[Event], Any] | None = None,
                 on_health: Callable[[HealthChange], Any] | None = None,
                 poll_interval_s: float = POLL_INTERVAL_S,
                 offline_poll_interval_s: float = OFFLINE_POLL_INTERVAL_S,
                 name: str = "bus") -> None:
        addresses = [d.address for d in devices]
        if len(set(addresses)) != len(addresses):
            raise ValueError(f"{name}: two devices at the same address: {sorted(addresses)}")
        self.master, self.devices, self.name = master, list(devices), name
        self.on_event, self.on_health = on_event, on_health
        self.poll_interval_s = poll_interval_s
        self.offline_poll_interval_s = offline_poll_interval_s
        self._due = dict.fromkeys(addresses, 0.0)
        self._reported = {d.address: (Health.UNKNOWN, "") for d in devices}
        self._commands: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = \
            queue.SimpleQueue()
        # Commands of which only the latest matters (what a display shows), by key: run after
        # the queued ones, each once however often it was replaced while waiting.
        self._latest: dict[Hashable, tuple[Future[Any], Callable[[], Any]]] = {}
        self._latest_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._turn = 0

    # --- called from any thread -----------------------------------------------------------------

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run `fn(*args, **kwargs)` (e.g. `led.show`, `keypad.request_rating`) on the bus
        thread before the next poll. The Future holds its result or its DeviceError."""
        fut: Future[T] = Future()
        if self._stop.is_set():
            fut.set_exception(DeviceGone(f"{self.name}: bus stopped"))
            return fut
        self._commands.put((fut, lambda: fn(*args, **kwargs)))
        self._wake.set()
        return fut

    def submit_latest(self, key: Hashable, fn: Callable[..., T], *args: Any) -> Future[T]:
        """As `submit`, but a command with the same `key` still waiting is replaced (its Future
        cancelled): a display shows the latest of a burst of updates (a rush of tickets changes
        a caller keypad's waiting count many times a second), written once, and polling for
        key presses never waits behind updates nobody will see."""
        fut: Future[T] = Future()
        if self._stop.is_set():
            fut.set_exception(DeviceGone(f"{self.name}: bus stopped"))
            return fut
        with self._latest_lock:
            replaced = self._latest.pop(key, None)
            self._latest[key] = (fut, lambda: fn(*args))
        if replaced is not None:
            replaced[0].cancel()
        self._wake.set()
        return fut

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def health(self) -> dict[str, tuple[Health, str]]:
        return {d.name: (d.state, d.health.detail) for d in self.devices}

    # --- the bus thread ---------------------------------------------------------------------------

    def run(self) -> None:
        """Poll until `stop()`. Opens the port (retrying), closes it at the end."""
        log.info("%s: polling %d devices", self.name, len(self.devices))
        try:
            if self._connect():
                while not self._stop.is_set():
                    try:
                        self.step()
                    except DeviceGone as err:
                        self._port_gone(err)
        finally:
            self._fail_commands(DeviceGone(f"{self.name}: bus stopped"))
            self.master.close()
            log.info("%s: stopped", self.name)

    def step(self) -> None:
        """Run queued commands, then poll the next device that is due (or wait for one)."""
        self._run_commands()
        device = self._next_due()
        if device is None:
            wait = min(self._due.values()) - time.monotonic()
            if self._wake.wait(max(0.0, min(wait, 0.5))):
                self._wake.clear()
            return
        self.poll_device(device)

    def poll_cycle(self) -> list[Event]:
        """Poll every device once, in order, ignoring the schedule (benchmarks, tests)."""
        events: list[Event] = []
        for device in self.devices:
            events += self.poll_device(device)
        return events

    def poll_device(self, device: BusDevice) -> list[Event]:
        events: list[Event] = []
        try:
            events = device.poll()
        except DeviceGone:
            raise
        except DeviceError as err:
            log.debug("%s: poll failed: %s", device.name, err)
        if device.state is Health.OFFLINE:
            interval = self.offline_poll_interval_s
        elif device.health.failures:  # a missed reply: confirm (or clear) it quickly
            interval = self.poll_interval_s
        else:  # a device with no keys (an LED) needs polling only to notice a restart
            interval = max(self.poll_interval_s, device.min_poll_interval_s)
        self._due[device.address] = time.monotonic() + interval
        for event in events:
            self._call(self.on_event, event)
        self._report(device)
        return events

    # --- helpers ------------------------------------------------------------------------------

    def _next_due(self) -> BusDevice | None:
        now = time.monotonic()
        n = len(self.devices)
        for i in range(n):  # round robin from the last one polled, so no device starves
            device = self.devices[(self._turn + i) % n]
            if self._due[device.address] <= now:
                self._turn = (self._turn + i + 1) % n
                return device
        return None

    def _waiting(self) -> list[tuple[Future[Any], Callable[[], Any]]]:
        """The commands to run now, in order: the queued ones, then the latest of each key."""
        found = []
        while True:
            try:
                found.append(self._commands.get_nowait())
            except queue.Empty:
                break
        with self._latest_lock:
            found += self._latest.values()
            self._latest = {}
        return found

    def _run_commands(self) -> None:
        waiting = self._waiting()
        while waiting:
            fut, call = waiting.pop(0)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(call())
            except DeviceGone as err:
                fut.set_exception(err)
                for left, _ in waiting:  # the port is gone: the rest fail as queued ones do
                    if left.set_running_or_notify_cancel():
                        left.set_exception(err)
                raise
            except DeviceError as err:  # logged too: a fire-and-forget caller never looks
                log.warning("%s: command failed: %s", self.name, err)
                fut.set_exception(err)
            except Exception as err:  # a bug in `fn`: handed to its caller through the Future
                log.exception("%s: command raised", self.name)
                fut.set_exception(err)
            finally:
                for device in self.devices:
                    self._report(device)

    def _fail_commands(self, err: DeviceError) -> None:
        for fut, _ in self._waiting():
            if fut.set_running_or_notify_cancel():
                fut.set_exception(err)

    def _port_gone(self, err: DeviceGone) -> None:
        log.warning("%s: port gone: %s", self.name, err)
        self._all_offline(f"port gone: {err}")
        self._connect()

    def _all_offline(self, reason: str) -> None:
        self.master.mark_offline([d.address for d in self.devices], reason)
        for device in self.devices:
            self._report(device)

    def _connect(self) -> bool:
        """Open the port, retrying with the transport's backoff; queued commands fail fast
        meanwhile. After a reopen every device is polled at once."""
        transport = self.master.transport
        delay = transport.backoff_initial_s
        while not self._stop.is_set():
            self._fail_commands(DeviceGone(f"{self.name}: port is not open"))
            try:
                self.master.open()
            except DeviceGone as err:
                log.debug("%s: open failed: %s", self.name, err)
                if any(d.state is not Health.OFFLINE for d in self.devices):
                    self._all_offline(f"cannot open port: {err}")
            else:
                self._due = dict.fromkeys(self._due, 0.0)
                return True
            self._stop.wait(delay)
            delay = min(delay * 2, transport.backoff_max_s)
        return False

    def _report(self, device: BusDevice) -> None:
        state, detail = device.state, device.health.detail
        previous, old_detail = self._reported[device.address]
        if state == previous and (state is not Health.ERROR or detail == old_detail):
            return
        self._reported[device.address] = (state, detail)
        log.info("%s: %s -> %s %s", device.name, previous, state, detail)
        self._call(self.on_health, HealthChange(device.name, device.kind.name.lower(),
                                                device.address, state, previous, detail))

    def _call(self, callback: Callable[[Any], Any] | None, arg: Any) -> None:
        if callback is None:
            return
        try:
            callback(arg)
        except Exception:  # the agent's bug must not stop the bus; it is logged in full
            log.exception("%s: callback %r failed", self.name, callback)
