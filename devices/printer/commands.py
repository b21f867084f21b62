"""ESC/POS command bytes the layout writes (reset, Chinese mode, alignment, fonts, sizes, feed,
cut, CODE128)."""

from __future__ import annotations

ESC, FS, GS = b"\x1b", b"\x1c", b"\x1d"
INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
LF = b"\n"
ALIGN = {"left": ESC + b"a\x00", "center": ESC + b"a\x01", "right": ESC + b"a\x02"}
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
FONT_A, FONT_B = ESC + b"M\x00", ESC + b"M\x01"  # font B: 9x17, the small English line
CUT_FULL = GS + b"VA\x00"  # GS V 65 0: feed to the cutter, full cut


def size(width: int, height: int) -> bytes:
    """GS ! n: character size multipliers 1-8 (enlarges Chinese too, unlike ESC !)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("size multipliers are 1-8")
    return GS + b"!" + bytes(((width - 1) << 4 | (height - 1),))



def feed(lines: int) -> bytes:
    return ESC + b"d" + bytes((lines,))


def code128(data: str, *, module: int = 2, height: int = 80) -> bytes:
    """Printer-rendered CODE128 (GS k 73, code set B) with the text below (HRI off: the text
    is printed separately in Chinese mode)."""
    payload = b"{B" + data.encode("ascii")
    return (GS + b"h" + bytes((height,)) + GS + b"w" + bytes((module,)) + GS + b"H\x00"
            + GS + b"k" + bytes((73, len(payload))) + payload + LF)
