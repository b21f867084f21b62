"""The kiosk's USB barcode/QR scanner: real `evdev.InputEvent`s as a scanner sends them,
decoded back to text; and the reader's retry loop against a path that does not exist (this
machine has no /dev/uinput to fake a keyboard with)."""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator

import pytest
from evdev import InputEvent, ecodes

from devices import scanner
from devices.scanner import ScanDecoder, ScannerReader
from tests.devices.helpers import wait_until

T0 = 1_764_000_000.0  # an epoch second on the scan day; the decoder only uses differences
STEP_S = 0.004  # scanners type a key every few ms

# The US layout written out here, independently of the module's tables: key name, plain, shifted.
_US_KEYS = [
    ("KEY_1", "1", "!"), ("KEY_2", "2", "@"), ("KEY_3", "3", "#"), ("KEY_4", "4", "$"),
    ("KEY_5", "5", "%"), ("KEY_6", "6", "^"), ("KEY_7", "7", "&"), ("KEY_8", "8", "*"),
    ("KEY_9", "9", "("), ("KEY_0", "0", ")"), ("KEY_MINUS", "-", "_"), ("KEY_EQUAL", "=", "+"),
    ("KEY_LEFTBRACE", "[", "{"), ("KEY_RIGHTBRACE", "]", "}"), ("KEY_SEMICOLON", ";", ":"),
    ("KEY_APOSTROPHE", "'", '"'), ("KEY_GRAVE", "`", "~"), ("KEY_BACKSLASH", "\\", "|"),
    ("KEY_COMMA", ",", "<"), ("KEY_DOT", ".", ">"), ("KEY_SLASH", "/", "?"),
] + [(f"KEY_{c}", c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]

# char -> (key code, needs shift)
US: dict[str, tuple[int, bool]] = {" ": (ecodes.KEY_SPACE, False)}
for _name, _plain, _shifted in _US_KEYS:
    US[_plain] = (getattr(ecodes, _name), False)
    US[_shifted] = (getattr(ecodes, _name), True)


class Typist:
    """Turns text into the events a scanner sends: per key a down and an up, each followed by
    a SYN_REPORT, with left shift pressed around upper case and shifted symbols; timestamps
    advance by STEP_S per key."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def _at(self, type_: int, code: int, value: int) -> InputEvent:
        sec = int(self.t)
        return InputEvent(sec, round((self.t - sec) * 1_000_000), type_, code, value)

    def _report(self, code: int, value: int) -> list[InputEvent]:
        events = [
            self._at(ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code),  # HID usage, as real
            self._at(ecodes.EV_KEY, code, value),
            self._at(ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
        ]
        self.t += STEP_S / 2
        return events

    def key(self, code: int, *, shift: bool = False) -> list[InputEvent]:
        events: list[InputEvent] = []
        if shift:
            events += self._report(ecodes.KEY_LEFTSHIFT, 1)
        events += self._report(code, 1) + self._report(code, 0)
        if shift:
            events += self._report(ecodes.KEY_LEFTSHIFT, 0)
        return events

    def text(self, text: str) -> list[InputEvent]:
        events: list[InputEvent] = []
        for char in text:
            code, shift = US[char]
            events += self.key(code, shift=shift)
        return events

    def scan(self, text: str, terminator: int = ecodes.KEY_ENTER) -> list[InputEvent]:
        return self.text(text) + self.key(terminator)

    def pause(self, seconds: float) -> None:
        self.t += seconds


def feed_all(decoder: ScanDecoder, events: list[InputEvent]) -> list[str]:
    """Every scan the decoder completes; asserts results only come on the terminator's down."""
    out = []
    for event in events:
        result = decoder.feed(event)
        if result is not None:
            assert event.type == ecodes.EV_KEY and event.value == 1
            out.append(result)
    return out


@pytest.mark.parametrize("text", [
    "20261125-A012",
    "CN202611250001",
    "https://x.example/a?b=1&c=[2]",
    "MiXeD cAsE Zz",
    "lower-case_only",
    "a-=[];',./\\`z",
])
def test_round_trip(text: str) -> None:
    typist = Typist()
    assert feed_all(ScanDecoder(), typist.scan(text)) == [text]


def test_every_shifted_symbol_and_upper_case_letter() -> None:
    shifted = '!@#$%^&*()_+{}:"<>?|~'
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert feed_all(ScanDecoder(), Typist().scan(shifted + upper)) == [shifted + upper]


def test_every_plain_character() -> None:
    plain = "abcdefghijklmnopqrstuvwxyz0123456789-=[];',./\\`"
    assert feed_all(ScanDecoder(), Typist().scan(plain)) == [plain]


def test_right_shift_and_shift_held_across_keys() -> None:
    typist = Typist()
    events = (typist._report(ecodes.KEY_RIGHTSHIFT, 1) + typist.key(ecodes.KEY_A)
              + typist.key(ecodes.KEY_1) + typist._report(ecodes.KEY_RIGHTSHIFT, 0)
              + typist.key(ecodes.KEY_A) + typist.key(ecodes.KEY_ENTER))
    assert feed_all(ScanDecoder(), events) == ["A!a"]


def test_both_shifts_released_one_at_a_time() -> None:
    typist = Typist()
    events = (typist._report(ecodes.KEY_LEFTSHIFT, 1) + typist._report(ecodes.KEY_RIGHTSHIFT, 1)
              + typist._report(ecodes.KEY_LEFTSHIFT, 0) + typist.key(ecodes.KEY_B)
              + typist._report(ecodes.KEY_RIGHTSHIFT, 0) + typist.key(ecodes.KEY_B)
              + typist.key(ecodes.KEY_ENTER))
    assert feed_all(ScanDecoder(), events) == ["Bb"]


def test_keypad_digits_and_operators() -> None:
    typist = Typist()
    codes = [ecodes.KEY_KP2, ecodes.KEY_KP0, ecodes.KEY_KP1, ecodes.KEY_KP9, ecodes.KEY_KPMINUS,
             ecodes.KEY_KP3, ecodes.KEY_KP4, ecodes.KEY_KP5, ecodes.KEY_KP6, ecodes.KEY_KP7,
             ecodes.KEY_KP8, ecodes.KEY_KPDOT, ecodes.KEY_KPSLASH, ecodes.KEY_KPASTERISK,
             ecodes.KEY_KPPLUS]
    events = [e for code in codes for e in typist.key(code)] + typist.key(ecodes.KEY_KPENTER)
    assert feed_all(ScanDecoder(), events) == ["2019-345678./*+"]


def test_autorepeat_ignored() -> None:
    typist = Typist()
    events = typist.text("A1")
    # A scanner that "holds" the 1 long enough for the kernel to autorepeat it.
    events += [typist._at(ecodes.EV_KEY, ecodes.KEY_1, 2) for _ in range(3)]
    events += typist.scan("2")
    assert feed_all(ScanDecoder(), events) == ["A12"]


def test_key_up_alone_types_nothing() -> None:
    typist = Typist()
    ups = [typist._at(ecodes.EV_KEY, code, 0) for code in (ecodes.KEY_A, ecodes.KEY_1)]
    decoder = ScanDecoder()
    assert feed_all(decoder, ups + typist.scan("X")) == ["X"]
    # and a key-up of the terminator does not end anything
    assert decoder.feed(typist._at(ecodes.EV_KEY, ecodes.KEY_ENTER, 0)) is None


def test_non_key_events_ignored() -> None:
    typist = Typist()
    noise = [typist._at(ecodes.EV_MSC, ecodes.MSC_SCAN, ecodes.KEY_ENTER),
             typist._at(ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
             typist._at(ecodes.EV_LED, ecodes.LED_CAPSL, 1),
             # an EV_REL whose code equals KEY_ENTER's must not be read as a key
             typist._at(ecodes.EV_REL, ecodes.KEY_ENTER, 1)]
    decoder = ScanDecoder()
    assert feed_all(decoder, typist.text("AB") + noise + typist.scan("C")) == ["ABC"]


def test_capslock_toggles_letters_only() -> None:
    typist = Typist()
    events = (typist.key(ecodes.KEY_CAPSLOCK) + typist.text("ab1") + typist.key(ecodes.KEY_A,
                                                                                shift=True)
              + typist.text("!") + typist.key(ecodes.KEY_CAPSLOCK) + typist.scan("c"))
    assert feed_all(ScanDecoder(), events) == ["AB1a!c"]


def test_capslock_state_survives_between_scans_until_toggled() -> None:
    typist = Typist()
    decoder = ScanDecoder()
    assert feed_all(decoder, typist.key(ecodes.KEY_CAPSLOCK) + typist.scan("x")) == ["X"]
    assert feed_all(decoder, typist.scan("y")) == ["Y"]
    assert feed_all(decoder, typist.key(ecodes.KEY_CAPSLOCK) + typist.scan("z")) == ["z"]


def test_stale_partial_dropped_by_event_timestamps() -> None:
    typist = Typist()
    decoder = ScanDecoder(gap_s=0.5)
    assert feed_all(decoder, typist.text("20261125-A0")) == []  # scanner lost the rest
    typist.pause(0.6)
    assert feed_all(decoder, typist.scan("CN202611250001")) == ["CN202611250001"]
    assert decoder.stale == 1


def test_gap_within_limit_keeps_partial() -> None:
    typist = Typist()
    decoder = ScanDecoder(gap_s=0.5)
    events = typist.text("AB")
    typist.pause(0.4)
    assert feed_all(decoder, events + typist.scan("C")) == ["ABC"]
    assert decoder.stale == 0


def test_stale_partial_then_bare_enter_is_no_scan() -> None:
    typist = Typist()
    decoder = ScanDecoder(gap_s=0.5)
    feed_all(decoder, typist.text("half"))
    typist.pause(1.0)
    assert feed_all(decoder, typist.key(ecodes.KEY_ENTER)) == []


def test_wall_clock_is_not_used() -> None:
    """Events read late (a busy loop) keep their kernel timestamps: no gap between them."""
    typist = Typist()
    decoder = ScanDecoder(gap_s=0.05)
    events = typist.scan("AB12")
    for event in events[: len(events) // 2]:
        decoder.feed(event)
    time.sleep(0.1)
    assert feed_all(decoder, events[len(events) // 2:]) == ["AB12"]


def test_overlong_dropped_and_tail_not_emitted(caplog: pytest.LogCaptureFixture) -> None:
    typist = Typist()
    decoder = ScanDecoder(max_len=512)
    with caplog.at_level(logging.WARNING, logger="devices.scanner"):
        assert feed_all(decoder, typist.scan("9" * 513)) == []
        # the characters after the limit must not come out as a scan of their own either
        assert feed_all(decoder, typist.scan("8" * 600)) == []
    assert decoder.overlong == 2
    assert any("longer than 512" in r.getMessage() for r in caplog.records)
    assert feed_all(decoder, typist.scan("next")) == ["next"]


def test_exactly_max_len_kept() -> None:
    text = "A1" * 256
    assert feed_all(ScanDecoder(max_len=512), Typist().scan(text)) == [text]


def test_empty_and_blank_scans_return_none() -> None:
    typist = Typist()
    decoder = ScanDecoder()
    assert feed_all(decoder, typist.key(ecodes.KEY_ENTER)) == []
    assert feed_all(decoder, typist.scan("   ")) == []
    assert feed_all(decoder, typist.scan("  T1  ")) == ["T1"]  # stripped


@pytest.mark.parametrize("terminator", [ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB])
def test_default_terminators(terminator: int) -> None:
    assert feed_all(ScanDecoder(), Typist().scan("A012", terminator)) == ["A012"]


def test_terminator_choice_without_tab() -> None:
    typist = Typist()
    decoder = ScanDecoder(terminators={ecodes.KEY_ENTER})
    events = typist.text("A0") + typist.key(ecodes.KEY_TAB) + typist.text("12")
    events += typist.key(ecodes.KEY_KPENTER) + typist.key(ecodes.KEY_ENTER)
    # Tab and keypad Enter are then just keys the layout does not type.
    assert feed_all(decoder, events) == ["A012"]
    assert decoder.unknown == 2


def test_tab_only_terminator() -> None:
    typist = Typist()
    decoder = ScanDecoder(terminators=[ecodes.KEY_TAB])
    events = typist.text("A") + typist.key(ecodes.KEY_ENTER) + typist.scan("B", ecodes.KEY_TAB)
    assert feed_all(decoder, events) == ["AB"]


def test_unknown_keys_counted_and_skipped() -> None:
    typist = Typist()
    decoder = ScanDecoder()
    events = typist.text("A") + typist.key(ecodes.KEY_F5) + typist.key(ecodes.KEY_LEFTCTRL)
    events += typist.key(ecodes.KEY_MUTE) + typist.scan("B")
    assert feed_all(decoder, events) == ["AB"]
    assert decoder.unknown == 3


def test_syn_dropped_loses_partial() -> None:
    typist = Typist()
    decoder = ScanDecoder()
    events = [*typist.text("A0"), typist._at(ecodes.EV_SYN, ecodes.SYN_DROPPED, 0)]
    assert feed_all(decoder, events + typist.scan("B1")) == ["B1"]


def test_consecutive_scans() -> None:
    typist = Typist()
    events = typist.scan("20261125-A012")
    typist.pause(2.0)
    events += typist.scan("20261125-A013")
    assert feed_all(ScanDecoder(), events) == ["20261125-A012", "20261125-A013"]


def test_key_name_handles_aliased_codes() -> None:
    assert scanner.key_name(ecodes.KEY_A) == "KEY_A"
    assert scanner.key_name(ecodes.KEY_MUTE) == "KEY_MUTE"  # ecodes.KEY[113] is a tuple
    assert scanner.key_name(0x252) == "key 594"  # no name in ecodes


# --- the reader ---------------------------------------------------------------------------------


def test_reader_missing_device_reports_offline_once_and_retries(tmp_path) -> None:
    health: list[tuple[str, str]] = []
    scans: list[str] = []
    path = str(tmp_path / "usb-Scanner-event-kbd")
    reader = ScannerReader(path, scans.append, on_health=lambda s, d: health.append((s, d)),
                           backoff_initial_s=0.01, backoff_max_s=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=reader.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: reader.open_failures >= 5)
        assert thread.is_alive()
        assert reader.health == "offline"
        assert len(health) == 1
        assert health[0][0] == "offline" and path in health[0][1]
    finally:
        stop.set()
        thread.join(2.0)
    assert not thread.is_alive()
    assert scans == []


def test_reader_stop_honoured_during_long_backoff(tmp_path) -> None:
    reader = ScannerReader(str(tmp_path / "nope"), lambda text: None)  # default 0.1 s .. 5 s
    stop = threading.Event()
    thread = threading.Thread(target=reader.run, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: reader.open_failures >= 1)
    time.sleep(0.4)  # into the backoff
    started = time.monotonic()
    stop.set()
    thread.join(2.0)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0


class FakeDevice:
    """Stands in for `evdev.InputDevice` (no /dev/uinput here): a pipe gives `select` a real fd,
    and each byte written to it releases one batch of queued events or an unplug."""

    opened: list[FakeDevice] = []  # noqa: RUF012 - per-test registry, reset by the fixture
    fail_opens = 0

    def __init__(self, path: str) -> None:
        if FakeDevice.fail_opens:
            FakeDevice.fail_opens -= 1
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self.path, self.name = path, "Fake Scanner"
        self.fd, self._wake = os.pipe()
        self.batches: queue.Queue[list[InputEvent] | None] = queue.Queue()
        self.grabbed = self.closed = False
        FakeDevice.opened.append(self)

    def grab(self) -> None:
        self.grabbed = True

    def push(self, batch: list[InputEvent] | None) -> None:
        self.batches.put(batch)
        os.write(self._wake, b"x")

    def read(self) -> Iterator[InputEvent]:
        os.read(self.fd, 1)
        batch = self.batches.get_nowait()
        if batch is None:
            raise OSError(errno.ENODEV, "No such device")
        yield from batch

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)
            os.close(self._wake)


@pytest.fixture
def fake_evdev(monkeypatch: pytest.MonkeyPatch) -> type[FakeDevice]:
    FakeDevice.opened, FakeDevice.fail_opens = [], 0
    monkeypatch.setattr(scanner.evdev, "InputDevice", FakeDevice)
    yield FakeDevice
    for device in FakeDevice.opened:
        device.close()


def test_reader_grabs_delivers_survives_handler_and_unplug(fake_evdev) -> None:
    fake_evdev.fail_opens = 2  # not plugged in yet
    health: list[str] = []
    scans: list[str] = []

    def on_scan(text: str) -> None:
        scans.append(text)
        if text == "BOOM":
            raise RuntimeError("handler bug")

    reader = ScannerReader("/dev/input/by-id/usb-Fake-event-kbd", on_scan,
                           on_health=lambda s, d: health.append(s),
                           backoff_initial_s=0.01, backoff_max_s=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=reader.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: fake_evdev.opened)
        first = fake_evdev.opened[0]
        assert first.grabbed
        typist = Typist()
        first.push(typist.scan("BOOM"))
        first.push(typist.text("20261125-"))  # half a scan, then unplugged
        wait_until(lambda: scans == ["BOOM"])
        first.push(typist.scan("A012"))  # same device still read after the handler raised
        wait_until(lambda: scans == ["BOOM", "20261125-A012"])
        first.push(typist.text("CN2026"))
        first.push(None)  # unplug: ENODEV
        wait_until(lambda: len(fake_evdev.opened) == 2)
        second = fake_evdev.opened[1]
        assert first.closed and second.grabbed
        second.push(Typist(typist.t).scan("0001"))  # no stale "CN2026" prefix after reopen
        wait_until(lambda: len(scans) == 3)
        assert scans[2] == "0001"
        assert health == ["offline", "online", "offline", "online"]
        assert reader.open_failures == 2
    finally:
        stop.set()
        thread.join(2.0)
    assert not thread.is_alive()
