"""The register map of Onestop's RS-485 window devices (map version 1), pure.

docs/devices.md is the firmware engineer's copy of this file; the drivers and the simulators
both import these names, so the two ends cannot drift apart. Text helpers are here too: text
travels as GB2312 bytes, two per register, high byte first, padded with 0x00.

Why the map looks the way it does:
- Every kind answers the same 3-register poll (input 0x0000-0x0002: STATUS, BOOT_ID, CHANGE),
  so one cheap read per device per cycle is all a quiet bus carries: 8 bytes out, 11 back. At
  9600 baud that is 27 ms per device, 0.87 s for 32 devices; reading a 24-register key ring on
  every poll would triple it.
- CHANGE is the key count (keypads) or the CRC of the shown text (LED): the master reads the
  key ring or re-sends the text only when it moved.
- BOOT_ID changes at every power-up, so a restarted device is recognised even when its key
  count happens to land on the value the master last saw.
"""

from __future__ import annotations

from enum import IntEnum

from devices.modbus import crc16

# Part of the map: the rating keypad's level keys are the national 好差评 scale's values, in its
# order. The hub's own enum, so a key and the level the hub stores have one name.
from hub.engine.model import RatingLevel  # noqa: F401

MAP_VERSION = 1

# --- input registers (function 04), every kind ------------------------------------------------
IR_STATUS = 0x0000
IR_BOOT_ID = 0x0001
IR_CHANGE = 0x0002  # keypads: KEY_SEQ; LED: TEXT_CRC
IR_KIND = 0x0003
IR_FIRMWARE = 0x0004  # major << 8 | minor
IR_MAP_VERSION = 0x0005
IR_FAULT_CODE = 0x0006
IR_ACTIVE_REQUEST = 0x0007  # rating keypad: the open window's REQUEST_ID, else 0
POLL_START, POLL_COUNT = IR_STATUS, 3
IDENTITY_START, IDENTITY_COUNT = IR_STATUS, 8

# STATUS bits
ST_READY = 1 << 0
ST_FAULT = 1 << 1
ST_WINDOW_OPEN = 1 << 2  # rating: a rating window is open
ST_AWAIT_REASON = 1 << 3  # rating: 4 or 5 pressed, waiting for a reason key
CAP_DISPLAY = 1 << 8  # has a text/number display
CAP_REASON_KEYS = 1 << 9  # rating: has reason keys

# --- key ring (input registers, keypads) ------------------------------------------------------
IR_RING = 0x0010
RING_SLOTS = 8
SLOT_REGS = 3  # EV_SEQ, EV_KEY (key << 8 | arg), EV_REF (rating: REQUEST_ID)
RING_COUNT = RING_SLOTS * SLOT_REGS
SEQ_MOD = 0x10000


def ring_slot(seq: int) -> int:
    """The slot an event with this sequence number is stored in (65536 is a multiple of 8,
    so the rule holds across the wrap)."""
    return seq % RING_SLOTS


# --- holding registers (03 / 06 / 16) ----------------------------------------------------------
HR_BASE = 0x0100

# rating keypad: one function-16 write of HR_RATING_BLOCK registers opens a window
HR_COMMAND = 0x0100
HR_REQUEST_ID = 0x0101
HR_TIMEOUT_S = 0x0102
HR_REASON_TIMEOUT_S = 0x0103
HR_CLERK_TEXT_LEN = 0x0104
HR_CLERK_TEXT = 0x0105
CLERK_TEXT_BYTES = 32
HR_RATING_END = HR_CLERK_TEXT + CLERK_TEXT_BYTES // 2  # one past the last
CMD_NONE, CMD_OPEN, CMD_CANCEL, CMD_THANKS = 0, 1, 2, 3
DEFAULT_TIMEOUT_S = 60
DEFAULT_REASON_TIMEOUT_S = 15
MAX_TIMEOUT_S = 600

# caller keypad display (CAP_DISPLAY)
HR_NUMBER = 0x0100
NUMBER_BYTES = 8
HR_WAITING = 0x0104
HR_CALLER_FLAGS = 0x0105
CALLER_FLAG_PAUSED = 1 << 0
WAITING_BLANK = 0xFFFF
HR_CALLER_END = 0x0106

# LED window display
HR_BRIGHTNESS = 0x0100  # 0-100 %
HR_EFFECT = 0x0101
HR_TEXT_LEN = 0x0102
HR_TEXT = 0x0103
LED_TEXT_BYTES = 64
HR_LED_END = HR_TEXT + LED_TEXT_BYTES // 2
EFFECT_STATIC, EFFECT_SCROLL, EFFECT_BLINK = 0, 1, 2


class DeviceKind(IntEnum):
    RATING = 1
    CALLER = 2
    LED = 3



class Reason(IntEnum):
    """Reason keys, in the order of the hall file's `rating.reasons` (code = index + 1)."""

    NONE = 0
    ATTITUDE = 1  # 服务态度
    EFFICIENCY = 2  # 办事效率
    INFORMING = 3  # 材料告知
    ENVIRONMENT = 4  # 环境设施
    SYSTEM = 5  # 系统故障
    OTHER = 6  # 其他


MAX_REASON = 15  # the map allows codes 1-15; the default keypad has 6


class CallerKey(IntEnum):
    CALL_NEXT = 1
    RECALL = 2
    SKIP = 3
    PAUSE = 4  # one key toggles pause and resume
    TRANSFER = 5
    FINISH = 6
    REQUEST_RATING = 7

    @property
    def hub_key(self) -> str:
        """The key name the hub's device desk takes ("call-next", ...)."""
        return self.name.lower().replace("_", "-")


# --- text --------------------------------------------------------------------------------------

TEXT_ENCODING = "gb2312"
SUBSTITUTE = "□"  # U+25A1, GB2312 A1F5: shown for a character the device font cannot have
_SUBSTITUTE_BYTES = SUBSTITUTE.encode(TEXT_ENCODING)


def encode_text(text: str, max_bytes: int) -> bytes:
    """GB2312 bytes of `text` for a device font: a character outside GB2312 (rare name
    characters such as 堃 or 喆, emoji) becomes □, a control character other than a newline
    becomes a space, and text longer than `max_bytes` is cut at a character boundary."""
    out = bytearray()
    for raw in text:
        ch = " " if raw != "\n" and (raw < " " or raw == "\x7f") else raw
        try:
            b = ch.encode(TEXT_ENCODING)
        except UnicodeEncodeError:
            b = _SUBSTITUTE_BYTES
        if len(out) + len(b) > max_bytes:
            break
        out += b
    return bytes(out)


def decode_text(data: bytes) -> str:
    return data.decode(TEXT_ENCODING, errors="replace")


def text_to_registers(data: bytes, nregs: int | None = None) -> list[int]:
    """Bytes to registers, two per register, high byte first, padded with 0x00."""
    if len(data) % 2:
        data += b"\x00"
    regs = [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]
    if nregs is not None:
        regs += [0] * (nregs - len(regs))
    return regs


def registers_to_bytes(regs: list[int] | tuple[int, ...], length: int | None = None) -> bytes:
    data = b"".join(bytes((r >> 8, r & 0xFF)) for r in regs)
    return data if length is None else data[:length]


def text_crc(data: bytes) -> int:
    """TEXT_CRC as the LED reports it: CRC-16/MODBUS of the shown bytes, as a plain number."""
    return crc16(data)
