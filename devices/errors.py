"""One exception tree for everything on a serial device bus.

Callers (the bus poller, the agent) catch `DeviceError` and nothing else: pyserial's
`SerialException`, `OSError` and `termios.error` never escape `devices.transport`, which converts
them here and chains the original (`raise DeviceGone(...) from err`), the way Home Assistant
integrations keep a library's exceptions behind one boundary.
"""

from __future__ import annotations

# Modbus exception codes (Modbus Application Protocol V1.1b3, section 7).
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
}


class DeviceError(Exception):
    """Base of every error a device, a bus or a port can raise."""


class DeviceTimeout(DeviceError):
    """No complete reply before the deadline; `partial` holds the bytes that did arrive."""

    def __init__(self, message: str, partial: bytes = b"") -> None:
        super().__init__(message)
        self.partial = partial


class ProtocolError(DeviceError):
    """A reply arrived but is not the one asked for: bad CRC, wrong address or function,
    wrong length, or otherwise malformed."""


class DeviceGone(DeviceError):
    """The port itself vanished or failed (USB adapter unplugged, pty closed): reopen it."""


class ModbusException(DeviceError):
    """The device answered with a Modbus exception response: it is alive but refused."""

    def __init__(self, code: int, address: int = 0, function: int = 0) -> None:
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        super().__init__(f"device {address} function {function:#04x}: "
                         f"exception {code:02d} ({name})")
        self.code, self.address, self.function = code, address, function
