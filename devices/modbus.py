"""Modbus RTU framing, pure: bytes in, requests and register values out, no I/O and no clock.

Only what Onestop's devices use (docs/devices.md): read holding registers (03), read input
registers (04), write single register (06), write multiple registers (16), and the exception
responses 01-04. The master side (`encode_request`, `response_length`, `parse_response`,
`find_response`) and the slave side used by the simulators (`RequestParser`, `encode_response`,
`encode_exception`) live together so both ends are provably the same bytes.

Kept apart from the port like Klipper's `msgproto.py`: every rule here is testable in
microseconds, including against a megabyte of random bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.errors import ModbusException, ProtocolError

FC_READ_HOLDING = 0x03
FC_READ_INPUT = 0x04
FC_WRITE_SINGLE = 0x06
FC_WRITE_MULTIPLE = 0x10
KNOWN_FUNCTIONS = frozenset({FC_READ_HOLDING, FC_READ_INPUT, FC_WRITE_SINGLE, FC_WRITE_MULTIPLE})

EXC_ILLEGAL_FUNCTION = 0x01
EXC_ILLEGAL_ADDRESS = 0x02
EXC_ILLEGAL_VALUE = 0x03
EXC_DEVICE_FAILURE = 0x04

BROADCAST = 0
MAX_ADDRESS = 247  # 248-255 are reserved by the Modbus over serial line spec, section 2.2
MAX_READ = 125  # registers per 03/04 request (spec: 0x7D)
MAX_WRITE = 123  # registers per 16 request (spec: 0x7B)
MAX_FRAME = 256  # an RTU frame is at most 256 bytes (serial line spec, section 2.5.1)
EXCEPTION_LENGTH = 5  # address, function | 0x80, code, CRC (2)

BITS_PER_CHAR_8N1 = 10  # start + 8 data + stop
FAST_BAUD = 19200  # above it the spec fixes t3.5 at 1.75 ms (serial line spec, 2.5.1.1)
FIXED_GAP_S = 0.00175


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _make_crc_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    crc = crc16(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def crc_ok(frame: bytes | bytearray | memoryview) -> bool:
    """True if the last two bytes are the CRC of the rest (a valid frame CRCs to zero)."""
    return len(frame) >= 4 and crc16(frame) == 0


# --- timing --------------------------------------------------------------------------------


def char_time_s(baud: int, bits_per_char: int = BITS_PER_CHAR_8N1) -> float:
    return bits_per_char / baud


def frame_gap_s(baud: int, bits_per_char: int = BITS_PER_CHAR_8N1) -> float:
    """t3.5: the silence that ends a frame; fixed at 1.75 ms above 19200 baud."""
    return FIXED_GAP_S if baud > FAST_BAUD else 3.5 * char_time_s(baud, bits_per_char)


def frame_time_s(nbytes: int, baud: int, bits_per_char: int = BITS_PER_CHAR_8N1) -> float:
    return nbytes * char_time_s(baud, bits_per_char)


# --- requests ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One request. Reads: start, count. 06: start = register, values = (value,).
    16: start, values. An unknown function (slave side only) keeps its raw PDU in `data`."""

    address: int
    function: int
    start: int = 0
    count: int = 0
    values: tuple[int, ...] = ()
    data: bytes = b""


def read_request(address: int, function: int, start: int, count: int) -> Request:
    if function not in (FC_READ_HOLDING, FC_READ_INPUT):
        raise ValueError(f"not a read function: {function}")
    _check_address(address, broadcast=False)
    _check_register(start)
    if not 1 <= count <= MAX_READ or start + count > 0x10000:
        raise ValueError(f"read count {count} out of range 1-{MAX_READ}")
    return Request(address, function, start, count)


def write_single(address: int, register: int, value: int) -> Request:
    _check_address(address, broadcast=True)
    _check_register(register)
    _check_register(value)
    return Request(address, FC_WRITE_SINGLE, register, 1, (value,))


def write_multiple(address: int, start: int, values: list[int] | tuple[int, ...]) -> Request:
    _check_address(address, broadcast=True)
    _check_register(start)
    if not 1 <= len(values) <= MAX_WRITE or start + len(values) > 0x10000:
        raise ValueError(f"write count {len(values)} out of range 1-{MAX_WRITE}")
    for v in values:
        _check_register(v)
    return Request(address, FC_WRITE_MULTIPLE, start, len(values), tuple(values))


