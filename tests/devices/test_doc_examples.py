"""docs/devices.md §7 byte for byte: every frame the master sends there is one the reference
drivers send for that action, and every reply is the simulator's, over a real pty.

A firmware engineer builds a device from that page alone; if the page, the drivers and the
simulators drift apart, this test says where.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devices import modbus as mb
from devices import regmap as rm
from devices.errors import ModbusException
from devices.keypad import CallerKeypad, RatingKeypad
from devices.led import LedDisplay
from devices.sim import SimCallerKeypad, SimDevice, SimLed, SimRatingKeypad
from devices.sim.models import SlaveError
from tests.devices.helpers import rig

DOC = Path(__file__).resolve().parents[2] / "docs" / "devices.md"
FRAME = re.compile(r"(master →|device ←)((?:\s+[0-9A-F]{2}\b)+)")


def doc_frames() -> list[tuple[bytes, bytes]]:
    """(request, reply) pairs of §7, in order: the indented lines only (prose may quote bytes)."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## 7. Examples"):text.index("## 8.")]
    code = " ".join(line for line in section.splitlines() if line.startswith("    "))
    found = [(who, bytes.fromhex(hexes)) for who, hexes in FRAME.findall(code)]
    assert [who for who, _ in found] == ["master →", "device ←"] * (len(found) // 2)
    frames = [frame for _, frame in found]
    return list(zip(frames[::2], frames[1::2], strict=True))


def recording(device: SimDevice, seen: list[tuple[bytes, bytes]]) -> None:
    """Keep every request the device gets as bytes, with the reply it answers."""
    handle = device.handle

    def handle_and_keep(req: mb.Request) -> tuple[int, ...]:
        sent = mb.encode_request(req)
        try:
            values = handle(req)
        except SlaveError as err:
            seen.append((sent, mb.encode_exception(req.address, req.function, err.code)))
            raise
        seen.append((sent, mb.encode_response(req, values)))
        return values

    device.handle = handle_and_keep  # type: ignore[method-assign]


def test_every_example_frame_is_what_the_drivers_send_and_the_simulators_answer() -> None:
    rating, caller, led = SimRatingKeypad(1), SimCallerKeypad(2), SimLed(3)
    rating.boot_id, led.boot_id = 0x1A2B, 0x5C3E
    for level, reason, request in ((1, 0, 1230), (3, 0, 1231), (1, 0, 1232), (2, 0, 1234),
                                   (4, 2, 1235)):  # "key ring after five ratings"
        rating.latch(level, reason, request)
    seen: list[tuple[bytes, bytes]] = []
    for device in (rating, caller, led):
        recording(device, seen)
    with rig(rating, caller, led) as (_sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()  # poll, identity, and the ring (a rating keypad's first contact)
        keypad.request_rating(1235, 30, "李明 工号JZ1001")
        keypad.cancel()
        keypad.thanks()
        keys = CallerKeypad(master, 2)
        keys.show("A012", 7)
        keys.poll()
        caller.press(rm.CallerKey.CALL_NEXT)
        keys.poll()
        screen = LedDisplay(master, 3)
        screen.show("请A001号到3号窗口")
        screen.poll()
        screen.set_brightness(60)
        with pytest.raises(ModbusException):  # the LED has no key ring
            master.read_input_registers(3, rm.IR_RING, rm.RING_COUNT)
        with pytest.raises(ModbusException):  # brightness 150 %
            master.write_register(3, rm.HR_BRIGHTNESS, 150)
    answers: dict[bytes, bytes] = {}
    for sent, reply in seen:
        answers.setdefault(sent, reply)  # the first time each request was sent
    for request, reply in doc_frames():
        assert request in answers, f"no driver sends {request.hex(' ').upper()}"
        assert answers[request] == reply, (
            f"to {request.hex(' ').upper()} the simulator answers "
            f"{answers[request].hex(' ').upper()}, the document {reply.hex(' ').upper()}")


def test_the_examples_cover_every_kind_and_exception() -> None:
    frames = doc_frames()
    assert len(frames) == 13
    assert {request[0] for request, _ in frames} == {1, 2, 3}
    assert {reply[1] for _, reply in frames if reply[1] & 0x80} == {0x84, 0x86}
    assert all(mb.crc_ok(f) for pair in frames for f in pair)
