"""Simulated window devices: the register behaviour of docs/devices.md, without any wire.

Each model answers Modbus requests (`handle`) from its registers and can be driven from code
like a person at the counter: `press_rating(4, 2)`, `press(CallerKey.CALL_NEXT)`, `reboot()`.
Faults (`devices.sim.faults`) are set per device at run time. Time comes from a clock function
so the keypad's timeouts can be tested without sleeping. Fakes fail loudly: an impossible key or
level raises ValueError rather than being accepted.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from devices import modbus
from devices import regmap as rm
from devices.sim.faults import Faults

THANKS_S = 3.0


class SlaveError(Exception):
    """Answer with this Modbus exception code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exception {code}")
        self.code = code


class SimDevice:
    kind: rm.DeviceKind
    caps = 0

    def __init__(self, address: int, *, firmware: int = 0x0100,
                 clock: Callable[[], float] = time.monotonic, seed: int | None = None) -> None:
        if not 1 <= address <= modbus.MAX_ADDRESS:
            raise ValueError(f"address {address} out of range 1-247")
        self.address, self.firmware, self.clock = address, firmware, clock
        self.faults = Faults()
        self.lock = threading.RLock()
        self.rng = random.Random(seed if seed is not None else address)
        self.boot_id = 0
        self.fault_code = 0
        self.ready = True
        self.requests = 0
        self.holding: dict[int, int] = {}
        self.boot()

    # --- power ----------------------------------------------------------------------------------

    def boot(self) -> None:
        """Power up: a new BOOT_ID, registers and state back to their defaults."""
        with self.lock:
            old = self.boot_id
            while self.boot_id in (0, old):
                self.boot_id = self.rng.randrange(1, 0x10000)
            self.holding = dict.fromkeys(self._holding_addresses(), 0)
            self._reset()

    reboot = boot

    def _holding_addresses(self) -> range:
        return range(0)

    def _reset(self) -> None:
        pass

    # --- Modbus ---------------------------------------------------------------------------------

    def handle(self, req: modbus.Request) -> tuple[int, ...]:
        with self.lock:
            self.requests += 1
            self.tick()
            if req.function in (modbus.FC_READ_INPUT, modbus.FC_READ_HOLDING) and \
                    not 1 <= req.count <= modbus.MAX_READ:
                raise SlaveError(modbus.EXC_ILLEGAL_VALUE)
            if req.function == modbus.FC_READ_INPUT:
                return self._read(self.input_registers(), req.start, req.count)
            if req.function == modbus.FC_READ_HOLDING:
                return self._read(self.holding, req.start, req.count)
            if req.function in (modbus.FC_WRITE_SINGLE, modbus.FC_WRITE_MULTIPLE):
                self.write(req.start, req.values)
                return ()
            raise SlaveError(modbus.EXC_ILLEGAL_FUNCTION)

    @staticmethod
    def _read(regs: dict[int, int], start: int, count: int) -> tuple[int, ...]:
        try:
            return tuple(regs[a] for a in range(start, start + count))
        except KeyError:
            raise SlaveError(modbus.EXC_ILLEGAL_ADDRESS) from None

    def write(self, start: int, values: tuple[int, ...] | list[int]) -> None:
        """Store a write only if every register exists and every value is legal; the
        device acts on it after the whole write is stored (docs/devices.md, "Writes")."""
        written = range(start, start + len(values))
        if any(a not in self.holding for a in written):
            raise SlaveError(modbus.EXC_ILLEGAL_ADDRESS)
        tentative = dict(self.holding)
        tentative.update(zip(written, values, strict=True))
        self.validate(tentative, written)
        self.holding = tentative
        self.apply(written)

    def validate(self, regs: dict[int, int], written: range) -> None:
        pass

    def apply(self, written: range) -> None:
        pass

    def tick(self) -> None:
        """Let time pass (timeouts); called on every request and every press."""

    def status(self) -> int:
        s = self.caps
        if self.ready:
            s |= rm.ST_READY
        if self.fault_code:
            s |= rm.ST_FAULT
        return s

    def change(self) -> int:
        return 0

    def active_request(self) -> int:
        return 0

    def input_registers(self) -> dict[int, int]:
        return {rm.IR_STATUS: self.status(), rm.IR_BOOT_ID: self.boot_id,
                rm.IR_CHANGE: self.change(), rm.IR_KIND: int(self.kind),
                rm.IR_FIRMWARE: self.firmware, rm.IR_MAP_VERSION: rm.MAP_VERSION,
                rm.IR_FAULT_CODE: self.fault_code, rm.IR_ACTIVE_REQUEST: self.active_request()}


