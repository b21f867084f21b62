"""Reader for cheap keypads that send one byte per key over USB-serial (no Modbus, no state).

Many evaluation and caller keypads sold for service halls are a USB-serial chip and a few keys:
each press sends one fixed byte (often ASCII '1'...'5'). The keymap says what each byte means;
an unknown byte is logged and ignored, never guessed. Such a keypad has no rating window of its
own, so the reader keeps one: a rating key is taken only while `request_rating` has opened a
window, and tied to its request id, like the Modbus keypad does on the device. Like that one,
every window it opened gets one outcome, in order: the press, or a RatingExpired (timeout at
its end, replaced by the next request, cancelled).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from devices.errors import DeviceGone
from devices.events import Event, HealthChange, KeyEvent, RatingExpired, RatingPress
from devices.master import Health
from devices.regmap import CallerKey, RatingLevel
from devices.transport import SerialTransport

log = logging.getLogger(__name__)

Key = CallerKey | RatingLevel

# ASCII digits, the factory setting of most such keypads.
RATING_KEYMAP: dict[int, Key] = {ord(str(level.value)): level for level in RatingLevel}
CALLER_KEYMAP: dict[int, Key] = {ord(str(key.value)): key for key in CallerKey}

READ_SLICE_S = 0.2


class ByteKeypad:
    def __init__(self, transport: SerialTransport, keymap: Mapping[int, Key], *,
                 name: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        for byte in keymap:
            if not 0 <= byte <= 255:
                raise ValueError(f"keymap byte {byte} out of range 0-255")
        self.transport, self.keymap = transport, dict(keymap)
        self.name = name or transport.name
        self.clock = clock  # the window's timer (tests pass their own)
        self.seq = 0
        self.unknown = 0  # bytes ignored, for statistics
        self.open_request: int | None = None
        self._rating_deadline = 0.0
        self._ended: list[tuple[int, str]] = []  # windows closed without a press, not yet told
        self._lock = threading.Lock()

    def request_rating(self, request_id: int, timeout_s: float = 60.0) -> None:
        if not 1 <= request_id <= 0xFFFF:
            raise ValueError(f"request id {request_id} out of range 1-65535")
        with self._lock:
            self._time_out()
            if self.open_request not in (None, request_id):
                self._ended.append((self.open_request, "replaced"))
            self.open_request = request_id
            self._rating_deadline = self.clock() + timeout_s

    def cancel(self) -> None:
        with self._lock:
            self._time_out()
            if self.open_request is not None:
                self._ended.append((self.open_request, "cancelled"))
            self.open_request = None

    def close_request(self, request_id: int, ends_at: float = 0.0, why: str = "timeout") -> None:
        """End a request that must be over by now (the agent restarted meanwhile)."""
        with self._lock:
            self._time_out()
            if self.open_request not in (None, request_id):
                self._ended.append((self.open_request, "replaced"))
            self.open_request = None
            self._ended.append((request_id, why))

    def read(self, timeout_s: float = READ_SLICE_S) -> list[Event]:
        """Events for the bytes that arrive within `timeout_s`. Raises DeviceGone."""
        data = self.transport.read_available(time.monotonic() + timeout_s)
        pressed = self.decode(data)
        return self.ended() + pressed  # an ended window is older than any press just read

    def ended(self) -> list[Event]:
        """Windows that closed without a press since the last call, oldest first."""
        with self._lock:
            self._time_out()
            ended, self._ended = self._ended, []
        return [RatingExpired(self.name, 0, rid, why) for rid, why in ended]

    def _time_out(self) -> None:
        """Under the lock: the open window ends if its time is up."""
        if self.open_request is not None and self.clock() > self._rating_deadline:
            self._ended.append((self.open_request, "timeout"))
            self.open_request = None

    def decode(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for byte in data:
            key = self.keymap.get(byte)
            if key is None:
                self.unknown += 1
                log.info("%s: unknown byte %#04x ignored", self.name, byte)
                continue
            event = self._event(key)
            if event is not None:
                events.append(event)
        return events

    def _event(self, key: Key) -> Event | None:
        self.seq += 1
        if isinstance(key, CallerKey):
            return KeyEvent(self.name, 0, self.seq, key)
        with self._lock:
            self._time_out()
            request_id, self.open_request = self.open_request, None
        if request_id is None:
            log.info("%s: rating key %d with no rating window open: ignored", self.name, key)
            return None
        return RatingPress(self.name, 0, self.seq, request_id, key)

    def run(self, on_event: Callable[[Event], Any], stop: threading.Event,
            on_health: Callable[[HealthChange], Any] | None = None) -> None:
        """Read until `stop` is set, reopening the port with backoff after an unplug."""
        state = Health.UNKNOWN
        while not stop.is_set():
            try:
                self.transport.open()
                state = self._health(on_health, state, Health.ONLINE, "")
                for event in self.read():
                    _call(on_event, event)
            except DeviceGone as err:
                state = self._health(on_health, state, Health.OFFLINE, str(err))
                self.transport.reopen(stop=stop)
        self.transport.close()

    def _health(self, on_health: Callable[[HealthChange], Any] | None, old: Health,
                new: Health, detail: str) -> Health:
        if new != old and on_health is not None:
            _call(on_health, HealthChange(self.name, "bytekeypad", 0, new, old, detail))
        return new


def _call(callback: Callable[[Any], Any], arg: Any) -> None:
    try:
        callback(arg)
    except Exception:  # the agent's bug must not stop the reader; it is logged in full
        log.exception("callback %r failed", callback)
