"""ID card readers that act as a USB keyboard: they type the card's number and press Enter.

Such a reader is read like the kiosk's barcode scanner (devices/scanner.py): its own event
device, grabbed so the number never lands in the browser, decoded by the scanner's
`ScanDecoder`. What it typed becomes a `CardRead` holding the number only (the hub takes the
birth date from the number's digits); anything else it typed is an unreadable card.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from devices.idcard.reader import UNREADABLE, CardRead
from devices.scanner import GAP_S, ScannerReader

log = logging.getLogger(__name__)

NUMBER = re.compile(r"\d{17}[\dX]")


def card_from_typed(text: str) -> CardRead:
    """What a keyboard reader typed, as a card read (an error for anything not a number)."""
    number = text.strip().upper()
    if NUMBER.fullmatch(number):
        return CardRead(number=number, source="keyboard")
    return CardRead(source="keyboard", error=UNREADABLE)


class IdKeyboardReader:
    """Reads one keyboard-type ID reader until `stop`, with the scanner's open, grab, reopen
    after an unplug and health reports; every number typed goes to `on_card`."""

    def __init__(self, path: str, on_card: Callable[[CardRead], Any], *, grab: bool = True,
                 gap_s: float = GAP_S,
                 on_health: Callable[[str, str], None] | None = None) -> None:
        self.on_card = on_card
        self.keys = ScannerReader(path, self._typed, grab=grab, gap_s=gap_s,
                                  on_health=on_health)

    def run(self, stop: threading.Event) -> None:
        self.keys.run(stop)

    def _typed(self, text: str) -> None:
        # Never raises: the scanner's reader would log the text it was handling, the number.
        read = card_from_typed(text)
        try:
            self.on_card(read)
        except Exception:
            log.exception("ID card handler failed (card not shown)")
