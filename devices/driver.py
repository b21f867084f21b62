"""What every Onestop bus device has in common: the 3-register poll, identity, boot, faults.

A driver is what a device *means*: it turns register values into events and keeps the state the
device must show (the LED's text, the caller's number) so that it can be put back after a
device restart. Drivers are thread-safe (one lock each) and do I/O only through the master, so
the bus poller's thread and an agent thread may both call them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from devices import regmap as rm
from devices.events import Event
from devices.master import DeviceHealth, Health, ModbusMaster

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    kind: int
    firmware: int
    map_version: int
    status: int
    active_request: int = 0

    @property
    def firmware_text(self) -> str:
        return f"{self.firmware >> 8}.{self.firmware & 0xFF}"

    def has(self, capability: int) -> bool:
        return bool(self.status & capability)


class BusDevice:
    """Base of the Modbus window devices. Subclasses set `kind` and override the hooks
    `_after_boot` (state to re-send, events to recover) and `_on_change` (CHANGE moved)."""

    kind: rm.DeviceKind
    # The shortest time between two polls. Keypads: the bus's poll interval (a press waits at
    # most that). An LED has nothing to report but a restart, so it is polled once a second
    # and leaves the line to the keypads.
    min_poll_interval_s: float = 0.0

    def __init__(self, master: ModbusMaster, address: int, *, name: str | None = None) -> None:
        if not 1 <= address <= 247:
            raise ValueError(f"device address {address} out of range 1-247")
        self.master, self.address = master, address
        self.name = name or f"{self.kind.name.lower()}@{address}"
        self.lock = threading.RLock()
        self.identity: Identity | None = None
        self.boot_id: int | None = None
        self.status = 0
        self._carry: list[Event] = []  # events found by a poll that then failed

    @property
    def health(self) -> DeviceHealth:
        return self.master.health(self.address)

    @property
    def state(self) -> Health:
        return self.health.state

    def poll(self) -> list[Event]:
        """One poll: read STATUS, BOOT_ID, CHANGE; handle a restart and whatever changed.
        Raises DeviceError (the bus counts it). No event is lost to a failed transaction:
        the key pointer moves only after the ring has been read, and events found before a
        later step failed are kept and returned by the next poll."""
        with self.lock:
            status, boot_id, change = self.master.read_input_registers(
                self.address, rm.POLL_START, rm.POLL_COUNT)
            if boot_id != self.boot_id:
                first = self.boot_id is None
                self._read_identity()
                if first:
                    log.info("%s: %s", self.name, self.describe())
                else:
                    log.warning("%s: device restarted (boot id %#06x)", self.name, boot_id)
                self._carry += self._after_boot(first, change)
                self.boot_id = boot_id  # only now: a failed re-send is retried next poll
            self.status = status
            self._update_faults(status)
            if "kind" not in self.health.faults:
                self._carry += self._on_change(status, change)
            events, self._carry = self._carry, []
            return events

    def describe(self) -> str:
        ident = self.identity
        if ident is None:
            return f"{self.name}: not yet seen"
        return (f"address {self.address}, kind {ident.kind}, firmware {ident.firmware_text}, "
                f"map v{ident.map_version}, status {ident.status:#06x}")

    # --- hooks --------------------------------------------------------------------------------

    def _after_boot(self, first: bool, change: int) -> list[Event]:
        return []

    def _on_change(self, status: int, change: int) -> list[Event]:
        return []

    # --- helpers --------------------------------------------------------------------------------

    def _read_identity(self) -> None:
        regs = self.master.read_input_registers(self.address, rm.IDENTITY_START,
                                                rm.IDENTITY_COUNT)
        self.identity = Identity(kind=regs[rm.IR_KIND], firmware=regs[rm.IR_FIRMWARE],
                                 map_version=regs[rm.IR_MAP_VERSION], status=regs[rm.IR_STATUS],
                                 active_request=regs[rm.IR_ACTIVE_REQUEST])
        self.status = regs[rm.IR_STATUS]
        faults = self.health.faults
        if self.identity.kind != self.kind:
            faults["kind"] = (f"address {self.address} is device kind {self.identity.kind}, "
                              f"configured as {self.kind.name.lower()} ({int(self.kind)})")
        else:
            faults.pop("kind", None)
        if self.identity.map_version != rm.MAP_VERSION:
            log.warning("%s: register map v%d, driver speaks v%d", self.name,
                        self.identity.map_version, rm.MAP_VERSION)

    def _update_faults(self, status: int) -> None:
        faults = self.health.faults
        if status & rm.ST_FAULT:
            if "status" not in faults:
                faults["status"] = "device reports a fault"
                code = self.master.read_input_registers(self.address, rm.IR_FAULT_CODE, 1)[0]
                faults["status"] = f"device reports fault code {code}"
        else:
            faults.pop("status", None)
        if status & rm.ST_READY:
            faults.pop("ready", None)
        else:
            faults["ready"] = "device not ready"

    def has(self, capability: int) -> bool:
        """A capability bit of STATUS, as last read (False before the device was seen)."""
        return bool(self.status & capability)
