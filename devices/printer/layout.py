"""Bytes of a queue ticket and a 承诺单 (commitment slip) for 58 mm and 80 mm ESC/POS printers.

Chinese is handled here, not by python-escpos: escpos only sends GB18030 when a string holds a
U+4E00-U+9FA5 character and otherwise guesses a single-byte code page, so "：（）" and full-width
digits come out as "?" and `ESC t` may switch code pages mid-ticket. Instead every job starts with
`ESC @` (reset) and `FS &` (enter Chinese mode), and all text is encoded as GBK (text.py) and
written with `_raw`. The printer object is still python-escpos (`Dummy`, which collects the job's
bytes for the driver to send): it supplies the profile and renders the QR image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import qrcode
from escpos.escpos import Escpos
from escpos.printer import Dummy

from devices.printer.commands import (
    ALIGN,
    BOLD_OFF,
    BOLD_ON,
    CHINESE_ON,
    CUT_FULL,
    FONT_A,
    FONT_B,
    INIT,
    LF,
    code128,
    feed,
    size,
)
from devices.printer.text import FONT_A_DOTS, FONT_B_DOTS, SUBSTITUTE, dots, encode, width, wrap
from devices.printer.wording import SlipWording, TicketWording
from devices.words import fill as _fill

# The documents and their bytes, and the measures and commands a layout is made of.
__all__ = [
    "CUT_FULL", "FONT_A_DOTS", "FONT_B_DOTS", "PAPERS", "PAPER_58", "PAPER_80", "SUBSTITUTE",
    "CommitmentSlip", "Paper", "SlipWording", "Ticket", "TicketWording", "check_profile", "dots",
    "encode", "new_printer", "paper", "slip_bytes", "ticket_bytes", "width", "wrap", "write_slip",
    "write_ticket",
]


@dataclass(frozen=True)
class Paper:
    """One paper/printer profile."""

    name: str
    escpos_profile: str  # python-escpos profile: supplies the media width for image centring
    dots: int  # printable width in dots
    columns: int  # font A columns (12 dots each)
    cutter: bool
    number_size: int  # GS ! multiplier for the ticket number
    qr_box: int  # dots per QR module
    feed_lines: int = 4


PAPER_58 = Paper("58mm", "ZJ-5870", dots=384, columns=32, cutter=False, number_size=3, qr_box=5)
PAPER_80 = Paper("80mm", "NT-80-V-UL", dots=576, columns=48, cutter=True, number_size=4,
                 qr_box=6)
PAPERS = {p.name: p for p in (PAPER_58, PAPER_80)}


def paper(name_or_paper: str | Paper) -> Paper:
    if isinstance(name_or_paper, Paper):
        return name_or_paper
    try:
        return PAPERS[name_or_paper]
    except KeyError:
        raise ValueError(f"unknown paper {name_or_paper!r}: one of {sorted(PAPERS)}") from None


# --- documents ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ticket:
    ticket_id: str  # encoded in the QR code (ASCII)
    number: str  # "A012"
    center_name: str  # the hall's name
    item: str  # service item
    windows: Sequence[str]  # the windows' names, as the hub says them
    ahead: int  # people waiting before this ticket
    issued_at: datetime
    center_name_en: str = ""
    materials: Sequence[str] = ()  # 一次性告知 checklist; empty: not printed
    item_en: str = ""  # English, printed small under the Chinese (empty: no English block)
    windows_en: str = ""  # "Windows 3, 5"
    wording: TicketWording = field(default_factory=TicketWording)
    # The ticket's page on the citizen's phone: what the QR holds (else the ticket id).
    link: str = ""
    elderly: bool = False  # an elderly citizen's priority ticket: 适老优先 under the number


@dataclass(frozen=True)
class CommitmentSlip:
    slip_no: str  # ASCII, printed as CODE128 and as text
    center_name: str
    item: str
    accepted_at: datetime
    promised_date: date
    promised: Sequence[str] = field(default_factory=tuple)  # what is promised (承诺事项)
    item_en: str = ""  # English, printed small under the Chinese (empty: no English block)
    wording: SlipWording = field(default_factory=SlipWording)
    link: str = ""  # the slip's page on the citizen's phone, printed as a QR; "": none


class _Writer:
    """Raw ESC/POS writer over a python-escpos printer; all text goes through `encode`, and
    every line is wrapped to the paper in the font and size in force."""

    def __init__(self, printer: Escpos, paper: Paper) -> None:
        self.p, self.paper = printer, paper
        self.font_dots, self.magnify = FONT_A_DOTS, 1

    def raw(self, data: bytes) -> None:
        self.p._raw(data)

    def measure(self, text: str) -> int:
        return dots(text, self.font_dots, self.magnify)

    def small(self, on: bool) -> None:
        """Font B (on) or font A."""
        self.raw(FONT_B if on else FONT_A)
        self.font_dots = FONT_B_DOTS if on else FONT_A_DOTS

    def size(self, magnify: int) -> None:
        """GS ! at `magnify` times width and height."""
        self.raw(size(magnify, magnify))
        self.magnify = magnify

    def line(self, text: str = "") -> None:
        """One line, wrapped if it does not fit (a line that fits is printed as it is)."""
        if self.measure(text) <= self.paper.dots:
            self.raw(encode(text) + LF)
        else:
            self.wrapped(text)

    def rule(self, ch: str = "-") -> None:
        self.line(ch * (self.paper.dots // self.measure(ch)))

    def wrapped(self, text: str, **kw: object) -> None:
        for ln in wrap(text, self.paper.dots, measure=self.measure, **kw):  # type: ignore[arg-type]
            self.raw(encode(ln) + LF)

    def english(self, *lines: str) -> None:
        """Small font-B lines: English second, under the Chinese (GBK encodes ASCII as is)."""
        self.small(True)
        for text in lines:
            self.wrapped(text)
        self.small(False)

    def pair(self, label: str, value: str) -> None:
        """'label：value', value wrapped under itself."""
        prefix = f"{label}："
        self.wrapped(value, indent=width(prefix), first_prefix=prefix)

    def start(self) -> None:
        self.raw(INIT + CHINESE_ON)
        self.font_dots, self.magnify = FONT_A_DOTS, 1  # what ESC @ restores

    def end(self) -> None:
        self.raw(ALIGN["left"])
        self.size(1)
        self.raw(BOLD_OFF)
        if self.paper.cutter:
            self.raw(feed(2) + CUT_FULL)
        else:  # no cutter: feed the ticket past the tear bar
            self.raw(feed(self.paper.feed_lines))

    def qr(self, content: str) -> None:
        code = qrcode.QRCode(box_size=self.paper.qr_box, border=2,
                             error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(content)
        code.make(fit=True)
        img = code.make_image().get_image().convert("RGB")
        if img.width > self.paper.dots:
            raise ValueError(f"QR code {img.width} dots wide does not fit {self.paper.dots}")
        self.raw(ALIGN["left"])  # the image is centred by padding it to the paper width
        self.p.image(img, impl="bitImageRaster", center=True)


def new_printer(paper_: str | Paper) -> Dummy:
    """A Dummy printer with the paper's escpos profile (its `output` is the job)."""
    pp = paper(paper_)
    printer = Dummy(profile=pp.escpos_profile)
    check_profile(printer, pp)
    return printer