def _check_address(address: int, *, broadcast: bool) -> None:
    low = BROADCAST if broadcast else 1
    if not low <= address <= MAX_ADDRESS:
        raise ValueError(f"device address {address} out of range {low}-{MAX_ADDRESS}")


def _check_register(value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"16-bit value out of range: {value}")


def _u16(value: int) -> bytes:
    return bytes((value >> 8, value & 0xFF))


def encode_request(req: Request) -> bytes:
    head = bytes((req.address, req.function))
    if req.function in (FC_READ_HOLDING, FC_READ_INPUT):
        return with_crc(head + _u16(req.start) + _u16(req.count))
    if req.function == FC_WRITE_SINGLE:
        return with_crc(head + _u16(req.start) + _u16(req.values[0]))
    if req.function == FC_WRITE_MULTIPLE:
        body = b"".join(_u16(v) for v in req.values)
        return with_crc(head + _u16(req.start) + _u16(len(req.values)) + bytes((len(body),)) + body)
    return with_crc(head + req.data)


# --- master side: responses -------------------------------------------------------------------


def expected_response_length(req: Request) -> int:
    """Length of the normal (non-exception) response to `req`, CRC included."""
    if req.function in (FC_READ_HOLDING, FC_READ_INPUT):
        return 5 + 2 * req.count
    return 8  # 06 and 16 echo address, register and value/count


def response_length(req: Request, head: bytes) -> int:
    """Length of the reply whose first two bytes are `head`: 5 if it is an exception."""
    if len(head) >= 2 and head[1] == (req.function | 0x80):
        return EXCEPTION_LENGTH
    return expected_response_length(req)


def parse_response(req: Request, frame: bytes) -> tuple[int, ...]:
    """Validate a whole reply to `req` and return its registers (reads), (value,) for 06, or
    () for 16. Raises ModbusException for an exception reply, ProtocolError for anything else
    that is not exactly the expected answer."""
    if len(frame) < EXCEPTION_LENGTH:
        raise ProtocolError(f"reply too short ({len(frame)} bytes): {frame.hex(' ')}")
    if not crc_ok(frame):
        raise ProtocolError(f"bad CRC in reply: {frame.hex(' ')}")
    if frame[0] != req.address:
        raise ProtocolError(f"reply from address {frame[0]}, expected {req.address}")
    if frame[1] == req.function | 0x80:
        if len(frame) != EXCEPTION_LENGTH:
            raise ProtocolError(f"exception reply of {len(frame)} bytes")
        raise ModbusException(frame[2], req.address, req.function)
    if frame[1] != req.function:
        raise ProtocolError(f"reply function {frame[1]:#04x}, expected {req.function:#04x}")
    if len(frame) != expected_response_length(req):
        raise ProtocolError(f"reply of {len(frame)} bytes, expected "
                            f"{expected_response_length(req)}")
    return _response_values(req, frame)


