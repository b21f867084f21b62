"""The SAM frame protocol of second-generation ID card readers (GA 467-2013), the subset a
ticket kiosk needs: find the card, select it, read its text. Pure: bytes in, frames out.

Every frame, both ways, is

    AA AA AA 96 69 | LEN_HI LEN_LO | BODY ... | CHK

LEN (big endian) counts the bytes after it, the checksum included; CHK is the XOR of the LEN
bytes and the body. A command's body is CMD PARA [DATA]; an answer's is SW1 SW2 SW3 [DATA],
where SW1 SW2 are 00 00 and SW3 says what happened (`Status`). Read text answers with
the text's length, the photo's length, the 256-byte text block, then the photo. The photo
(and the fingerprint, which another command reads) is never decoded nor kept here: its bytes are
skipped, and only the text block's fields are returned. docs/devices.md has every byte.

`FrameDecoder` takes bytes in any pieces and resynchronises on garbage: a candidate frame whose
checksum fails gives up only its first byte, so a real frame inside noise is still found.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from devices.errors import ProtocolError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2  # preamble and LEN
MIN_LEN = 3  # a command's CMD PARA CHK (an answer's is 4: SW1 SW2 SW3 CHK)
# The longest answer a desktop reader sends is read text + photo + fingerprint (LEN 0x0D0A);
# anything longer is noise that claims to be a frame header.
MAX_LEN = 0x0E00

TEXT_LEN = 256
PHOTO_LEN = 1024  # what a real reader sends after the text (the photo, compressed): skipped
LONG_TERM = "长期"  # valid until: no end date


class Command(enum.Enum):
    """CMD and PARA of the commands the kiosk sends."""

    FIND = (0x20, 0x01)  # 寻找证/卡
    SELECT = (0x20, 0x02)  # 选取证/卡
    READ_TEXT = (0x30, 0x01)  # 读固定信息 (text and photo; the photo is skipped)


class Status(enum.IntEnum):
    """SW3 of an answer (GA 467-2013 table of return codes; SW1 SW2 are 00 00)."""

    OK = 0x90  # 操作成功
    NO_CONTENT = 0x91  # 没有内容
    FOUND = 0x9F  # 寻找证/卡成功
    CHECKSUM_ERROR = 0x10  # the reader got a command with a bad checksum
    LENGTH_ERROR = 0x11  # ... with a bad length
    COMMAND_ERROR = 0x21  # ... it does not accept (values, sequence)
    NOT_ALLOWED = 0x23  # 越权操作
    UNKNOWN_ERROR = 0x24  # 无法识别的错误
    CARD_AUTH_FAILED = 0x31  # the card did not authenticate the reader
    READER_AUTH_FAILED = 0x32  # the reader did not authenticate the card
    VERIFY_FAILED = 0x33  # 信息验证错误
    UNKNOWN_CARD = 0x40  # 无法识别的证/卡类型
    READ_FAILED = 0x41  # 读证/卡操作失败
    RANDOM_FAILED = 0x47  # 取随机数失败
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80  # 寻找证/卡失败
    SELECT_FAILED = 0x81  # 选取证/卡失败


# --- frames ---------------------------------------------------------------------------------------


def checksum(data: bytes | bytearray) -> int:
    """XOR of `data` (the LEN bytes and the body)."""
    chk = 0
    for byte in data:
        chk ^= byte
    return chk


def frame(body: bytes) -> bytes:
    """A whole frame around `body` (a command's CMD PARA DATA, an answer's SW1 SW2 SW3 DATA)."""
    size = len(body) + 1
    if size > 0xFFFF:
        raise ValueError(f"frame body of {len(body)} bytes is too long")
    head = size.to_bytes(2, "big") + body
    return PREAMBLE + head + bytes((checksum(head),))


def command(cmd: Command, data: bytes = b"") -> bytes:
    return frame(bytes(cmd.value) + data)


def answer(status: int, data: bytes = b"") -> bytes:
    return frame(bytes((0, 0, status)) + data)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # SW3
    data: bytes = field(repr=False)  # may hold the card's text: never in a log

    @property
    def name(self) -> str:
        try:
            return Status(self.status).name.lower()
        except ValueError:
            return f"status {self.status:#04x}"


def parse_answer(body: bytes) -> Answer:
    """An answer's body (what `FrameDecoder` returns) as status and data."""
    if len(body) < 3:
        raise ProtocolError(f"answer of {len(body)} bytes has no status")
    if body[0] or body[1]:
        raise ProtocolError(f"answer status {body[:3].hex(' ')}: SW1 SW2 are not 00 00")
    return Answer(body[2], bytes(body[3:]))


def parse_command(body: bytes) -> tuple[int, int, bytes]:
    """A command's body as (CMD, PARA, DATA): what the simulator reads."""
    if len(body) < 2:
        raise ProtocolError(f"command of {len(body)} bytes has no CMD PARA")
    return body[0], body[1], bytes(body[2:])


