"""Printed text: GBK bytes, widths in columns and dots, and lines wrapped to the paper.

A character GBK lacks (emoji, rare CJK extension B characters) is printed as SUBSTITUTE, "□"
(U+25A1, GBK A1 F5), so a missing glyph is visible on paper instead of crashing the kiosk.

Every line is wrapped here to the paper, never by the printer (which breaks wherever the line
is full, in the middle of a word). Widths are counted in dots: font A's characters are 12 dots
wide, font B's (the small English lines) 9, a GBK double-byte (Chinese) character 24 in either
font, all times the GS ! width multiplier in force; 58 mm paper has 384 dots (32 font A
columns, 42 font B), 80 mm 576 (48, 64). English breaks between words, Chinese between any
two characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

SUBSTITUTE = "□"  # printed for any character the GBK font lacks
FONT_A_DOTS, FONT_B_DOTS = 12, 9  # a single-byte character's width
WIDE_DOTS = 24  # a double-byte (Chinese) character's width, in font A and font B alike


def encode(text: str) -> bytes:
    """GBK bytes of `text`; characters GBK lacks become SUBSTITUTE."""
    try:
        return text.encode("gbk")
    except UnicodeEncodeError:
        sub = SUBSTITUTE.encode("gbk")
        return b"".join(_encode_char(ch, sub) for ch in text)


def _encode_char(ch: str, sub: bytes) -> bytes:
    try:
        return ch.encode("gbk")
    except UnicodeEncodeError:
        return sub


def width(text: str) -> int:
    """Printed width in font A columns: 1 per single-byte, 2 per double-byte character."""
    return len(encode(text))


def dots(text: str, font_dots: int = FONT_A_DOTS, magnify: int = 1) -> int:
    """Printed width in dots: `font_dots` per single-byte character, WIDE_DOTS per double-byte
    one, times the GS ! width multiplier `magnify`."""
    wide = width(text) - len(text)  # each double-byte character adds one byte
    return ((len(text) - wide) * font_dots + wide * WIDE_DOTS) * magnify


# A line should not start with closing punctuation (simple kinsoku).
_NO_LINE_START = set("，。、；：？！）》」』】”’,.;:?!)%")


def wrap(text: str, columns: int, indent: int = 0, first_prefix: str = "",
         measure: Callable[[str], int] = width) -> list[str]:
    """Wrap `text` to `columns` as `measure` counts them (font A columns by default, CJK
    counted 2; the writer passes dots). `first_prefix` starts the first line, following lines
    are indented by `indent` spaces (a hanging indent for numbered lists). ASCII words are
    kept whole when they fit on a line; CJK breaks between any two characters."""
    text = " ".join(text.split())
    lines: list[str] = []
    line = first_prefix
    pad = " " * indent
    for token in _tokens(text):
        if measure(line) + measure(token) <= columns:
            line += token
            continue
        if token == " ":
            lines.append(line.rstrip())
            line = pad
            continue
        if line.strip() and measure(pad + token) <= columns:
            # move a closing punctuation mark together with the character before it
            if token[0] in _NO_LINE_START and len(line.rstrip()) > len(pad) + 1 and \
                    measure(pad + line[-1] + token) <= columns:
                carried, line = line[-1] + token, line[:-1]
            else:
                carried = token
            lines.append(line.rstrip())
            line = pad + carried
            continue
        for ch in token:  # a word longer than a line: hard break
            if measure(line) + measure(ch) > columns:
                lines.append(line.rstrip())
                line = pad
            line += ch
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> Iterable[str]:
    """Spaces, runs of ASCII word characters, and single other characters."""
    word = ""
    for ch in text:
        if ch != " " and ord(ch) < 0x80 and unicodedata.category(ch)[0] in "LN":
            word += ch
            continue
        if word:
            yield word
            word = ""
        yield ch
    if word:
        yield word
