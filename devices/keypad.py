"""Drivers for the window keypads on the RS-485 bus: the evaluation keypad (评价器) and the
clerk's caller keypad (叫号器).

Both keep a key FIFO on the device (KEY_SEQ and a ring of the last 8 events, docs/devices.md)
so no press is lost between polls: the master remembers the last sequence number it handled
and, when the poll shows KEY_SEQ moved, reads the ring once and takes every event after it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from devices import regmap as rm
from devices.driver import BusDevice
from devices.errors import DeviceError
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
    request id; the device latches the level (and, after 4 or 5, a reason) with that id.

    Every request it opened gets exactly one outcome, in the keypad's own order: a RatingPress,
    or a RatingExpired when its window closed without one (timeout, replaced by the next
    request, cancelled, lost in a device restart). A press is dated when the keypad took it,
    as well as the master can tell without a clock on the device: a 4 or 5 waiting for its
    reason key shows AWAIT_REASON at the next poll, so it is dated then, not when its reason
    (or the reason timeout) latched it; and a press for a request is never dated after the
    end of that request's window, because the keypad takes presses only while it is open.
    """

    kind = rm.DeviceKind.RATING
    # A keypad still open this long after the end of the window it was given is told to close
    # (COMMAND 2): one that keeps its window open past TIMEOUT_S must not hold a rating open.
    overdue_s: float = 1.0

    def __init__(self, master: ModbusMaster, address: int, *, name: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(master, address, name=name)
        self.clock = clock  # wall clock, epoch seconds: press times go to the hub
        self.open_request: int | None = None  # the request the keypad should be asking for
        self._reason_timeout_s = 0
        self._ends: dict[int, float] = {}  # request id -> when its window closes, at the latest
        self._level_at: dict[int, float] = {}  # request id -> first poll that saw AWAIT_REASON
        self._deadlines: dict[int, float] = {}  # request id -> the hub's deadline, if given
        self._closing: dict[int, str] = {}  # closed by a command: settled after the next ring read
        self._cancel_due: dict[int, str] = {}  # to close with COMMAND 2 (a write that failed)
        self._open_due: list[int] | None = None  # an open (COMMAND 1 block) whose write failed
        self._replay = False  # first contact: the ring may hold presses nobody delivered
        self._lost_in_restart = False

    # --- commands -----------------------------------------------------------------------

    def request_rating(self, request_id: int, timeout_s: int = rm.DEFAULT_TIMEOUT_S,
                       clerk_text: str = "", reason_timeout_s: int | None = None,
                       deadline: float | None = None) -> None:
        """Open a rating window (one function-16 write of the whole block, COMMAND=1) for
        `timeout_s` seconds (1-600). The keypad waits `reason_timeout_s` for a reason key after
        a 4 or 5 (default: as long as the window). The clerk text (e.g. "李明 工号JZ1001") is cut
        to 32 GB2312 bytes. A window still open for another request closes (the keypad latches
        a level waiting for its reason first). If the write fails it is tried again at the next
        polls while the window has time left; the DeviceError is raised all the same.

        `deadline` (epoch seconds) is the hub's: a window that times out on the keypad before
        it (TIMEOUT_S is whole seconds) is reported ended only once it has passed."""
        block = open_block(request_id, timeout_s, clerk_text, reason_timeout_s)
        with self.lock:
            self._open_due = block
            self._remember_end(request_id, self.clock() + block[2])
            if deadline is not None:
                self._deadlines[request_id] = deadline
            self._write_open(block[2])

    def close_request(self, request_id: int, ends_at: float, why: str = "timeout") -> None:
        """End a request whose window must be over by now (`ends_at`, epoch seconds), e.g. one
        the hub still waits for after this agent restarted: close whatever the keypad shows
        (COMMAND 2, which latches a level waiting for its reason) and report its outcome."""
        with self.lock:
            self._remember_end(request_id, min(self._ends.get(request_id, ends_at), ends_at))
            if self._open_due is not None and self._open_due[1] == request_id:
                self._open_due = None
            if self.open_request not in (None, request_id):
                self._cancel_due[self.open_request] = "replaced"
            self.open_request = None
            self._cancel_due[request_id] = why
            self._write_cancel()

    def cancel(self) -> None:
        """Close the window without a rating (a level waiting for its reason is still kept)."""
        self._command(rm.CMD_CANCEL)

    def thanks(self) -> None:
        """Show the thank-you screen (and close any window)."""
        self._command(rm.CMD_THANKS)

    def _command(self, command: int) -> None:
        with self.lock:
            self._open_due = None
            self.master.write_register(self.address, rm.HR_COMMAND, command)
            if self.open_request is not None:
                self._closing[self.open_request] = "cancelled"
            self.open_request = None

    def _write_open(self, left_s: int | None = None) -> None:
        """Write the open that is due, for the time its window has left (a retry: less)."""
        block = self._open_due
        if block is None:
            return
        request_id = block[1]
        if left_s is None:
            left_s = int(self._ends.get(request_id, 0.0) - self.clock())
        if left_s < 1:  # no time left to ask: whatever the keypad shows of it ends
            self._open_due = None
            if self.open_request not in (None, request_id):
                self._cancel_due[self.open_request] = "replaced"
            self.open_request = None
            self._cancel_due[request_id] = "timeout"
            self._write_cancel()
            return
        block = [*block[:2], min(block[2], left_s), *block[3:]]
        self.master.write_registers(self.address, rm.HR_COMMAND, block)
        self._open_due = None
        if self.open_request not in (None, request_id):
            self._closing[self.open_request] = "replaced"
        self._closing.pop(request_id, None)
        self._cancel_due.pop(request_id, None)
        self.open_request = request_id
        self._reason_timeout_s = block[3]
        self._level_at.pop(request_id, None)

    def _remember_end(self, request_id: int, end: float) -> None:
        """When a request's window ends at the latest; the newest few are kept."""
        self._ends.pop(request_id, None)
        self._ends[request_id] = end
        for old in list(self._ends)[:-MAX_REMEMBERED]:  # requests long settled
            self._ends.pop(old, None)

    def _write_cancel(self) -> None:
        if not self._cancel_due:
            return
        self.master.write_register(self.address, rm.HR_COMMAND, rm.CMD_CANCEL)
        self._closing.update(self._cancel_due)
        self._cancel_due.clear()

    # --- polling ------------------------------------------------------------------------

    def _decode(self, seq: int, key: int, arg: int, ref: int) -> Event | None:
        try:
            level = rm.RatingLevel(key)
        except ValueError:
            log.warning("%s: unknown rating key %d ignored", self.name, key)
            return None
        reason = arg if arg <= rm.MAX_REASON else 0
        at = min(self._level_at.pop(ref, self.clock()), self._ends.get(ref, math.inf))
        # A window this master never opened was opened before it started (by the agent it
        # replaces): the keypad took the press while that window was open, but when it ends
        # only the hub knows, so the hub dates it by that end (late_found). This is so for a
        # press still in the ring at first contact, and as much for one latched afterwards:
        # a level that was waiting for its reason when this master started, latched by the
        # reason wait or by the next request's command after that window's end.
        return RatingPress(self.name, self.address, seq, ref, level, reason, at=at,
                           late_found=ref not in self._ends)

    def _after_boot(self, first: bool, change: int) -> list[Event]:
        events = super()._after_boot(first, change)
        if first:
            # Unlike a caller key, a rating press is never stale: one made while this agent
            # was away is delivered (the hub refuses one it has already, or one for no request).
            self.last_seq = (change - min(change, rm.RING_SLOTS)) % rm.SEQ_MOD
            self._replay = True
        # The window was opened before the restart unless the device shows it open now (the
        # master may have opened it after the restart, before this poll noticed).
        active = self.identity.active_request if self.identity else 0
        if first and active and self.identity and self.identity.status & rm.ST_AWAIT_REASON:
            # A level waits for its reason in a window opened before this master started: it
            # was pressed by now, whenever the keypad latches it.
            self._level_at.setdefault(active, self.clock())
        self._lost_in_restart = not first and self.open_request not in (None, active)
        return events

    def _take(self, seq: int, delta: int) -> list[Event]:
        if not self._replay:
            return super()._take(seq, delta)
        # A replay at first contact: slots never written are simply not there, not lost.
        ring = self.master.read_input_registers(self.address, rm.IR_RING, rm.RING_COUNT)
        events: list[Event] = []
        for back in range(delta - 1, -1, -1):
            want = (seq - back) % rm.SEQ_MOD
            ev_seq, ev_key, ev_ref = ring[rm.ring_slot(want) * rm.SLOT_REGS:][:rm.SLOT_REGS]
            if ev_seq == want and ev_key:
                event = self._decode(want, ev_key >> 8, ev_key & 0xFF, ev_ref)
                events += [event] if event is not None else []
        self.last_seq, self._replay = seq, False
        return events

    def _on_change(self, status: int, change: int) -> list[Event]:
        if self.open_request is not None and status & rm.ST_AWAIT_REASON:
            self._level_at.setdefault(self.open_request, self.clock())
        events = super()._on_change(status, change)
        self._replay = False
        events += self._settle(status, events)
        # Writes left over (failed before, or an overdue window): after the events are taken,
        # and judged by the next poll, which reads the keypad after them.
        try:
            self._write_open()
            self._write_cancel()
        except DeviceError as err:
            log.info("%s: rating command not written yet: %s", self.name, err)
        return events

    def _settle(self, status: int, events: list[Event]) -> list[Event]:
        """The outcomes this poll decided, after its ring read: requests closed by a command
        that got no press, and the open request if it ended."""
        pressed = {e.request_id for e in events if isinstance(e, RatingPress)}
        ended = [(rid, why) for rid, why in self._closing.items() if rid not in pressed]
        self._closing.clear()
        lost, self._lost_in_restart = self._lost_in_restart, False
        request = self.open_request
        if request is not None:
            if request in pressed:
                self.open_request = None
                self._deadlines.pop(request, None)
            elif lost:
                ended.append((request, "device restarted"))
                self.open_request = None
            elif not status & (rm.ST_WINDOW_OPEN | rm.ST_AWAIT_REASON):
                if self.clock() >= self._deadlines.get(request, 0.0):  # else: at the deadline
                    ended.append((request, "timeout"))
                    self.open_request = None
            elif self.clock() > self._overdue_at(request):
                log.warning("%s: window %d still open after its time: cancelled", self.name,
                            request)
                self._cancel_due[request] = "timeout"  # its outcome comes with the next poll
                self.open_request = None
        for rid, _why in ended:
            self._level_at.pop(rid, None)
            self._deadlines.pop(rid, None)
        return [RatingExpired(self.name, self.address, rid, why, at=self.clock())
                for rid, why in ended]

    def _overdue_at(self, request: int) -> float:
        end = self._ends.get(request, math.inf)
        if request in self._level_at:  # a level waits for its reason: the keypad's own time
            end = max(end, self._level_at[request] + self._reason_timeout_s)
        return end + self.overdue_s


MAX_REMEMBERED = 16  # windows whose end is kept, to date a late press of one


def open_block(request_id: int, timeout_s: int, clerk_text: str = "",
               reason_timeout_s: int | None = None) -> list[int]:
    """The 21 registers 0x0100-0x0114 that open a rating window (docs/devices.md §4):
    COMMAND 1, REQUEST_ID, TIMEOUT_S (1-600, never 0), REASON_TIMEOUT_S (1-600; by default the
    same as TIMEOUT_S), CLERK_TEXT_LEN and CLERK_TEXT."""
    if not 1 <= request_id <= 0xFFFF:
        raise ValueError(f"request id {request_id} out of range 1-65535")
    timeout_s = max(1, min(int(timeout_s), rm.MAX_TIMEOUT_S))
    reason_s = timeout_s if reason_timeout_s is None else reason_timeout_s
    reason_s = max(1, min(int(reason_s), rm.MAX_TIMEOUT_S))
    text = rm.encode_text(clerk_text, rm.CLERK_TEXT_BYTES)
    return [rm.CMD_OPEN, request_id, timeout_s, reason_s, len(text),
            *rm.text_to_registers(text, rm.CLERK_TEXT_BYTES // 2)]