class FrameDecoder:
    """Bytes in any pieces -> the bodies of the complete, checksum-valid frames in them.

    Garbage is skipped up to the next preamble. A header whose LEN is impossible, or a frame
    whose checksum fails, is dropped by its first byte only, and the search goes on from the
    next: a preamble that noise happened to contain never swallows a real frame behind it.
    """

    def __init__(self, max_len: int = MAX_LEN) -> None:
        self.max_len = max_len
        self.discarded = 0  # bytes skipped as garbage, for statistics
        self.bad_frames = 0  # candidate frames dropped for their checksum or length
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        bodies: list[bytes] = []
        while (body := self._next()) is not None:
            bodies.append(body)
        return bodies

    def _next(self) -> bytes | None:
        """The next frame's body, or None when more bytes are needed."""
        while True:
            if not self._to_preamble():
                return None
            if len(self._buf) < HEADER_LEN:
                return None
            size = int.from_bytes(self._buf[5:7], "big")
            if not MIN_LEN <= size <= self.max_len:
                self._skip_one()
                continue
            end = HEADER_LEN + size
            if len(self._buf) < end:
                return None
            if checksum(self._buf[5:end - 1]) != self._buf[end - 1]:
                self._skip_one()
                continue
            body = bytes(self._buf[HEADER_LEN:end - 1])
            del self._buf[:end]
            return body

    def _to_preamble(self) -> bool:
        """Drop what comes before the next preamble (keeping a tail that may begin one)."""
        at = self._buf.find(PREAMBLE)
        if at < 0:
            keep = _partial_preamble(self._buf)
            self._drop(len(self._buf) - keep)
            return False
        self._drop(at)
        return True

    def _skip_one(self) -> None:
        self.bad_frames += 1
        self._drop(1)

    def _drop(self, n: int) -> None:
        if n > 0:
            self.discarded += n
            del self._buf[:n]


def _partial_preamble(buf: bytearray) -> int:
    """How many bytes at the end of `buf` could be the start of a preamble."""
    for n in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf.endswith(PREAMBLE[:n]):
            return n
    return 0


# --- the text block ----------------------------------------------------------------------------


# (name, bytes) in the order of the 256-byte block; every field UCS-2LE, padded with spaces.
TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex", 2),
    ("ethnicity", 4),
    ("birth", 16),
    ("address", 70),
    ("number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_until", 16),
    ("reserved", 36),
)
OFFSETS: dict[str, tuple[int, int]] = {}
_at = 0
for _name, _size in TEXT_FIELDS:
    OFFSETS[_name] = (_at, _size)
    _at += _size
assert _at == TEXT_LEN
del _at, _name, _size

SEXES = {"0": "unknown", "1": "male", "2": "female", "9": "unspecified"}  # GB/T 2261.1


@dataclass(frozen=True, slots=True)
class CardText:
    """The fixed fields of a card's text block. Personal data: `repr` hides every value, so a
    log line or a traceback that shows the object shows nothing of the person."""

    name: str = field(repr=False)
    sex: str = field(repr=False)  # GB/T 2261.1 code: "1" male, "2" female
    ethnicity: str = field(repr=False)  # GB 3304 code, "01" = 汉
    birth: dt.date = field(repr=False)
    address: str = field(repr=False)
    number: str = field(repr=False)  # 18 characters, digits and a final X
    authority: str = field(repr=False)
    valid_from: dt.date | None = field(repr=False)
    valid_until: dt.date | None = field(repr=False)  # None: 长期 (no end)


def decode_text(block: bytes) -> CardText:
    """The text block's fields. ProtocolError if it is not a card's (wrong size, not UCS-2,
    a date or the number malformed): the driver reports such a card as unreadable."""
    if len(block) != TEXT_LEN:
        raise ProtocolError(f"text block of {len(block)} bytes, not {TEXT_LEN}")
    f = {name: _field(block, name) for name, _ in TEXT_FIELDS}
    number = f["number"].upper()
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit()
                                                              or number[17] == "X"):
        raise ProtocolError("the number field is not 17 digits and a check character")
    until = None if f["valid_until"] == LONG_TERM else _date(f["valid_until"], "valid until")
    return CardText(name=f["name"], sex=f["sex"], ethnicity=f["ethnicity"],
                    birth=_date(f["birth"], "birth"), address=f["address"], number=number,
                    authority=f["authority"],
                    valid_from=_date(f["valid_from"], "valid from") if f["valid_from"] else None,
                    valid_until=until)


def encode_text(card: CardText) -> bytes:
    """The block a reader sends for `card` (the simulator's side, and the tests' golden data)."""
    values = {
        "name": card.name, "sex": card.sex, "ethnicity": card.ethnicity,
        "birth": card.birth.strftime("%Y%m%d"), "address": card.address,
        "number": card.number, "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d") if card.valid_from else "",
        "valid_until": card.valid_until.strftime("%Y%m%d") if card.valid_until else LONG_TERM,
        "reserved": "",
    }
    out = bytearray()
    for name, size in TEXT_FIELDS:
        raw = values[name].encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{name} is longer than its {size} bytes")
        out += raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)
    return bytes(out)


def read_text_data(block: bytes, photo: bytes = b"") -> bytes:
    """The data of a read text answer: text length, photo length (2 bytes each, big endian),
    the text block, the photo."""
    return len(block).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + block + photo


def text_of_answer(data: bytes) -> bytes:
    """The text block out of a read text answer's data; the photo after it is not looked at."""
    if len(data) < 4:
        raise ProtocolError(f"read text answer of {len(data)} bytes has no lengths")
    text_len = int.from_bytes(data[:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_LEN or len(data) != 4 + text_len + photo_len:
        raise ProtocolError(f"read text answer: text {text_len} and photo {photo_len} bytes "
                            f"do not match its {len(data) - 4} bytes")
    return data[4:4 + text_len]


def _field(block: bytes, name: str) -> str:
    start, size = OFFSETS[name]
    try:
        text = block[start:start + size].decode("utf-16-le")
    except UnicodeDecodeError as err:
        raise ProtocolError(f"{name} is not UCS-2") from err
    return text.replace("\x00", " ").strip()


def _date(text: str, what: str) -> dt.date:
    # Not chained to the ValueError: its message would carry the date itself into a traceback.
    if len(text) == 8 and text.isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    raise ProtocolError(f"{what} is not a date YYYYMMDD")
