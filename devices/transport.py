"""A serial port for one device bus: open by URL, read to a deadline, reopen after an unplug.

This is the one place where pyserial's exceptions (`SerialException`, `OSError`,
`termios.error`) become ours (`DeviceGone`, `DeviceTimeout`), chained with `from err`.

Ports are opened with `serial.serial_for_url`, so besides a `/dev/serial/by-id/...` path (which
survives re-enumeration, unlike `/dev/ttyUSB0`) the test URLs `loop://`, `socket://host:port`
and `spy://` work unchanged. Every byte in and out is logged at DEBUG on the `devices.wire`
logger, with `>` for what we send and `<` for what we receive.
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import serial

from devices.errors import DeviceGone, DeviceTimeout

log = logging.getLogger(__name__)
wire_log = logging.getLogger("devices.wire")

# pyserial reconfigures the port (tcsetattr) every time its `timeout` is assigned, so the
# timeout is fixed at open and every wait loops on it against our own deadline instead.
READ_SLICE_S = 0.005
WRITE_TIMEOUT_S = 1.0
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 1.0  # a replugged adapter is reopened within 1 s of its path reappearing

_PORT_ERRORS = (serial.SerialException, OSError, termios.error)


class SerialTransport:
    """One serial port (RS-485 adapter, pty, or pyserial URL). Not thread-safe by itself:
    the Modbus master serialises access with its bus lock."""

    def __init__(self, url: str, baud: int = 9600, *, exclusive: bool = True,
                 name: str | None = None, backoff_initial_s: float = BACKOFF_INITIAL_S,
                 backoff_max_s: float = BACKOFF_MAX_S, personal_data: bool = False) -> None:
        self.url, self.baud, self.exclusive = url, baud, exclusive
        # What arrives is a person's data (an ID card's text): the wire log shows lengths only.
        self.personal_data = personal_data
        self.name = name or url
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self._port: serial.SerialBase | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        if self._port is not None:
            return
        with self._converted("open"):
            port = serial.serial_for_url(self.url, do_not_open=True, baudrate=self.baud,
                                         timeout=READ_SLICE_S, write_timeout=WRITE_TIMEOUT_S)
            port.exclusive = self.exclusive  # flock: a second agent on the same bus fails fast
            port.open()
        self._port = port
        log.info("%s: opened at %d baud", self.name, self.baud)

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except _PORT_ERRORS as err:  # closing a vanished port: nothing left to do
                log.debug("%s: close failed: %s", self.name, err)

    def reopen(self, stop: threading.Event | None = None, give_up_s: float | None = None) -> bool:
        """Close and open again, retrying with exponential backoff (0.1 s doubling to 1 s by
        default) until open, `stop` is set, or `give_up_s` has passed. True if open."""
        self.close()
        delay = self.backoff_initial_s
        give_up = None if give_up_s is None else time.monotonic() + give_up_s
        while True:
            try:
                self.open()
                return True
            except DeviceGone as err:
                log.debug("%s: reopen failed: %s", self.name, err)
            if give_up is not None and time.monotonic() + delay > give_up:
                return False
            if stop is not None and stop.wait(delay):
                return False
            if stop is None:
                time.sleep(delay)
            delay = min(delay * 2, self.backoff_max_s)

    def __enter__(self) -> SerialTransport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- I/O ----------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        port = self._require()
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("%s > %s", self.name, data.hex(" "))
        with self._converted("write"):
            port.write(data)

    def read_exact(self, n: int, deadline: float) -> bytes:
        """Exactly `n` bytes, or DeviceTimeout (with what did arrive) at `deadline`
        (time.monotonic)."""
        port = self._require()
        buf = bytearray()
        with self._converted("read"):
            while len(buf) < n:
                chunk = port.read(n - len(buf))
                if chunk:
                    buf += chunk
                elif time.monotonic() >= deadline:
                    break
        self._log_rx(buf)
        if len(buf) < n:
            raise DeviceTimeout(f"{self.name}: {len(buf)} of {n} bytes before the deadline",
                                bytes(buf))
        return bytes(buf)

    def read_until_quiet(self, quiet_s: float, deadline: float) -> bytes:
        """Whatever arrives until the line has been silent for `quiet_s` (or `deadline`)."""
        port = self._require()
        buf = bytearray()
        last = time.monotonic()
        with self._converted("read"):
            while True:
                waiting = port.in_waiting
                chunk = port.read(waiting or 1)
                now = time.monotonic()
                if chunk:
                    buf += chunk
                    last = now
                elif now - last >= quiet_s or now >= deadline:
                    break
                if now >= deadline:
                    break
        self._log_rx(buf, "(drained)")
        return bytes(buf)

    def read_available(self, deadline: float) -> bytes:
        """The bytes that arrive first (everything already waiting), or b"" at `deadline`."""
        port = self._require()
        with self._converted("read"):
            while True:
                chunk = port.read(max(1, port.in_waiting))
                if chunk or time.monotonic() >= deadline:
                    break
        self._log_rx(chunk)
        return bytes(chunk)

    def in_waiting(self) -> int:
        port = self._require()
        with self._converted("in_waiting"):
            return port.in_waiting

    # --- helpers --------------------------------------------------------------------------------

    def _require(self) -> serial.SerialBase:
        if self._port is None:
            raise DeviceGone(f"{self.name}: port is not open")
        return self._port

    def _log_rx(self, buf: bytes | bytearray, note: str = "") -> None:
        if buf and wire_log.isEnabledFor(logging.DEBUG):
            if self.personal_data:
                wire_log.debug("%s < (%d bytes not shown: personal data) %s", self.name,
                               len(buf), note)
            else:
                wire_log.debug("%s < %s %s", self.name, buf.hex(" "), note)

    @contextmanager
    def _converted(self, what: str) -> Iterator[None]:
        """The boundary: a port error closes the port and becomes DeviceGone."""
        try:
            yield
        except serial.SerialTimeoutException as err:
            raise DeviceTimeout(f"{self.name}: {what} timed out") from err
        except _PORT_ERRORS as err:
            self.close()
            raise DeviceGone(f"{self.name}: {what} failed: {err}") from err