def check_profile(printer: Escpos, paper_: Paper) -> None:
    """The escpos profile must know the paper width, or the QR code is not centred."""
    pixels = printer.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    if str(pixels) != str(paper_.dots):
        raise ValueError(f"escpos profile {printer.profile.profile_data.get('name')!r} is "
                         f"{pixels} dots wide, paper {paper_.name} needs {paper_.dots}")


def write_ticket(printer: Escpos, t: Ticket, paper_: str | Paper) -> None:
    pp = paper(paper_)
    check_profile(printer, pp)
    w = _Writer(printer, pp)
    w.start()
    w.raw(ALIGN["center"] + BOLD_ON)
    w.wrapped(t.center_name)
    w.raw(BOLD_OFF)
    if t.center_name_en:
        w.english(t.center_name_en)
    words = t.wording
    w.rule()
    w.line(words.your_number)
    n = pp.number_size
    while n > 1 and dots(t.number, FONT_A_DOTS, n) > pp.dots:
        n -= 1
    w.size(n)
    w.raw(BOLD_ON)
    w.line(t.number)
    w.size(1)
    if t.elderly:  # still bold and centred, under the number
        w.line(words.elderly)
        if t.item_en:
            w.english(words.elderly_en)
    w.raw(BOLD_OFF + ALIGN["left"])
    w.line()
    w.pair(words.item, t.item)
    w.pair(words.windows, words.windows_sep.join(t.windows) if t.windows else words.no_windows)
    w.pair(words.ahead, _fill(words.ahead_count, ahead=t.ahead))
    w.pair(words.issued_at, t.issued_at.strftime("%Y-%m-%d %H:%M:%S"))
    if t.item_en:
        w.english(_fill(words.number_en, number=t.number, item=t.item_en),
                  _fill(words.go_en, windows=t.windows_en or words.no_windows_en, ahead=t.ahead))
    w.raw(ALIGN["center"])
    w.wrapped(words.hint)
    if t.item_en:
        w.english(words.hint_en)
    w.qr(t.link or t.ticket_id)
    w.raw(ALIGN["center"])
    w.line(t.ticket_id)
    if t.materials:
        w.raw(ALIGN["left"])
        w.rule()
        w.raw(BOLD_ON)
        w.line(words.materials)
        w.raw(BOLD_OFF)
        for i, item in enumerate(t.materials, 1):
            prefix = f"{i}. "
            w.wrapped(item, indent=width(prefix), first_prefix=prefix)
    w.end()


