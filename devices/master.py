"""Modbus RTU master over one transport, with per-device link health.

One master owns one bus (one RS-485 pair, one port). A transaction is: wait for the line to be
quiet for t3.5 since the last byte, send the request, read the reply by its exact expected
length (3 bytes tell an exception reply from a normal one), validate it. A reply that is late,
garbled or from the wrong address is not trusted by its first bytes alone: the master then reads
until the line is quiet and looks for a valid reply anywhere in what arrived, so garbage before
or after a good reply costs nothing but time.

Thread-safe: one lock per bus, held for a whole transaction, so the bus poller and an agent
thread sending a command never interleave bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

from devices import modbus
from devices.errors import DeviceTimeout, ModbusException, ProtocolError
from devices.transport import SerialTransport

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 0.1  # device turnaround allowance on top of the wire time of both frames
# USB-RS485 adapters hand bytes over in bursts (FTDI's latency timer is 16 ms by default), so a
# garbled reply is considered over only after 20 ms of silence, not the 3.5-character gap.
DRAIN_QUIET_S = 0.02
STALE_DRAIN_MAX_S = 0.2
FAILURES_TO_OFFLINE = 3


class Health(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"  # answers, but reports a fault or refuses requests


@dataclass
class DeviceHealth:
    """What the master knows of one address: link failures, and faults the device reports
    (by exception or by its STATUS register; keyed so each source sets and clears its own)."""

    address: int
    failures: int = 0
    offline: bool = False
    answered: bool = False
    last_error: str = ""
    faults: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> Health:
        if self.offline:
            return Health.OFFLINE
        if self.faults:
            return Health.ERROR
        return Health.ONLINE if self.answered else Health.UNKNOWN

    @property
    def detail(self) -> str:
        if self.offline:
            return self.last_error
        return "; ".join(self.faults.values())


class ModbusMaster:
    def __init__(self, transport: SerialTransport, *, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 failures_to_offline: int = FAILURES_TO_OFFLINE,
                 drain_quiet_s: float = DRAIN_QUIET_S) -> None:
        self.transport = transport
        self.baud = transport.baud
        self.reply_timeout_s = reply_timeout_s
        self.failures_to_offline = failures_to_offline
        self.gap_s = modbus.frame_gap_s(self.baud)
        self.drain_quiet_s = max(drain_quiet_s, self.gap_s)
        self.lock = threading.RLock()
        self._health: dict[int, DeviceHealth] = {}
        self._line_free_at = 0.0  # monotonic time after which we may start sending
        self.stats = {"transactions": 0, "timeouts": 0, "protocol_errors": 0, "exceptions": 0,
                      "recovered": 0}

    # --- public API ---------------------------------------------------------------------------

    def read_input_registers(self, address: int, start: int, count: int) -> tuple[int, ...]:
        return self.transact(modbus.read_request(address, modbus.FC_READ_INPUT, start, count))

    def read_holding_registers(self, address: int, start: int, count: int) -> tuple[int, ...]:
        return self.transact(modbus.read_request(address, modbus.FC_READ_HOLDING, start, count))

    def write_registers(self, address: int, start: int, values: list[int]) -> None:
        self.transact(modbus.write_multiple(address, start, values))

    def write_register(self, address: int, register: int, value: int) -> None:
        self.transact(modbus.write_single(address, register, value))

    def health(self, address: int) -> DeviceHealth:
        with self.lock:
            return self._health.setdefault(address, DeviceHealth(address))

    def open(self) -> None:
        with self.lock:
            self.transport.open()

    def close(self) -> None:
        with self.lock:
            self.transport.close()

    # --- one transaction ------------------------------------------------------------------------

    def transact(self, req: modbus.Request) -> tuple[int, ...]:
        """Send `req`, return the reply's values. Raises DeviceTimeout, ProtocolError,
        ModbusException or DeviceGone, and records the outcome in the device's health."""
        with self.lock:
            self.stats["transactions"] += 1
            try:
                values = self._transact(req)
            except ModbusException as err:
                self.stats["exceptions"] += 1
                self._record(req.address, ok=True, fault=str(err))
                raise
            except (DeviceTimeout, ProtocolError) as err:
                self.stats["timeouts" if isinstance(err, DeviceTimeout)
                           else "protocol_errors"] += 1
                self._record(req.address, ok=False, error=str(err))
                raise
            self._record(req.address, ok=True)
            return values

    def _transact(self, req: modbus.Request) -> tuple[int, ...]:
        frame = modbus.encode_request(req)
        self._wait_line_free()
        self.transport.write(frame)
        wire_s = modbus.frame_time_s(len(frame) + modbus.expected_response_length(req),
                                     self.baud)
        deadline = time.monotonic() + wire_s + self.reply_timeout_s
        got = b""
        try:
            head = self.transport.read_exact(2, deadline)
            got = head + self.transport.read_exact(modbus.response_length(req, head) - 2,
                                                   deadline)
            return modbus.parse_response(req, got)
        except DeviceTimeout as err:
            got = err.partial if not got else got + err.partial
            return self._recover(req, got, deadline, err)
        except ProtocolError as err:
            return self._recover(req, got, deadline, err)
        finally:
            self._line_free_at = time.monotonic() + self.gap_s

    def _recover(self, req: modbus.Request, got: bytes, deadline: float,
                 err: DeviceTimeout | ProtocolError) -> tuple[int, ...]:
        """The reply was not where expected: read until the line is quiet (bounded by the
        deadline) and search everything that came for a valid reply."""
        if isinstance(err, DeviceTimeout) and not got:
            raise err  # nothing at all: a silent device, no need to wait for a quiet line
        got += self.transport.read_until_quiet(self.drain_quiet_s,
                                               max(deadline, time.monotonic() + self.gap_s))
        found = modbus.find_response(req, got)
        if found is None:
            log.debug("address %d: %s", req.address, err)
            raise err
        self.stats["recovered"] += 1
        return found

    def _wait_line_free(self) -> None:
        """Honour t3.5 before sending, and throw away anything still arriving (a slow
        device's late reply must not be taken for the next device's)."""
        pause = self._line_free_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        if self.transport.in_waiting():
            stale = self.transport.read_until_quiet(self.gap_s, time.monotonic()
                                                    + STALE_DRAIN_MAX_S)
            log.debug("discarded %d stale bytes before sending", len(stale))

    def _record(self, address: int, *, ok: bool, error: str = "", fault: str = "") -> None:
        h = self._health.setdefault(address, DeviceHealth(address))
        if ok:
            if h.offline:
                log.info("address %d answers again", address)
            h.failures, h.offline, h.answered = 0, False, True
            if fault:
                h.faults["exception"] = fault
            else:
                h.faults.pop("exception", None)
            return
        h.failures += 1
        h.last_error = error
        if h.failures >= self.failures_to_offline and not h.offline:
            h.offline = True
            log.warning("address %d offline after %d failures: %s", address, h.failures, error)

    def mark_offline(self, addresses: list[int], reason: str) -> None:
        """The port is gone (or never opened): no device on it can be vouched for."""
        with self.lock:
            for address in addresses:
                h = self._health.setdefault(address, DeviceHealth(address))
                h.offline, h.last_error = True, reason

