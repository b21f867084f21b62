"""A USB barcode/QR scanner on the ticket kiosk, read through evdev.

A USB scanner is a HID keyboard: it "types" the code and presses Enter. Reading it as a keyboard
through the browser would let a scan land in whatever field has focus, so the kiosk agent opens
the scanner's own event device (`/dev/input/by-id/usb-…-event-kbd`, stable across re-enumeration
unlike `/dev/input/eventN`), grabs it (EVIOCGRAB: the keystrokes reach no other reader, not X nor
the browser) and turns key events back into text itself.

All the logic is in `ScanDecoder`, which does no I/O and is tested with real `evdev.InputEvent`
objects; `ScannerReader` only opens, grabs, waits with `select` and reopens after an unplug.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable, Iterable

import evdev
from evdev import ecodes

log = logging.getLogger(__name__)

GAP_S = 0.5  # a scanner types a whole code in a few ms per key; a longer pause is a stale half
MAX_LEN = 512  # a ticket QR holds well under 200 characters; more is noise or a stuck key
POLL_S = 0.2  # select timeout: how soon `stop` is noticed while the scanner is silent
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 5.0

KEY_DOWN, KEY_UP, KEY_REPEAT = 1, 0, 2  # EV_KEY values

DEFAULT_TERMINATORS: frozenset[int] = frozenset(
    {ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB})

SHIFT_KEYS: frozenset[int] = frozenset({ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT})


def _letters() -> dict[int, tuple[str, str]]:
    return {getattr(ecodes, f"KEY_{c}"): (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


# Key code -> (plain, shifted) on a US layout, the layout scanners ship configured for.
# Letters are kept apart because CapsLock swaps their case and nothing else.
LETTERS: dict[int, tuple[str, str]] = _letters()
SYMBOLS: dict[int, tuple[str, str]] = {
    ecodes.KEY_1: ("1", "!"),
    ecodes.KEY_2: ("2", "@"),
    ecodes.KEY_3: ("3", "#"),
    ecodes.KEY_4: ("4", "$"),
    ecodes.KEY_5: ("5", "%"),
    ecodes.KEY_6: ("6", "^"),
    ecodes.KEY_7: ("7", "&"),
    ecodes.KEY_8: ("8", "*"),
    ecodes.KEY_9: ("9", "("),
    ecodes.KEY_0: ("0", ")"),
    ecodes.KEY_MINUS: ("-", "_"),
    ecodes.KEY_EQUAL: ("=", "+"),
    ecodes.KEY_LEFTBRACE: ("[", "{"),
    ecodes.KEY_RIGHTBRACE: ("]", "}"),
    ecodes.KEY_SEMICOLON: (";", ":"),
    ecodes.KEY_APOSTROPHE: ("'", '"'),
    ecodes.KEY_GRAVE: ("`", "~"),
    ecodes.KEY_BACKSLASH: ("\\", "|"),
    ecodes.KEY_COMMA: (",", "<"),
    ecodes.KEY_DOT: (".", ">"),
    ecodes.KEY_SLASH: ("/", "?"),
    ecodes.KEY_SPACE: (" ", " "),
}
# Keypad keys ignore shift here: scanners use them with NumLock semantics for digits only.
KEYPAD: dict[int, str] = {
    ecodes.KEY_KP0: "0",
    ecodes.KEY_KP1: "1",
    ecodes.KEY_KP2: "2",
    ecodes.KEY_KP3: "3",
    ecodes.KEY_KP4: "4",
    ecodes.KEY_KP5: "5",
    ecodes.KEY_KP6: "6",
    ecodes.KEY_KP7: "7",
    ecodes.KEY_KP8: "8",
    ecodes.KEY_KP9: "9",
    ecodes.KEY_KPMINUS: "-",
    ecodes.KEY_KPPLUS: "+",
    ecodes.KEY_KPASTERISK: "*",
    ecodes.KEY_KPSLASH: "/",
    ecodes.KEY_KPDOT: ".",
}


def key_name(code: int) -> str:
    """A readable name for the logs. `ecodes.KEY[code]` is a tuple for codes with aliases
    (113 is both KEY_MIN_INTERESTING and KEY_MUTE), so take the last, most specific one."""
    name = ecodes.KEY.get(code) or ecodes.BTN.get(code)
    if isinstance(name, tuple | list):
        name = name[-1]
    return name or f"key {code}"


class ScanDecoder:
    """Key events from a scanner back into the text it scanned. No I/O: feed it events.

    Only key-downs type: a scanner sends down/up pairs and key-up would double every character;
    autorepeat (value 2) comes from a key "held" by a slow scanner and would too. Shift is
    tracked from its own downs and ups. A scan ends on one of `terminators`; a partial scan
    whose last keystroke is more than `gap_s` older (by the events' own kernel timestamps, so a
    late read does not matter) is dropped when the next key arrives, so a half-read code never
    prefixes the next one.
    """

    def __init__(self, *, gap_s: float = GAP_S, max_len: int = MAX_LEN,
                 terminators: Iterable[int] = DEFAULT_TERMINATORS) -> None:
        self.gap_s, self.max_len = gap_s, max_len
        self.terminators = frozenset(terminators)
        self.unknown = 0  # key-downs that type nothing we know (F-keys, ctrl, ...)
        self.stale = 0  # partial scans dropped after a gap
        self.overlong = 0  # scans dropped for exceeding max_len
        self.reset()

    def reset(self) -> None:
        """Forget the partial scan and the modifier state, e.g. after reopening the device:
        the keys held (and CapsLock) on the old file descriptor mean nothing any more."""
        self._buf: list[str] = []
        self._shift: set[int] = set()
        self._caps = False
        self._last_ts: float | None = None
        self._overflow = False  # past max_len: swallow keys until the terminator

    def feed(self, event: evdev.InputEvent) -> str | None:
        """Take one event; the scanned text when `event` finished a non-empty scan, else None."""
        if event.type == ecodes.EV_SYN and event.code == ecodes.SYN_DROPPED:
            # The kernel's buffer overflowed and events were lost: the partial scan has holes.
            if self._buf:
                log.warning("events dropped by the kernel: partial scan of %d characters lost",
                            len(self._buf))
            self._drop()
            self._shift.clear()
            return None
        if event.type != ecodes.EV_KEY:
            return None
        code, value = event.code, event.value
        if code in SHIFT_KEYS:
            if value == KEY_UP:
                self._shift.discard(code)
            else:
                self._shift.add(code)
            return None
        if value != KEY_DOWN:
            return None

        ts = event.timestamp()
        if self._last_ts is not None and ts - self._last_ts > self.gap_s \
                and (self._buf or self._overflow):
            self.stale += 1
            log.info("partial scan of %d characters dropped after %.2f s without keys",
                     len(self._buf), ts - self._last_ts)
            self._drop()
        self._last_ts = ts

        if code in self.terminators:
            return self._finish()
        if code == ecodes.KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        char = self._char(code)
        if char is None:
            self.unknown += 1
            log.debug("key %s ignored", key_name(code))
            return None
        if self._overflow:
            return None
        self._buf.append(char)
        if len(self._buf) > self.max_len:
            self.overlong += 1
            log.warning("scan longer than %d characters dropped", self.max_len)
            self._buf.clear()
            self._overflow = True
        return None

    def _char(self, code: int) -> str | None:
        shift = bool(self._shift)
        if code in LETTERS:
            return LETTERS[code][shift != self._caps]
        if code in SYMBOLS:
            return SYMBOLS[code][shift]
        return KEYPAD.get(code)

    def _finish(self) -> str | None:
        text = "".join(self._buf).strip()  # empty after an overflow: its keys were not kept
        self._drop()
        return text or None

    def _drop(self) -> None:
        self._buf.clear()
        self._overflow = False


class ScannerReader:
    """Reads one scanner until `stop`: open, grab, `select` with a short timeout, feed the
    decoder, hand each scan to `on_scan`. A missing or unplugged scanner (any OSError) is
    reported once through the log and `on_health("offline", why)`, then reopened with backoff
    (0.1 s doubling to 5 s); it never ends the loop, and neither does an exception in `on_scan`.
    """

    def __init__(self, path: str, on_scan: Callable[[str], None], *, grab: bool = True,
                 gap_s: float = GAP_S,
                 on_health: Callable[[str, str], None] | None = None,
                 terminators: Iterable[int] = DEFAULT_TERMINATORS,
                 backoff_initial_s: float = BACKOFF_INITIAL_S,
                 backoff_max_s: float = BACKOFF_MAX_S) -> None:
        self.path, self.on_scan, self.grab = path, on_scan, grab
        self.on_health = on_health
        self.decoder = ScanDecoder(gap_s=gap_s, terminators=terminators)
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.health: str | None = None  # "online" / "offline" once known
        self.open_failures = 0

    def run(self, stop: threading.Event) -> None:
        """Read until `stop` is set (noticed within POLL_S, or within the current backoff)."""
        delay = self.backoff_initial_s
        while not stop.is_set():
            try:
                device = self._open()
            except OSError as err:
                self.open_failures += 1
                self._set_health("offline", f"cannot open {self.path}: {err}")
                stop.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            delay = self.backoff_initial_s
            self._set_health("online", device.name)
            try:
                self._pump(device, stop)
            except OSError as err:  # ENODEV after an unplug
                self._set_health("offline", f"{self.path}: {err}")
            finally:
                try:
                    device.close()
                except OSError as err:
                    log.debug("%s: close failed: %s", self.path, err)

    def _open(self) -> evdev.InputDevice:
        device = evdev.InputDevice(self.path)
        try:
            if self.grab:
                device.grab()  # EBUSY if another process holds it: retried like a missing device
        except OSError:
            device.close()
            raise
        self.decoder.reset()
        return device

    def _pump(self, device: evdev.InputDevice, stop: threading.Event) -> None:
        while not stop.is_set():
            ready, _, _ = select.select([device.fd], [], [], POLL_S)
            if not ready:
                continue
            try:
                events = list(device.read())
            except BlockingIOError:  # woken but nothing to read (an OSError too: not an unplug)
                continue
            for event in events:
                text = self.decoder.feed(event)
                if text is not None:
                    self._deliver(text)

    def _deliver(self, text: str) -> None:
        try:
            self.on_scan(text)
        except Exception:
            log.exception("%s: scan handler failed for %r", self.path, text)

    def _set_health(self, state: str, detail: str) -> None:
        if state == self.health:
            log.debug("%s: still %s: %s", self.path, state, detail)
            return
        self.health = state
        if state == "online":
            log.info("%s: scanner online (%s)", self.path, detail)
        else:
            log.warning("%s: scanner offline: %s", self.path, detail)
        if self.on_health is not None:
            try:
                self.on_health(state, detail)
            except Exception:
                log.exception("%s: health callback failed", self.path)