def write_slip(printer: Escpos, s: CommitmentSlip, paper_: str | Paper) -> None:
    pp = paper(paper_)
    check_profile(printer, pp)
    if not s.slip_no.isascii() or not s.slip_no.isprintable() or not 1 <= len(s.slip_no) <= 40:
        raise ValueError("slip number must be 1-40 printable ASCII characters (CODE128 B)")
    words = s.wording
    w = _Writer(printer, pp)
    w.start()
    w.raw(ALIGN["center"] + BOLD_ON)
    w.wrapped(s.center_name)
    w.size(2)
    w.line(words.title)
    w.size(1)
    w.raw(BOLD_OFF)
    w.rule()
    w.raw(code128(s.slip_no, module=2 if pp.dots < 576 else 3))
    w.line(_fill(words.slip_no, slip_no=s.slip_no))
    w.raw(ALIGN["left"])
    w.pair(words.item, s.item)
    w.pair(words.accepted_at, s.accepted_at.strftime("%Y-%m-%d %H:%M"))
    w.raw(BOLD_ON)
    d = s.promised_date
    w.pair(words.promised, _fill(words.promised_date, year=d.year, month=f"{d.month:02d}",
                                 day=f"{d.day:02d}"))
    w.raw(BOLD_OFF)
    if s.promised:
        w.line(words.promised_items)
        for i, item in enumerate(s.promised, 1):
            prefix = f"{i}. "
            w.wrapped(item, indent=width(prefix), first_prefix=prefix)
    w.rule()
    if s.link:
        w.raw(ALIGN["center"])
        w.qr(s.link)
        w.raw(ALIGN["left"])
    w.wrapped(words.query_hint)
    if s.item_en:
        w.english(_fill(words.slip_en, slip_no=s.slip_no, item=s.item_en),
                  _fill(words.promised_en, date=d.isoformat()), words.query_hint_en)
    w.end()


def ticket_bytes(t: Ticket, paper_: str | Paper = "80mm") -> bytes:
    printer = new_printer(paper_)
    write_ticket(printer, t, paper_)
    return printer.output


def slip_bytes(s: CommitmentSlip, paper_: str | Paper = "80mm") -> bytes:
    printer = new_printer(paper_)
    write_slip(printer, s, paper_)
    return printer.output
