"""Pure Modbus RTU framing: CRC vectors, encoders, master-side validation, slave-side framing,
and a megabyte of random bytes through both parsers (seeded, bounded in time)."""

from __future__ import annotations

import contextlib
import random
import time

import pytest

from devices import modbus as mb
from devices.errors import ModbusException, ProtocolError


@pytest.mark.parametrize(("body", "crc_bytes"), [
    ("01 03 00 00 00 0a", "c5 cd"),  # the brief's vector
    ("01 04 00 00 00 01", "31 ca"),  # Modbus over serial line spec, appendix B style example
    ("11 03 00 6b 00 03", "76 87"),  # Modbus Application Protocol spec, 03 example (slave 17)
])
def test_crc_vectors(body: str, crc_bytes: str) -> None:
    frame = mb.with_crc(bytes.fromhex(body))
    assert frame[-2:].hex(" ") == crc_bytes
    assert mb.crc_ok(frame)


def test_crc_check_value() -> None:
    assert mb.crc16(b"123456789") == 0x4B37  # CRC-16/MODBUS catalogue check value
    assert mb.crc16(b"") == 0xFFFF


def test_encode_requests() -> None:
    assert mb.encode_request(mb.read_request(1, 3, 0, 10)).hex(" ") == "01 03 00 00 00 0a c5 cd"
    assert mb.encode_request(mb.write_single(3, 0x0100, 80)).hex(" ")[:17] == "03 06 01 00 00 50"
    frame = mb.encode_request(mb.write_multiple(2, 0x0100, [0x4130, 0x3031]))
    assert frame[:11].hex(" ") == "02 10 01 00 00 02 04 41 30 30 31"
    assert mb.crc_ok(frame)


@pytest.mark.parametrize("bad", [
    lambda: mb.read_request(0, 3, 0, 1),  # broadcast read
    lambda: mb.read_request(248, 3, 0, 1),
    lambda: mb.read_request(1, 3, 0, 126),
    lambda: mb.read_request(1, 3, 0xFFFF, 2),
    lambda: mb.read_request(1, 6, 0, 1),
    lambda: mb.write_multiple(1, 0, [0] * 124),
    lambda: mb.write_single(1, 0, 0x10000),
])
def test_request_limits(bad) -> None:
    with pytest.raises(ValueError):
        bad()


def test_parse_read_response() -> None:
    req = mb.read_request(1, 4, 0, 3)
    reply = mb.encode_response(req, (1, 0xABCD, 7))
    assert len(reply) == mb.expected_response_length(req) == 11
    assert mb.parse_response(req, reply) == (1, 0xABCD, 7)


def test_parse_write_echoes() -> None:
    single = mb.write_single(5, 0x100, 3)
    assert mb.parse_response(single, mb.encode_response(single)) == (3,)
    multi = mb.write_multiple(5, 0x100, [1, 2, 3])
    assert mb.parse_response(multi, mb.encode_response(multi)) == ()
    wrong_echo = mb.encode_response(mb.write_multiple(5, 0x101, [1, 2, 3]))
    with pytest.raises(ProtocolError, match="echoed register"):
        mb.parse_response(multi, wrong_echo)


def test_exception_response() -> None:
    req = mb.read_request(9, 3, 0x200, 2)
    reply = mb.encode_exception(9, 3, mb.EXC_ILLEGAL_ADDRESS)
    assert reply[:3].hex(" ") == "09 83 02"
    assert mb.response_length(req, reply[:2]) == 5
    with pytest.raises(ModbusException) as info:
        mb.parse_response(req, reply)
    assert info.value.code == 2 and info.value.address == 9


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda f: f[:-1] + bytes((f[-1] ^ 1,)), "bad CRC"),
    (lambda f: mb.with_crc(bytes((2,)) + f[1:-2]), "address 2"),
    (lambda f: mb.with_crc(f[:1] + b"\x03" + f[2:-2]), "function"),
    (lambda f: mb.with_crc(f[:2] + b"\x04" + f[3:-2]), "byte count"),
    (lambda f: f[:4], "too short"),
    (lambda f: mb.with_crc(f[:-2] + b"\x00\x00"), "bytes, expected"),
])
def test_parse_rejects(mutate, message) -> None:
    req = mb.read_request(1, 4, 0, 3)
    with pytest.raises(ProtocolError, match=message):
        mb.parse_response(req, mutate(mb.encode_response(req, (1, 2, 3))))


