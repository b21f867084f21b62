"""Driver for the LED window display (窗口屏) on the RS-485 bus.

The display shows up to 64 GB2312 bytes (32 hanzi). It reports TEXT_CRC, the CRC-16/MODBUS
of what it shows, in the poll block, so the master verifies every cycle that the screen says
what it was told, and writes the text again when it does not (a device restart, a lost write).
"""

from __future__ import annotations

import logging

from devices import regmap as rm
from devices.driver import BusDevice
from devices.events import Event
from devices.master import ModbusMaster

log = logging.getLogger(__name__)

MAX_RESENDS = 3  # a display whose CRC still differs after this many writes is reported faulty


class LedDisplay(BusDevice):
    kind = rm.DeviceKind.LED
    min_poll_interval_s = 1.0

    def __init__(self, master: ModbusMaster, address: int, *, name: str | None = None) -> None:
        super().__init__(master, address, name=name)
        self.text_bytes: bytes | None = None  # what the display should show, None: untouched
        self.effect = rm.EFFECT_STATIC
        self.brightness: int | None = None
        self.resends = 0

    @staticmethod
    def encode(text: str) -> bytes:
        """The bytes the display is sent: GB2312, □ for characters outside it, cut to 64."""
        return rm.encode_text(text, rm.LED_TEXT_BYTES)

    def show(self, text: str, effect: int = rm.EFFECT_STATIC) -> None:
        """Show `text` (one function-16 write: EFFECT, TEXT_LEN, TEXT). It is kept as the
        wanted text even if this write fails: the next polls write it until TEXT_CRC agrees."""
        data = self.encode(text)
        if len(data) < len(rm.encode_text(text, 4 * len(text))):
            log.warning("%s: text cut to %d bytes: %r", self.name, rm.LED_TEXT_BYTES, text)
        with self.lock:
            self.text_bytes, self.effect, self.resends = data, effect, 0
            self.health.faults.pop("text", None)
            self._send_text()

    def set_brightness(self, percent: int) -> None:
        with self.lock:
            self.brightness = max(0, min(int(percent), 100))
            self.master.write_register(self.address, rm.HR_BRIGHTNESS, self.brightness)

    @property
    def expected_crc(self) -> int | None:
        return None if self.text_bytes is None else rm.text_crc(self.text_bytes)

    def _send_text(self) -> None:
        assert self.text_bytes is not None
        regs = [self.effect, len(self.text_bytes), *rm.text_to_registers(self.text_bytes)]
        self.master.write_registers(self.address, rm.HR_EFFECT, regs)

    def _after_boot(self, first: bool, change: int) -> list[Event]:
        if not first and self.brightness is not None:
            self.master.write_register(self.address, rm.HR_BRIGHTNESS, self.brightness)
        return []

    def _on_change(self, status: int, change: int) -> list[Event]:
        expected = self.expected_crc
        if expected is None or change == expected:
            if expected is not None and self.resends:
                log.info("%s: text verified after %d re-sends", self.name, self.resends)
            self.resends = 0
            self.health.faults.pop("text", None)
            return []
        if self.resends >= MAX_RESENDS:
            self.health.faults["text"] = (f"shows text CRC {change:#06x}, expected "
                                          f"{expected:#06x} after {MAX_RESENDS} writes")
            return []
        self.resends += 1
        log.info("%s: text CRC %#06x, expected %#06x: writing it again", self.name, change,
                 expected)
        self._send_text()
        return []
