"""ESC/POS real-time status: `DLE EOT n` requests and a pure parser of the answers.

`DLE EOT n` (10 04 n) is executed as soon as it is received, even while the printer is offline,
and answers one byte. Every answer has bits 1 and 4 set and bits 0 and 7 clear
(`byte & 0x93 == 0x12`), which tells a status byte from stray data. Bits per the Epson ESC/POS
command reference:

    n=1 printer:      bit 2 drawer pin 3 high, bit 3 offline, bit 5 waiting for online recovery,
                      bit 6 paper feed button pressed
    n=2 offline cause: bit 2 cover open, bit 3 paper fed by the feed button,
                      bit 5 printing stopped by paper end, bit 6 error occurred
    n=3 error cause:  bit 2 recoverable error, bit 3 autocutter error,
                      bit 5 unrecoverable error, bit 6 auto-recoverable error (head hot, ...)
    n=4 roll paper:   bits 2+3 paper near end, bits 5+6 paper end (roll paper not present)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devices.printer.wording import PrinterWording

WORDS = PrinterWording()  # what a printer's state is called unless the hub says otherwise

DLE, EOT = 0x10, 0x04
PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, ROLL_PAPER = 1, 2, 3, 4
ALL = (PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, ROLL_PAPER)
FIXED_MASK, FIXED_VALUE = 0x93, 0x12
OK_BYTE = FIXED_VALUE  # every status byte of a healthy printer


def request(n: int) -> bytes:
    """The DLE EOT n request (n = 1..4)."""
    if n not in ALL:
        raise ValueError("DLE EOT n: n is 1-4")
    return bytes((DLE, EOT, n))


def is_status_byte(b: int) -> bool:
    return b & FIXED_MASK == FIXED_VALUE


@dataclass(frozen=True)
class PrinterStatus:
    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    feed_button: bool = False
    error: bool = False  # any error (offline cause bit 6, or an error-cause bit)
    recoverable_error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    raw: tuple[tuple[int, int], ...] = ()  # (n, byte) as received

    @property
    def ready(self) -> bool:
        """Can print now (paper near end is only a warning)."""
        return self.online and not (self.cover_open or self.paper_out or self.error)

    def problems(self, words: PrinterWording = WORDS) -> list[str]:
        """Human-readable faults, most actionable first (Chinese for the kiosk and the clerk)."""
        found = [name for name in ("paper_out", "cover_open", "cutter_error",
                                   "unrecoverable_error", "auto_recoverable_error",
                                   "recoverable_error") if getattr(self, name)]
        if self.error and not found:
            found.append("error")
        if not self.online and not found:
            found.append("offline")
        return [getattr(words, name) for name in found]

    def describe(self, words: PrinterWording = WORDS) -> str:
        text = words.separator.join(self.problems(words)) or words.ready
        if self.paper_near_end:
            text += words.separator + words.paper_near_end
        return text


def parse(replies: Mapping[int, int]) -> PrinterStatus:
    """PrinterStatus from the answers to DLE EOT n, as {n: byte}. Missing n are not known and
    read as fine. Raises ValueError for a byte that is not a status byte."""
    for n, b in replies.items():
        if n not in ALL:
            raise ValueError(f"DLE EOT {n}: n is 1-4")
        if not is_status_byte(b):
            raise ValueError(f"DLE EOT {n}: {b:#04x} is not a status byte "
                             f"(bits 1 and 4 set, 0 and 7 clear)")
    s1 = replies.get(PRINTER, OK_BYTE)
    s2 = replies.get(OFFLINE_CAUSE, OK_BYTE)
    s3 = replies.get(ERROR_CAUSE, OK_BYTE)
    s4 = replies.get(ROLL_PAPER, OK_BYTE)
    recoverable, cutter = bool(s3 & 0x04), bool(s3 & 0x08)
    unrecoverable, auto = bool(s3 & 0x20), bool(s3 & 0x40)
    return PrinterStatus(
        online=not s1 & 0x08,
        cover_open=bool(s2 & 0x04),
        paper_out=bool(s2 & 0x20) or bool(s4 & 0x60),
        paper_near_end=bool(s4 & 0x0C),
        feed_button=bool(s1 & 0x40) or bool(s2 & 0x08),
        error=bool(s2 & 0x40) or recoverable or cutter or unrecoverable or auto,
        recoverable_error=recoverable,
        cutter_error=cutter,
        unrecoverable_error=unrecoverable,
        auto_recoverable_error=auto,
        raw=tuple(sorted(replies.items())),
    )


def encode(*, offline: bool = False, cover_open: bool = False, paper_out: bool = False,
           paper_near_end: bool = False, error: bool = False) -> dict[int, int]:
    """The status bytes a printer in this state answers (used by the simulator). A printer with
    the cover open, out of paper or in error is offline too, as real ones are."""
    off = offline or cover_open or paper_out or error
    return {
        PRINTER: OK_BYTE | (0x08 if off else 0),
        OFFLINE_CAUSE: OK_BYTE | (0x04 if cover_open else 0) | (0x20 if paper_out else 0)
        | (0x40 if error else 0),
        ERROR_CAUSE: OK_BYTE | (0x20 if error else 0),
        ROLL_PAPER: OK_BYTE | (0x60 if paper_out else 0) | (0x0C if paper_near_end else 0),
    }
