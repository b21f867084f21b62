"""Announcement texts for a call (pure: no I/O, no TTS).

A call "A001 to window 3" is announced as

    请 A 零 零 一 号 到 三 号窗口 办理          (hanzi form, for a voice that reads hanzi)
    qing3 A ling2 ling2 yi1 hao4 dao4 san1 hao4 chuang1 kou3 ban4 li3   (pinyin form)
    Number A 0 0 1, please go to window 3      (optional English)

The ticket number is read one character at a time (letters as letters, digits as 零一二…); the
window number is read as a number (12 -> 十二, 101 -> 一百零一).

Which form a Mandarin voice needs depends on the voice: espeak-ng 1.51's `cmn` voice reads the
tone digits of its own hanzi->pinyin rules in English ("hao four"), while
`sit/cmn-latn-pinyin` reads pinyin with tone numbers correctly. `form_for_voice` decides.

The sentences around the number and the window are the hub's (its catalogs, hub/locale:
`voice.*`), sent to the agent with its snapshot (`CallPhrases`); the defaults are the same
sentences, for a voice driven without a hub (tests/test_i18n.py keeps them equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from devices.words import fill

Form = Literal["hanzi", "pinyin"]

PINYIN_VOICE = "sit/cmn-latn-pinyin"
HANZI_VOICE = "sit/cmn"
ENGLISH_VOICE = "gmw/en"

_TICKET_RE = re.compile(r"^[A-Z0-9]{1,12}$")
MAX_WINDOW = 9999

DIGIT_HANZI = "零一二三四五六七八九"
DIGIT_PINYIN = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")

# Hanzi of a ticket number and a window number read aloud -> pinyin with tone numbers.
PINYIN = {
    **dict(zip(DIGIT_HANZI, DIGIT_PINYIN, strict=True)),
    "十": "shi2",
    "百": "bai3",
    "千": "qian1",
}

# How Chinese speakers name Latin letters, written as pinyin the pinyin voice reads (a bare
# "B" or "W" is not a pinyin syllable; espeak-ng would read "F" as "aif").
LETTER_PINYIN = {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai2 fu1",
    "G": "ji4", "H": "ai2 qi1", "I": "ai4", "J": "jie4", "K": "kai4", "L": "ai2 le5",
    "M": "ai2 mu5", "N": "en1", "O": "ou1", "P": "pi4", "Q": "qiu1", "R": "a4",
    "S": "ai2 si1", "T": "ti4", "U": "you1", "V": "wei1", "W": "da2 bu5 liu3",
    "X": "ai2 ke4 si1", "Y": "wai4", "Z": "zei4",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CallPhrases:
    """The sentences of a call: `{ticket}` and `{window}` are filled in as each form reads them
    (hanzi: "A 零 零 一" and "三"; pinyin: their syllables; English: "A 0 0 1" and "3")."""

    hanzi: str = "请 {ticket} 号 到 {window} 号窗口 办理"
    pinyin: str = "qing3 {ticket} hao4 dao4 {window} hao4 chuang1 kou3 ban4 li3"
    english: str = "Number {ticket}, please go to window {window}"
    display: str = "请{ticket}号到{window}号窗口办理"


PHRASES = CallPhrases()


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of an announcement, spoken with one voice."""

    voice: str
    text: str


def normalize_ticket(ticket: str) -> str:
    """Upper-case, strip; raise ValueError for anything but 1-12 letters/digits."""
    t = str(ticket).strip().upper()
    if not _TICKET_RE.match(t):
        raise ValueError(f"ticket number must be 1-12 letters/digits, got {ticket!r}")
    return t


def _window_number(window: int | str) -> int:
    try:
        n = int(str(window).strip())
    except ValueError:
        raise ValueError(f"window must be a number, got {window!r}") from None
    if not 1 <= n <= MAX_WINDOW:
        raise ValueError(f"window must be 1..{MAX_WINDOW}, got {window!r}")
    return n


def number_hanzi(n: int) -> str:
    """A number 0..9999 as Chinese numerals read naturally: 3 三, 10 十, 12 十二, 20 二十,
    101 一百零一, 110 一百一十, 1005 一千零五."""
    if not 0 <= n <= MAX_WINDOW:
        raise ValueError(f"number out of range: {n}")
    if n == 0:
        return "零"
    if 10 <= n < 20:  # 十, 十二 (not 一十二)
        return "十" + (DIGIT_HANZI[n % 10] if n % 10 else "")
    out: list[str] = []
    zero_pending = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(DIGIT_HANZI[d] + unit)
    return "".join(out)


def to_pinyin(hanzi: str) -> str:
    """Hanzi (a number read aloud) -> space-separated pinyin with tone numbers.
    Latin letters become letter names; spaces are dropped. KeyError on an unknown hanzi."""
    out: list[str] = []
    for ch in hanzi:
        if ch.isspace():
            continue
        if "A" <= ch <= "Z":
            out.append(LETTER_PINYIN[ch])
        else:
            out.append(PINYIN[ch])
    return " ".join(out)


def ticket_hanzi(ticket: str) -> str:
    """ "A001" -> "A 零 零 一" (one character at a time)."""
    return " ".join(DIGIT_HANZI[int(c)] if c.isdigit() else c for c in normalize_ticket(ticket))


def display_text(ticket: str, window: int | str, phrases: CallPhrases = PHRASES) -> str:
    """What a screen shows: "请A001号到3号窗口办理"."""
    return fill(phrases.display, ticket=normalize_ticket(ticket), window=_window_number(window))


def mandarin_text(ticket: str, window: int | str, form: Form = "hanzi",
                  phrases: CallPhrases = PHRASES) -> str:
    """The Mandarin sentence for TTS, in hanzi or pinyin-with-tone-numbers form."""
    number, at = ticket_hanzi(ticket), number_hanzi(_window_number(window))
    if form == "hanzi":
        return fill(phrases.hanzi, ticket=number, window=at)
    if form == "pinyin":
        return fill(phrases.pinyin, ticket=to_pinyin(number), window=to_pinyin(at))
    raise ValueError(f"unknown form {form!r}")


def english_text(ticket: str, window: int | str, phrases: CallPhrases = PHRASES) -> str:
    """ "Number A 0 0 1, please go to window 3"."""
    spelled = " ".join(normalize_ticket(ticket))
    return fill(phrases.english, ticket=spelled, window=_window_number(window))


def form_for_voice(voice: str) -> Form:
    """Pinyin for a "latin as pinyin" voice (sit/cmn-latn-pinyin), hanzi otherwise."""
    return "pinyin" if "pinyin" in voice.lower() else "hanzi"


def announcement(
    ticket: str,
    window: int | str,
    *,
    voice: str = PINYIN_VOICE,
    english: bool = False,
    english_voice: str = ENGLISH_VOICE,
    phrases: CallPhrases = PHRASES,
) -> list[Segment]:
    """The segments of one announcement: Mandarin in the form `voice` needs, then optionally
    English (its own voice: a Mandarin voice would read English badly)."""
    parts = [Segment(voice, mandarin_text(ticket, window, form_for_voice(voice), phrases))]
    if english:
        parts.append(Segment(english_voice, english_text(ticket, window, phrases)))
    return parts