class _SimKeypad(SimDevice):
    def _reset(self) -> None:
        self.seq = 0
        self.ring: list[tuple[int, int, int]] = [(0, 0, 0)] * rm.RING_SLOTS

    def latch(self, key: int, arg: int = 0, ref: int = 0) -> int:
        """Put one event in the FIFO; returns its sequence number."""
        with self.lock:
            self.seq = (self.seq + 1) % rm.SEQ_MOD
            self.ring[rm.ring_slot(self.seq)] = (self.seq, (key << 8) | arg, ref)
            return self.seq

    def change(self) -> int:
        return self.seq

    def input_registers(self) -> dict[int, int]:
        regs = super().input_registers()
        for slot, event in enumerate(self.ring):
            for i, value in enumerate(event):
                regs[rm.IR_RING + slot * rm.SLOT_REGS + i] = value
        return regs


class SimCallerKeypad(_SimKeypad):
    kind = rm.DeviceKind.CALLER

    def __init__(self, address: int, *, display: bool = True, **kw: object) -> None:
        self.caps = rm.CAP_DISPLAY if display else 0
        super().__init__(address, **kw)  # type: ignore[arg-type]

    def _holding_addresses(self) -> range:
        return range(rm.HR_NUMBER, rm.HR_CALLER_END) if self.caps & rm.CAP_DISPLAY else range(0)

    def validate(self, regs: dict[int, int], written: range) -> None:
        number = [regs[rm.HR_NUMBER + i] for i in range(rm.NUMBER_BYTES // 2)]
        if regs[rm.HR_CALLER_FLAGS] > rm.CALLER_FLAG_PAUSED or \
                any(b > 0x7F for b in rm.registers_to_bytes(number)):  # NUMBER is ASCII
            raise SlaveError(modbus.EXC_ILLEGAL_VALUE)

    def press(self, key: int | rm.CallerKey, arg: int = 0) -> int:
        key = rm.CallerKey(key)  # ValueError for a key this keypad does not have
        return self.latch(key, arg)

    @property
    def number(self) -> str:
        regs = [self.holding.get(rm.HR_NUMBER + i, 0) for i in range(rm.NUMBER_BYTES // 2)]
        return rm.registers_to_bytes(regs).rstrip(b"\x00").decode("ascii", errors="replace")

    @property
    def waiting(self) -> int | None:
        value = self.holding.get(rm.HR_WAITING, rm.WAITING_BLANK)
        return None if value == rm.WAITING_BLANK else value

    @property
    def paused(self) -> bool:
        return bool(self.holding.get(rm.HR_CALLER_FLAGS, 0) & rm.CALLER_FLAG_PAUSED)

    def _reset(self) -> None:
        super()._reset()
        if rm.HR_WAITING in self.holding:
            self.holding[rm.HR_WAITING] = rm.WAITING_BLANK


class SimRatingKeypad(_SimKeypad):
    """The 好差评 keypad: five level keys, optionally six reason keys and a small display."""

    kind = rm.DeviceKind.RATING

    def __init__(self, address: int, *, reason_keys: bool = True, display: bool = True,
                 **kw: object) -> None:
        self.caps = (rm.CAP_REASON_KEYS if reason_keys else 0) | (rm.CAP_DISPLAY if display
                                                                   else 0)
        super().__init__(address, **kw)  # type: ignore[arg-type]

    def _holding_addresses(self) -> range:
        return range(rm.HR_COMMAND, rm.HR_RATING_END)

    def _reset(self) -> None:
        super()._reset()
        self.window = 0  # the open window's request id, 0: closed
        self.window_deadline = 0.0
        self.reason_timeout_s = float(rm.DEFAULT_REASON_TIMEOUT_S)
        self.pending = 0  # a level (4 or 5) waiting for its reason key
        self.reason_deadline = 0.0
        self.thanks_until = 0.0
        self.clerk_text = ""

    # --- master side ----------------------------------------------------------------------------

    def validate(self, regs: dict[int, int], written: range) -> None:
        """docs/devices.md §4: every value in its range, whatever else the write holds; and a
        write of COMMAND = 1 (alone or in a block) needs a REQUEST_ID ≠ 0 once it is stored."""
        if (regs[rm.HR_COMMAND] > rm.CMD_THANKS
                or regs[rm.HR_TIMEOUT_S] > rm.MAX_TIMEOUT_S
                or regs[rm.HR_REASON_TIMEOUT_S] > rm.MAX_TIMEOUT_S
                or regs[rm.HR_CLERK_TEXT_LEN] > rm.CLERK_TEXT_BYTES):
            raise SlaveError(modbus.EXC_ILLEGAL_VALUE)
        if rm.HR_COMMAND in written and regs[rm.HR_COMMAND] == rm.CMD_OPEN \
                and regs[rm.HR_REQUEST_ID] == 0:
            raise SlaveError(modbus.EXC_ILLEGAL_VALUE)

    def apply(self, written: range) -> None:
        cmd, now = self.holding[rm.HR_COMMAND], self.clock()
        if rm.HR_COMMAND not in written or cmd == rm.CMD_NONE:
            return  # COMMAND 0 is stored and does nothing
        self._latch_pending()  # a citizen's 4/5 is never dropped by the master's next command
        self.window = 0
        if cmd == rm.CMD_OPEN:
            h = self.holding
            self.window = h[rm.HR_REQUEST_ID]
            self.window_deadline = now + (h[rm.HR_TIMEOUT_S] or rm.DEFAULT_TIMEOUT_S)
            self.reason_timeout_s = h[rm.HR_REASON_TIMEOUT_S] or rm.DEFAULT_REASON_TIMEOUT_S
            regs = [h[rm.HR_CLERK_TEXT + i] for i in range(rm.CLERK_TEXT_BYTES // 2)]
            self.clerk_text = rm.decode_text(rm.registers_to_bytes(regs,
                                                                   h[rm.HR_CLERK_TEXT_LEN]))
            self.thanks_until = 0.0
        elif cmd == rm.CMD_THANKS:
            self.thanks_until = now + THANKS_S

    def tick(self) -> None:
        now = self.clock()
        if self.pending and now >= self.reason_deadline:
            self._latch_pending()
        if self.window and not self.pending and now >= self.window_deadline:
            self.window = 0

    def _latch_pending(self) -> None:
        if self.pending:
            self.latch(self.pending, rm.Reason.NONE, self.window)
            self.pending = 0
            self.window = 0

    def status(self) -> int:
        s = super().status()
        if self.window:
            s |= rm.ST_WINDOW_OPEN
        if self.pending:
            s |= rm.ST_AWAIT_REASON
        return s

    def active_request(self) -> int:
        return self.window

    # --- the citizen ----------------------------------------------------------------------------

    def press_level(self, level: int) -> bool:
        """A level key (1 非常满意 ... 5 非常不满意). False if no window is open (ignored)."""
        level = rm.RatingLevel(level)
        with self.lock:
            self.tick()
            if not self.window:
                return False
            if level.needs_reason and self.caps & rm.CAP_REASON_KEYS:
                self.pending = level  # a second 4/5 replaces the first and restarts the wait
                self.reason_deadline = self.clock() + self.reason_timeout_s
                return True
            self.pending = 0  # a 1-3 after a 4/5: the citizen changed their mind
            self.latch(level, rm.Reason.NONE, self.window)
            self._close()
            return True

    def press_reason(self, reason: int) -> bool:
        """A reason key (1-6). Taken only while a 4/5 waits for it."""
        if not 1 <= reason <= rm.MAX_REASON:
            raise ValueError(f"reason {reason} out of range 1-{rm.MAX_REASON}")
        if not self.caps & rm.CAP_REASON_KEYS:
            raise ValueError("this keypad has no reason keys")
        with self.lock:
            self.tick()
            if not self.pending:
                return False
            self.latch(self.pending, reason, self.window)
            self.pending = 0
            self._close()
            return True

    def press_rating(self, level: int, reason: int = 0) -> bool:
        taken = self.press_level(level)
        if taken and reason and rm.RatingLevel(level).needs_reason:
            return self.press_reason(reason)
        return taken

    def _close(self) -> None:
        self.window = 0
        self.thanks_until = self.clock() + THANKS_S

    @property
    def screen(self) -> str:
        with self.lock:
            self.tick()
            if self.pending:
                return "请选择不满意原因"
            if self.window:
                return f"请评价 {self.clerk_text}"
            return "谢谢评价" if self.clock() < self.thanks_until else "欢迎"


class SimLed(SimDevice):
    kind = rm.DeviceKind.LED
    caps = rm.CAP_DISPLAY  # the window screen is a display

    def _holding_addresses(self) -> range:
        return range(rm.HR_BRIGHTNESS, rm.HR_LED_END)

    def _reset(self) -> None:
        self.shown = b""
        self.drop_text_writes = False  # fault: acknowledge text writes but keep the old text
        self.holding[rm.HR_BRIGHTNESS] = 100

    def validate(self, regs: dict[int, int], written: range) -> None:
        if (regs[rm.HR_BRIGHTNESS] > 100 or regs[rm.HR_EFFECT] > rm.EFFECT_BLINK
                or regs[rm.HR_TEXT_LEN] > rm.LED_TEXT_BYTES):
            raise SlaveError(modbus.EXC_ILLEGAL_VALUE)

    def apply(self, written: range) -> None:
        if rm.HR_TEXT_LEN in written and not self.drop_text_writes:
            regs = [self.holding[rm.HR_TEXT + i] for i in range(rm.LED_TEXT_BYTES // 2)]
            self.shown = rm.registers_to_bytes(regs, self.holding[rm.HR_TEXT_LEN])

    def change(self) -> int:
        return rm.text_crc(self.shown)

    @property
    def text(self) -> str:
        return rm.decode_text(self.shown)

    @property
    def brightness(self) -> int:
        return self.holding[rm.HR_BRIGHTNESS]


def make_device(kind: str, address: int, **kw: object) -> SimDevice:
    """A simulated device by kind name: rating, caller or led."""
    classes: dict[str, type[SimDevice]] = {"rating": SimRatingKeypad, "caller": SimCallerKeypad,
                                           "led": SimLed}
    if kind not in classes:
        raise ValueError(f"unknown device kind {kind!r} (rating, caller, led)")
    return classes[kind](address, **kw)  # type: ignore[arg-type]
