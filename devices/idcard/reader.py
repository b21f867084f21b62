"""The desktop ID card reader's driver (GA 467-2013 SAM on USB-serial), for the ticket kiosk.

Every `poll_ms` it asks "is there a card?" (find); when one is there and not yet read, it selects
it and reads its text, and reports one `CardRead` for that placing. A card left on the reader is
not read again; lifted off (find answers "no card" on `ABSENT_POLLS` polls in a row) and put back,
it is. A card that cannot be selected or read `ATTEMPTS` times in a row (damaged, or not an ID
card) is reported once as unreadable, and also waits to be lifted off.

I/O goes through `SerialTransport` (open by path, reopen after an unplug, deadlines); this module
only sequences the commands. Nothing of a card is logged: the log says "card read" or
"card unreadable", and the transport's wire log shows the reader's answers as lengths only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices.errors import DeviceError, DeviceGone, DeviceTimeout, ProtocolError
from devices.events import HealthChange
from devices.idcard import protocol as p
from devices.master import Health
from devices.transport import SerialTransport

log = logging.getLogger(__name__)

BAUD = 115200  # the factory setting of desktop readers
POLL_MS = 300
REPLY_TIMEOUT_S = 0.5  # find and select: a reader answers within tens of ms
READ_TIMEOUT_S = 3.0  # read text: the card's own transfer takes ~0.5-1 s on desktop readers
ATTEMPTS = 3  # failed selects or reads of one placing before it is reported unreadable
ABSENT_POLLS = 2  # "no card" answers in a row before a card counts as lifted off
SILENT_POLLS = 3  # unanswered polls in a row before the reader is reported in error
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class CardRead:
    """One card placed on a reader. Personal data: `repr` shows only `source` and `error`.
    `error` set: the card could not be read (no other field is)."""

    number: str = field(default="", repr=False)
    name: str = field(default="", repr=False)
    birth: dt.date | None = field(default=None, repr=False)
    valid_until: dt.date | None = field(default=None, repr=False)  # None: 长期, or not known
    source: str = "sam"  # "sam" (the whole text block) or "keyboard" (the number only)
    error: str = ""

    @classmethod
    def from_text(cls, text: p.CardText) -> CardRead:
        return cls(number=text.number, name=text.name, birth=text.birth,
                   valid_until=text.valid_until)

    def payload(self) -> dict[str, Any]:
        """The agent's `id_card` event: only what the hub needs (no address, sex, ethnicity)."""
        if self.error:
            return {"error": self.error}
        if self.source == "keyboard":
            return {"number": self.number}
        return {"number": self.number, "name": self.name,
                "birth": self.birth.isoformat() if self.birth else "",
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}