def test_find_response_in_garbage() -> None:
    req = mb.read_request(7, 4, 0, 3)
    reply = mb.encode_response(req, (4, 5, 6))
    assert mb.find_response(req, b"\x07\x04\xff" + reply + b"\x00\x07") == (4, 5, 6)
    assert mb.find_response(req, b"\x07\x04\xff\x00" * 5) is None
    with pytest.raises(ModbusException):
        mb.find_response(req, b"\xaa" + mb.encode_exception(7, 4, 4))


def test_timing() -> None:
    assert mb.char_time_s(9600) == pytest.approx(10 / 9600)
    assert mb.frame_gap_s(9600) == pytest.approx(3.5 * 10 / 9600)
    assert mb.frame_gap_s(115200) == 0.00175  # fixed above 19200 baud


# --- slave-side framing ----------------------------------------------------------------------


def _sample_requests() -> list[mb.Request]:
    return [mb.read_request(1, 4, 0, 3), mb.read_request(247, 3, 0x100, 125),
            mb.write_single(3, 0x100, 0xBEEF), mb.write_multiple(2, 0x101, list(range(1, 22))),
            mb.write_multiple(0, 0x100, [1])]


def test_parser_whole_and_split() -> None:
    reqs = _sample_requests()
    stream = b"".join(mb.encode_request(r) for r in reqs)
    assert mb.RequestParser().feed(stream) == reqs
    parser = mb.RequestParser()
    got = [r for byte in stream for r in parser.feed(bytes((byte,)))]
    assert got == reqs and parser.pending == 0


def test_parser_resyncs_after_garbage() -> None:
    reqs = _sample_requests()
    stream = b"\xff\x10\x00" + mb.encode_request(reqs[0]) + b"\x01\x03\x00" + \
        mb.encode_request(reqs[1]) + b"\x05"
    parser = mb.RequestParser()
    assert parser.feed(stream) == reqs[:2]
    assert parser.gap() == []
    assert parser.discarded == 7


def test_parser_bad_crc_then_good() -> None:
    req = mb.read_request(1, 4, 0, 3)
    bad = bytearray(mb.encode_request(req))
    bad[-1] ^= 0x55
    assert mb.RequestParser().feed(bytes(bad) + mb.encode_request(req)) == [req]


def test_parser_gap_drops_partial_and_frees_next_frame() -> None:
    """Garbage that looks like the start of a long write holds the buffer until the silence."""
    parser = mb.RequestParser()
    assert parser.feed(b"\x01\x10\x00\x00\x00\x40\x80" + b"\x00" * 10) == []
    assert parser.pending > 0
    assert parser.gap() == []
    req = mb.read_request(1, 4, 0, 3)
    assert parser.feed(mb.encode_request(req)) == [req]


def test_parser_unknown_function_after_silence() -> None:
    parser = mb.RequestParser()
    frame = mb.with_crc(b"\x04\x2b\x0e\x01\x00")  # 43/14 read device identification
    assert parser.feed(frame) == []
    (req,) = parser.gap()
    assert req.function == 0x2B and req.data == b"\x0e\x01\x00"


def test_fuzz_parsers_megabyte() -> None:
    """1 MiB of random bytes with valid requests planted in it: every planted request is found,
    the slave parser never raises, and the master-side parser only raises ProtocolError or
    ModbusException. Seeded; bounded in time."""
    rng = random.Random(20240611)
    started = time.monotonic()
    chunks, planted = [], []
    total = 0
    while total < 1 << 20:
        noise = rng.randbytes(rng.randrange(0, 600))
        req = mb.read_request(rng.randrange(1, 248), rng.choice((3, 4)), rng.randrange(0, 0x100),
                              rng.randrange(1, 40))
        chunks += [noise, mb.encode_request(req)]
        planted.append(req)
        total += len(noise) + 8
    stream = b"".join(chunks)
    parser = mb.RequestParser()
    found: list[mb.Request] = []
    pos = 0
    while pos < len(stream):
        step = rng.randrange(1, 300)
        found += parser.feed(stream[pos:pos + step])
        pos += step
    found += parser.gap()
    missing = [r for r in planted if r not in found]
    assert len(missing) <= len(planted) // 1000, missing[:5]  # only a freak CRC match may hide one
    extra = len(found) - (len(planted) - len(missing))
    assert extra < 10  # random 16-bit CRC matches: about one in 65536 candidates

    req = mb.read_request(1, 4, 0, 3)
    for i in range(0, len(stream) - 11, 11):
        with contextlib.suppress(ProtocolError, ModbusException):
            mb.parse_response(req, stream[i:i + 11])
    with contextlib.suppress(ModbusException):
        mb.find_response(req, stream[:200_000])
    assert time.monotonic() - started < 30
