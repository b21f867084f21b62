"""docs/devices.md, the ID card reader's section, byte for byte: the frames the kiosk sends
there are the driver's, and the reader's answers are the simulator's, over a real pty."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from devices.idcard import protocol as p
from devices.sim.idcard import SimIdReader, fictitious_card
from devices.transport import SerialTransport

DOC = Path(__file__).resolve().parents[2] / "docs" / "devices.md"
FRAME = re.compile(r"(kiosk →|reader ←)((?:\s+[0-9A-F]{2}\b)+)")
ELDER = fictitious_card("王五", dt.date(1949, 12, 31), seq=2, valid_until=None)


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## ID card reader"):]


def example() -> list[tuple[str, bytes]]:
    part = section()
    part = part[part.index("### Example exchange"):part.index("### Keyboard readers")]
    code = " ".join(line for line in part.splitlines() if line.startswith("    kiosk")
                    or line.startswith("    reader"))
    return [(who, bytes.fromhex(hexes)) for who, hexes in FRAME.findall(code)]


def test_the_example_exchange_is_the_drivers_and_the_simulators() -> None:
    frames = example()
    assert [who for who, _ in frames] == ["kiosk →", "reader ←"] * 3 + ["kiosk →"]
    commands = [p.Command.FIND, p.Command.FIND, p.Command.SELECT, p.Command.READ_TEXT]
    assert [f for who, f in frames if who == "kiosk →"] == [p.command(c) for c in commands]
    with SimIdReader(pace=False, read_s=0.01) as sim:
        transport = SerialTransport(sim.path, 115200)
        transport.open()
        for i in (0, 2, 4):  # the answers as the simulator sends them, read raw off the pty
            if i == 2:
                sim.insert(ELDER)
            transport.write(frames[i][1])
            answer = transport.read_exact(len(frames[i + 1][1]), time.monotonic() + 2)
            assert answer == frames[i + 1][1], i
        transport.write(frames[6][1])
        answer = transport.read_exact(7 + 0x0508, time.monotonic() + 2)
        transport.close()
    part = section()
    start = part[part.index("and the answer to read text starts"):]
    prefix = bytes.fromhex(start.split("\n\n")[1].strip().rstrip("…").strip())
    assert answer.startswith(prefix)
    assert answer[136:172] == ELDER.text.number.encode("utf-16-le")
    assert p.decode_text(p.text_of_answer(p.parse_answer(answer[7:-1]).data)) == ELDER.text


def test_the_damaged_answer_and_the_command_table() -> None:
    part = section()
    assert "AA AA AA 96 69 00 04 00 00 41 45" in part
    assert p.answer(p.Status.READ_FAILED) == bytes.fromhex("AA AA AA 96 69 00 04 00 00 41 45")
    for cmd in p.Command:
        assert p.command(cmd).hex(" ").upper() in part
    for name, (offset, size) in p.OFFSETS.items():
        assert re.search(rf"\| {offset} \| {size} \| {size // 2} \|", part), name
