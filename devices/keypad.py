"""Drivers for the window keypads on the RS-485 bus: the evaluation keypad (评价器) and the
clerk's caller keypad (叫号器).

Both keep a key FIFO on the device (KEY_SEQ and a ring of the last 8 events, docs/devices.md)
so no press is lost between polls: the master remembers the last sequence number it handled
and, when the poll shows KEY_SEQ moved, reads the ring once and takes every event after it.
"""

from __future__ import annotations

import logging

from devices import regmap as rm
from devices.driver import BusDevice
from devices.events import Event, KeyEvent, RatingExpired, RatingPress
from devices.master import ModbusMaster

log = logging.getLogger(__name__)


class _Keypad(BusDevice):
    def __init__(self, master: ModbusMaster, address: int, *, name: str | None = None) -> None:
        super().__init__(master, address, name=name)
        self.last_seq: int | None = None
        self.lost = 0  # events overwritten in the ring before we read them

    def _after_boot(self, first: bool, change: int) -> list[Event]:
        if first:
            # Presses from before this agent started were handled, or are stale, either way:
            # replaying an old call-next would call a number nobody asked for.
            self.last_seq = change
            return []
        self.last_seq = 0  # the device counts from 0 again after a restart
        return []

    def _on_change(self, status: int, change: int) -> list[Event]:
        if self.last_seq is None:
            self.last_seq = change
            return []
        delta = (change - self.last_seq) % rm.SEQ_MOD
        if delta == 0:
            return []
        if delta > rm.SEQ_MOD // 2:  # went backwards with the same BOOT_ID: a reset all the same
            log.warning("%s: key count went back from %d to %d", self.name, self.last_seq, change)
            self.last_seq, delta = 0, change
            if delta == 0:
                return []
        return self._take(change, delta)

    def _take(self, seq: int, delta: int) -> list[Event]:
        if delta > rm.RING_SLOTS:
            self.lost += delta - rm.RING_SLOTS
            log.warning("%s: %d key events lost (more than %d between polls)", self.name,
                        delta - rm.RING_SLOTS, rm.RING_SLOTS)
            delta = rm.RING_SLOTS
        ring = self.master.read_input_registers(self.address, rm.IR_RING, rm.RING_COUNT)
        events: list[Event] = []
        for back in range(delta - 1, -1, -1):
            want = (seq - back) % rm.SEQ_MOD
            base = rm.ring_slot(want) * rm.SLOT_REGS
            ev_seq, ev_key, ev_ref = ring[base:base + rm.SLOT_REGS]
            if ev_seq != want or ev_key == 0:
                self.lost += 1
                log.warning("%s: event %d not in the ring (slot holds %d)", self.name, want, ev_seq)
                continue
            event = self._decode(want, ev_key >> 8, ev_key & 0xFF, ev_ref)
            if event is not None:
                events.append(event)
        self.last_seq = seq
        return events

    def _decode(self, seq: int, key: int, arg: int, ref: int) -> Event | None:
        raise NotImplementedError


