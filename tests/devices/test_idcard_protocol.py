"""The ID card reader's SAM frames (GA 467-2013): golden frames written out by hand from the
layout, the text block's fields at their offsets, and the decoder against a megabyte of noise."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from devices.errors import ProtocolError
from devices.idcard import protocol as p

PRE = "aa aa aa 96 69"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- frames, byte for byte -----------------------------------------------------------------------

# (what, frame as it is on the wire): LEN counts CMD PARA (or SW1-3) + data + CHK, and CHK is
# the XOR of LEN and the body, worked out by hand here.
COMMANDS = [
    (p.Command.FIND, f"{PRE} 00 03 20 01 22"),  # 00^03^20^01 = 22
    (p.Command.SELECT, f"{PRE} 00 03 20 02 21"),  # 00^03^20^02 = 21
    (p.Command.READ_TEXT, f"{PRE} 00 03 30 01 32"),  # 00^03^30^01 = 32
]
ANSWERS = [
    (p.Status.FOUND, "00 00 00 00", f"{PRE} 00 08 00 00 9f 00 00 00 00 97"),  # 08^9f = 97
    (p.Status.NO_CARD, "", f"{PRE} 00 04 00 00 80 84"),
    (p.Status.OK, "00" * 8, f"{PRE} 00 0c 00 00 90 {'00 ' * 8}9c"),  # select: 0c^90 = 9c
    (p.Status.SELECT_FAILED, "", f"{PRE} 00 04 00 00 81 85"),
    (p.Status.READ_FAILED, "", f"{PRE} 00 04 00 00 41 45"),
]


@pytest.mark.parametrize(("cmd", "wire"), COMMANDS)
def test_commands_byte_for_byte(cmd: p.Command, wire: str) -> None:
    assert p.command(cmd) == h(wire)
    body = p.FrameDecoder().feed(h(wire))
    assert [p.parse_command(b)[:2] for b in body] == [cmd.value]


@pytest.mark.parametrize(("status", "data", "wire"), ANSWERS)
def test_answers_byte_for_byte(status: p.Status, data: str, wire: str) -> None:
    assert p.answer(status, h(data)) == h(wire)
    (body,) = p.FrameDecoder().feed(h(wire))
    assert p.parse_answer(body) == p.Answer(status, h(data))


def ucs2(hex_chars: str, size: int) -> str:
    """A field: its UCS-2LE bytes as written, padded with spaces (20 00) to `size` bytes."""
    raw = h(hex_chars)
    return hex_chars + " 20 00" * ((size - len(raw)) // 2)


# The GB 11643-1999 standard's own example number, 11010519491231002X, on a made-up card.
TEXT_BLOCK = " ".join([
    ucs2("8b 73 94 4e", 30),  # 王五 (U+738B U+4E94)
    "32 00",  # sex 2: female
    "30 00 31 00",  # ethnicity 01: 汉
    "31 00 39 00 34 00 39 00 31 00 32 00 33 00 31 00",  # birth 19491231
    ucs2(" ".join(f"{b:02x}" for b in "北京市东城区示例街1号".encode("utf-16-le")), 70),
    "31 00 31 00 30 00 31 00 30 00 35 00 31 00 39 00 34 00 39 00 31 00 32 00 33 00 31 00"
    " 30 00 30 00 32 00 58 00",  # 11010519491231002X
    ucs2(" ".join(f"{b:02x}" for b in "北京市公安局东城分局".encode("utf-16-le")), 30),
    "32 00 30 00 31 00 36 00 30 00 31 00 30 00 31 00",  # valid from 20160101
    ucs2("7f 95 1f 67", 16),  # valid until 长期 (U+957F U+671F)
    ucs2("", 36),  # reserved
])
CARD = p.CardText(name="王五", sex="2", ethnicity="01", birth=dt.date(1949, 12, 31),
                  address="北京市东城区示例街1号", number="11010519491231002X",
                  authority="北京市公安局东城分局", valid_from=dt.date(2016, 1, 1),
                  valid_until=None)


def test_text_block_fields_at_their_offsets() -> None:
    block = h(TEXT_BLOCK)
    assert len(block) == p.TEXT_LEN == 256
    assert p.decode_text(block) == CARD
    assert p.encode_text(CARD) == block
    assert {k: v[0] for k, v in p.OFFSETS.items()} == {
        "name": 0, "sex": 30, "ethnicity": 32, "birth": 36, "address": 52, "number": 122,
        "authority": 158, "valid_from": 188, "valid_until": 204, "reserved": 220}


def test_read_text_answer_byte_for_byte() -> None:
    # LEN 05 08 = 1288 = SW1-3 (3) + two lengths (4) + text (256) + photo (1024) + CHK (1).
    block = h(TEXT_BLOCK)
    chk = 0x05 ^ 0x08 ^ 0x90 ^ 0x01 ^ 0x04  # LEN, SW3, text length 01 00, photo length 04 00
    for byte in block:
        chk ^= byte
    photo = bytes(range(256)) * 4  # the photo's bytes are skipped, whatever they are
    for byte in photo:
        chk ^= byte
    wire = h(f"{PRE} 05 08 00 00 90 01 00 04 00") + block + photo + bytes((chk,))
    assert p.answer(p.Status.OK, p.read_text_data(block, photo)) == wire
    (body,) = p.FrameDecoder().feed(wire)
    ans = p.parse_answer(body)
    assert ans.status == p.Status.OK
    assert p.decode_text(p.text_of_answer(ans.data)) == CARD


def test_a_dated_card_and_nothing_personal_in_repr() -> None:
    card = p.CardText(**{**{f: getattr(CARD, f) for f in CARD.__slots__},
                         "valid_until": dt.date(2036, 1, 1)})
    assert p.decode_text(p.encode_text(card)).valid_until == dt.date(2036, 1, 1)
    shown = repr(card) + repr(p.Answer(0x90, p.encode_text(card)))
    for secret in ("王五", "11010519491231002X", "1949", "东城"):
        assert secret not in shown


@pytest.mark.parametrize(("offset", "value", "why"), [
    (122, "1101051949123100".encode("utf-16-le") + b" \x00 \x00", "number"),
    (122, "11010519491231002Y".encode("utf-16-le"), "number"),
    (36, "19491331".encode("utf-16-le"), "birth"),
    (204, "2036".encode("utf-16-le") + b" \x00" * 4, "valid until"),
    (0, b"\x00\xd8\x20\x00", "name"),  # a lone surrogate: not UCS-2
])
def test_a_malformed_block_is_a_protocol_error(offset: int, value: bytes, why: str) -> None:
    block = bytearray(h(TEXT_BLOCK))
    block[offset:offset + len(value)] = value
    with pytest.raises(ProtocolError, match=why):
        p.decode_text(bytes(block))


def test_malformed_answers() -> None:
    with pytest.raises(ProtocolError):
        p.parse_answer(b"\x00\x00")
    with pytest.raises(ProtocolError):
        p.parse_answer(b"\x01\x00\x90")
    with pytest.raises(ProtocolError):
        p.text_of_answer(p.read_text_data(h(TEXT_BLOCK))[:-1])
    with pytest.raises(ProtocolError):
        p.decode_text(h(TEXT_BLOCK)[:-2])


# --- the streaming decoder -----------------------------------------------------------------------


def test_frames_split_anywhere_and_noise_between() -> None:
    wire = b"\x00\xaa\xaa" + p.command(p.Command.FIND) + b"\xaa\xaa\xaa\x96" + \
        p.answer(p.Status.NO_CARD) + b"\x69\x69"
    for cut in range(1, len(wire)):
        dec = p.FrameDecoder()
        bodies = dec.feed(wire[:cut]) + dec.feed(wire[cut:])
        assert bodies == [b"\x20\x01", b"\x00\x00\x80"], cut


def test_a_fake_header_does_not_swallow_the_frame_behind_it() -> None:
    # A preamble in the noise that claims 3,328 bytes: the real frame inside them is found.
    dec = p.FrameDecoder()
    fake = h(f"{PRE} 0d 00 00 00")
    assert dec.feed(fake + p.answer(p.Status.FOUND, bytes(4))) == []
    assert dec.feed(bytes(3400)) == [h("00 00 9f 00 00 00 00")]
    assert dec.bad_frames >= 1


def test_a_megabyte_of_noise_with_frames_in_it() -> None:
    rng = random.Random(467)
    block = p.encode_text(CARD)
    kinds = [p.command(c) for c in p.Command] + [p.answer(s, h(d)) for s, d, _ in ANSWERS] + \
        [p.answer(p.Status.OK, p.read_text_data(block, bytes(p.PHOTO_LEN)))]
    traps = [h(PRE), h(PRE)[:3], h(f"{PRE} ff ff"), h(f"{PRE} 0d 00"), h(f"{PRE} 00 03 20 01"),
             h(f"{PRE} 00 02")]
    wire, sent = bytearray(), []
    while len(wire) < 1_100_000:
        wire += rng.randbytes(rng.randrange(0, 3000))
        if rng.random() < 0.3:
            wire += rng.choice(traps)  # a preamble in the noise, right before a real frame
        frame = rng.choice(kinds)
        wire += frame
        sent.append(frame[7:-1])
    wire += rng.randbytes(4000)  # behind the last frame: a trap before it is resolved
    dec, got, at = p.FrameDecoder(), [], 0
    while at < len(wire):
        step = rng.randrange(1, 5000)
        got += dec.feed(bytes(wire[at:at + step]))
        at += step
    it = iter(got)  # every frame sent arrives, in order (noise may hold a chance frame more)
    assert all(any(body == g for g in it) for body in sent)
    assert len(sent) > 500 and len(got) >= len(sent)