class IdCardReader:
    """One SAM reader on a serial port. `poll()` is one step and raises DeviceError; `run()`
    polls until stopped, reopening the port after an unplug, and never raises."""

    def __init__(self, transport: SerialTransport, *, name: str | None = None,
                 poll_ms: int = POLL_MS, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 read_timeout_s: float = READ_TIMEOUT_S) -> None:
        self.transport = transport
        self.name = name or transport.name
        self.poll_s = poll_ms / 1000
        self.reply_timeout_s, self.read_timeout_s = reply_timeout_s, read_timeout_s
        self.decoder = p.FrameDecoder()
        self.held = False  # the card on the reader has been reported: wait for it to go
        self._absent = 0
        self._failures = 0
        self.stats = {"reads": 0, "unreadable": 0, "timeouts": 0}

    # --- one step -------------------------------------------------------------------------

    def transact(self, cmd: p.Command, timeout_s: float | None = None) -> p.Answer:
        """Send `cmd`, return its answer. Bytes already waiting (noise, a late answer to an
        earlier command) are dropped first: the next valid frame is this command's answer."""
        self._drain()
        self.transport.write(p.command(cmd))
        deadline = time.monotonic() + (timeout_s or self.reply_timeout_s)
        while True:
            data = self.transport.read_available(deadline)
            bodies = self.decoder.feed(data) if data else []
            if bodies:
                return p.parse_answer(bodies[0])
            if time.monotonic() >= deadline:
                self.stats["timeouts"] += 1
                raise DeviceTimeout(f"{self.name}: no answer to {cmd.name.lower()}")

    def poll(self) -> CardRead | None:
        """Find, and for a new card select and read. A CardRead when a placing is done."""
        found = self.transact(p.Command.FIND)
        if found.status not in (p.Status.FOUND, p.Status.NO_CARD):  # e.g. its SAM failed
            raise ProtocolError(f"{self.name}: find answered {found.name}")
        if found.status == p.Status.NO_CARD:
            self._absent += 1
            if self._absent >= ABSENT_POLLS:
                self.held, self._failures = False, 0
            return None
        self._absent = 0
        if self.held:
            return None
        try:
            text = self._select_and_read()
        except (_NotRead, DeviceTimeout, ProtocolError) as err:
            return self._failed(str(err))
        self.held, self._failures = True, 0
        self.stats["reads"] += 1
        return CardRead.from_text(text)

    def _select_and_read(self) -> p.CardText:
        selected = self.transact(p.Command.SELECT)
        if selected.status != p.Status.OK:
            raise _NotRead(f"select: {selected.name}")
        read = self.transact(p.Command.READ_TEXT, self.read_timeout_s)
        if read.status != p.Status.OK:
            raise _NotRead(f"read text: {read.name}")
        return p.decode_text(p.text_of_answer(read.data))

    def _failed(self, why: str) -> CardRead | None:
        """One failed attempt at the card on the reader; the last allowed one reports it."""
        self._failures += 1
        log.info("%s: card not read (%s), attempt %d of %d", self.name, why, self._failures,
                 ATTEMPTS)
        if self._failures < ATTEMPTS:
            return None
        self.held, self._failures = True, 0
        self.stats["unreadable"] += 1
        return CardRead(error=UNREADABLE)

    def forget(self) -> None:
        """After an unplug the reader restarts and the card on it is read anew."""
        self.held, self._absent, self._failures = False, 0, 0
        self.decoder.reset()

    def _drain(self) -> None:
        self.decoder.reset()
        while self.transport.in_waiting():
            self.transport.read_available(time.monotonic())

    # --- the loop -------------------------------------------------------------------------

    def run(self, on_card: Callable[[CardRead], Any], stop: threading.Event,
            on_health: Callable[[HealthChange], Any] | None = None) -> None:
        """Poll until `stop`. A card goes to `on_card` (on this thread); the reader's state to
        `on_health` when it changes (offline: unplugged; error: plugged in but not answering)."""
        state, silent = Health.UNKNOWN, 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.transport.open()
                read = self.poll()
                silent = 0
                state = self._health(on_health, state, Health.ONLINE, "")
                if read is not None:
                    _call(on_card, read)
            except DeviceGone as err:
                state = self._health(on_health, state, Health.OFFLINE, str(err))
                self.forget()
                self.transport.reopen(stop=stop)
                continue
            except DeviceError as err:  # timeouts, malformed answers: the reader is there
                silent += 1
                if silent >= SILENT_POLLS:
                    state = self._health(on_health, state, Health.ERROR, str(err))
            stop.wait(max(0.0, started + self.poll_s - time.monotonic()))
        self.transport.close()

    def _health(self, on_health: Callable[[HealthChange], Any] | None, old: Health,
                new: Health, detail: str) -> Health:
        if new != old:
            if new == Health.ONLINE:
                log.info("%s: ID card reader online", self.name)
            else:
                log.warning("%s: ID card reader %s: %s", self.name, new.name.lower(), detail)
            if on_health is not None:
                _call(on_health, HealthChange(self.name, "id_reader", 0, new, old, detail))
        return new


class _NotRead(Exception):
    """The reader answered, but could not select or read the card on it."""


def _call(callback: Callable[[Any], Any], arg: Any) -> None:
    try:
        callback(arg)
    except Exception:  # the agent's bug must not stop the reader; the card is not in the log
        log.exception("%s failed", getattr(callback, "__qualname__", "callback"))