class CallerKeypad(_Keypad):
    """The clerk's keypad: call next, recall, skip, pause/resume, transfer, finish, request
    rating. With a display (CAP_DISPLAY) it shows the current number and the waiting count."""

    kind = rm.DeviceKind.CALLER

    def __init__(self, master: ModbusMaster, address: int, *, name: str | None = None) -> None:
        super().__init__(master, address, name=name)
        self._display: list[int] | None = None  # registers the display should hold

    def _decode(self, seq: int, key: int, arg: int, ref: int) -> Event | None:
        try:
            caller_key = rm.CallerKey(key)
        except ValueError:
            log.warning("%s: unknown key code %d ignored", self.name, key)
            return None
        return KeyEvent(self.name, self.address, seq, caller_key, arg)

    def show(self, number: str = "", waiting: int | None = None, paused: bool = False) -> None:
        """Show the current ticket number (ASCII, up to 8 characters) and the waiting count
        (None: blank). Kept, and written again after a device restart. A keypad without a
        display ignores it."""
        data = number.encode("ascii", errors="replace")[:rm.NUMBER_BYTES]
        regs = rm.text_to_registers(data, rm.NUMBER_BYTES // 2)
        regs.append(rm.WAITING_BLANK if waiting is None else max(0, min(waiting, 0xFFFE)))
        regs.append(rm.CALLER_FLAG_PAUSED if paused else 0)
        with self.lock:
            self._display = regs
            self._send_display()

    def _send_display(self) -> None:
        if self._display is None or (self.identity is not None and not self.has(rm.CAP_DISPLAY)):
            return
        self.master.write_registers(self.address, rm.HR_NUMBER, self._display)

    def _after_boot(self, first: bool, change: int) -> list[Event]:
        events = super()._after_boot(first, change)
        self._send_display()
        return events


class RatingKeypad(_Keypad):
    """The citizen's evaluation keypad (好差评). The master opens a rating window for one
    request id; the device latches the level (and, after 4 or 5, a reason) with that id."""

    kind = rm.DeviceKind.RATING

    def __init__(self, master: ModbusMaster, address: int, *, name: str | None = None) -> None:
        super().__init__(master, address, name=name)
        self.open_request: int | None = None
        self._lost_in_restart = False

    def request_rating(self, request_id: int, timeout_s: int = rm.DEFAULT_TIMEOUT_S,
                       clerk_text: str = "", reason_timeout_s: int = 0) -> None:
        """Open a rating window (one function-16 write of the whole block, COMMAND=1). The
        clerk text (e.g. "李明 工号JZ1001") is cut to 32 GB2312 bytes."""
        if not 1 <= request_id <= 0xFFFF:
            raise ValueError(f"request id {request_id} out of range 1-65535")
        timeout_s = max(1, min(int(timeout_s), rm.MAX_TIMEOUT_S))
        text = rm.encode_text(clerk_text, rm.CLERK_TEXT_BYTES)
        block = [rm.CMD_OPEN, request_id, timeout_s, max(0, min(reason_timeout_s, 600)),
                 len(text), *rm.text_to_registers(text, rm.CLERK_TEXT_BYTES // 2)]
        with self.lock:
            self.master.write_registers(self.address, rm.HR_COMMAND, block)
            self.open_request = request_id

    def cancel(self) -> None:
        """Close the window without a rating (a level waiting for its reason is still kept)."""
        with self.lock:
            self.master.write_register(self.address, rm.HR_COMMAND, rm.CMD_CANCEL)
            self.open_request = None

    def thanks(self) -> None:
        """Show the thank-you screen (and close any window)."""
        with self.lock:
            self.master.write_register(self.address, rm.HR_COMMAND, rm.CMD_THANKS)
            self.open_request = None

    def _decode(self, seq: int, key: int, arg: int, ref: int) -> Event | None:
        try:
            level = rm.RatingLevel(key)
        except ValueError:
            log.warning("%s: unknown rating key %d ignored", self.name, key)
            return None
        reason = arg if arg <= rm.MAX_REASON else 0
        return RatingPress(self.name, self.address, seq, ref, level, reason)

    def _after_boot(self, first: bool, change: int) -> list[Event]:
        events = super()._after_boot(first, change)
        # The window was opened before the restart unless the device shows it open now (the
        # master may have opened it after the restart, before this poll noticed).
        active = self.identity.active_request if self.identity else 0
        self._lost_in_restart = not first and self.open_request not in (None, active)
        return events

    def _on_change(self, status: int, change: int) -> list[Event]:
        events = super()._on_change(status, change)
        lost, self._lost_in_restart = self._lost_in_restart, False
        if self.open_request is None:
            return events
        if any(isinstance(e, RatingPress) and e.request_id == self.open_request for e in events):
            self.open_request = None
        elif lost or not status & (rm.ST_WINDOW_OPEN | rm.ST_AWAIT_REASON):
            why = "device restarted" if lost else "timeout"
            events.append(RatingExpired(self.name, self.address, self.open_request, why))
            self.open_request = None
        return events