def _response_values(req: Request, frame: bytes) -> tuple[int, ...]:
    if req.function in (FC_READ_HOLDING, FC_READ_INPUT):
        if frame[2] != 2 * req.count:
            raise ProtocolError(f"byte count {frame[2]}, expected {2 * req.count}")
        data = frame[3:-2]
        return tuple((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    echo_start, echo_value = (frame[2] << 8) | frame[3], (frame[4] << 8) | frame[5]
    if echo_start != req.start:
        raise ProtocolError(f"echoed register {echo_start:#06x}, expected {req.start:#06x}")
    if req.function == FC_WRITE_SINGLE:
        if echo_value != req.values[0]:
            raise ProtocolError(f"echoed value {echo_value:#06x}, expected {req.values[0]:#06x}")
        return (echo_value,)
    if echo_value != req.count:
        raise ProtocolError(f"echoed count {echo_value}, expected {req.count}")
    return ()


def find_response(req: Request, buf: bytes) -> tuple[int, ...] | None:
    """Look for a valid reply to `req` anywhere in `buf` (garbage before or after it): the
    values of the first one found, or None. A ModbusException found this way is raised."""
    lengths = (expected_response_length(req), EXCEPTION_LENGTH)
    for offset in range(len(buf) - EXCEPTION_LENGTH + 1):
        if buf[offset] != req.address or buf[offset + 1] & 0x7F != req.function:
            continue
        for length in lengths:
            frame = buf[offset:offset + length]
            if len(frame) == length and crc_ok(frame):
                try:
                    return parse_response(req, frame)
                except ProtocolError:
                    continue
    return None


# --- slave side ------------------------------------------------------------------------------


def encode_response(req: Request, values: tuple[int, ...] | list[int] = ()) -> bytes:
    """The normal reply to `req`: `values` are the registers read (ignored for writes)."""
    head = bytes((req.address, req.function))
    if req.function in (FC_READ_HOLDING, FC_READ_INPUT):
        body = b"".join(_u16(v) for v in values)
        return with_crc(head + bytes((len(body),)) + body)
    second = req.values[0] if req.function == FC_WRITE_SINGLE else req.count
    return with_crc(head + _u16(req.start) + _u16(second))


def encode_exception(address: int, function: int, code: int) -> bytes:
    return with_crc(bytes((address, (function | 0x80) & 0xFF, code)))


def request_length(buf: bytes | bytearray, offset: int = 0) -> int | None:
    """Length of the request frame starting at `buf[offset]`, 0 if it cannot be one (bad
    address, unknown function, impossible count), None if more bytes are needed to tell."""
    avail = len(buf) - offset
    if avail < 2:
        return None
    address, function = buf[offset], buf[offset + 1]
    if address > MAX_ADDRESS or function not in KNOWN_FUNCTIONS:
        return 0
    if function != FC_WRITE_MULTIPLE:
        return 8
    if avail < 7:
        return None
    count = (buf[offset + 4] << 8) | buf[offset + 5]
    byte_count = buf[offset + 6]
    if not 1 <= count <= MAX_WRITE or byte_count != 2 * count:
        return 0
    return 9 + byte_count


def decode_request(frame: bytes) -> Request:
    """A request from one whole frame whose CRC has been checked."""
    address, function = frame[0], frame[1]
    if function not in KNOWN_FUNCTIONS:
        return Request(address, function, data=bytes(frame[2:-2]))
    start, second = (frame[2] << 8) | frame[3], (frame[4] << 8) | frame[5]
    if function in (FC_READ_HOLDING, FC_READ_INPUT):
        return Request(address, function, start, second)
    if function == FC_WRITE_SINGLE:
        return Request(address, function, start, 1, (second,))
    data = frame[7:-2]
    values = tuple((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    return Request(address, function, start, second, values)


def _unknown_function_frame(burst: bytearray) -> bool:
    return (4 <= len(burst) <= MAX_FRAME and burst[0] <= MAX_ADDRESS
            and burst[1] not in KNOWN_FUNCTIONS and burst[1] < 0x80 and crc_ok(burst))


class RequestParser:
    """Slave-side framing: feed it bytes as they arrive, get whole valid requests back.

    A real RTU slave ends a frame on 3.5 characters of silence; we frame by length and CRC
    instead, so a reply can start without waiting for the silence, and call `gap()` when the
    line has been silent so that a partial frame (the tail of garbage) is given up. When a
    candidate's CRC fails, one byte is skipped and the search goes on, so a valid request after
    garbage is still found. The buffer never holds more than one maximum frame.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._burst = bytearray()  # everything since the last silence, for unknown functions
        self._burst_found = False
        self.discarded = 0  # bytes skipped as garbage, for statistics and tests

    def feed(self, data: bytes) -> list[Request]:
        self._buf += data
        if len(self._burst) <= MAX_FRAME:
            self._burst += data
        found = self._scan(final=False)
        self._burst_found |= bool(found)
        return found

    def gap(self) -> list[Request]:
        """The line was silent for t3.5: no frame continues across it. A burst that was one
        whole frame of a function we do not know is returned too (the slave answers 01)."""
        found = self._scan(final=True)
        if not found and not self._burst_found and _unknown_function_frame(self._burst):
            found.append(decode_request(bytes(self._burst)))
        self._burst.clear()
        self._burst_found = False
        return found

    @property
    def pending(self) -> int:
        return len(self._buf)

    def _scan(self, *, final: bool) -> list[Request]:
        found: list[Request] = []
        buf, pos = self._buf, 0
        while pos < len(buf):
            length = request_length(buf, pos)
            if length is None or (length and pos + length > len(buf)):
                if not final and len(buf) - pos < MAX_FRAME:
                    break  # wait for more bytes
                length = 0  # cannot complete now: skip this byte
            if length and crc_ok(buf[pos:pos + length]):
                found.append(decode_request(bytes(buf[pos:pos + length])))
                pos += length
                continue
            pos += 1
            self.discarded += 1
        del buf[:pos]
        return found
