"""One-byte-per-key USB-serial keypads: keymap, unknown bytes, the reader's own rating window,
and unplug/replug, over a real pty."""

from __future__ import annotations

import threading
import time

from devices import regmap as rm
from devices.bytekeypad import CALLER_KEYMAP, RATING_KEYMAP, ByteKeypad
from devices.events import KeyEvent, RatingExpired, RatingPress
from devices.sim import SimByteKeypad
from devices.transport import SerialTransport
from tests.devices.helpers import Recorder, wait_until


def _reader(sim: SimByteKeypad, keymap: dict) -> ByteKeypad:
    transport = SerialTransport(sim.path, 9600)
    transport.open()
    return ByteKeypad(transport, keymap, name="keys")


def test_caller_bytes_and_unknown_bytes() -> None:
    with SimByteKeypad() as sim:
        keys = _reader(sim, CALLER_KEYMAP)
        sim.press("1", "9", 0xFF, "6")
        events = keys.read(0.5)
        while len(events) < 2:
            events += keys.read(0.5)
        assert [e.key for e in events] == [rm.CallerKey.CALL_NEXT, rm.CallerKey.FINISH]
        assert all(isinstance(e, KeyEvent) for e in events)
        assert keys.unknown == 2
        keys.transport.close()


def test_custom_keymap() -> None:
    keymap = {0xA1: rm.CallerKey.CALL_NEXT, 0xA2: rm.RatingLevel.VERY_SATISFIED}
    keys = ByteKeypad(SerialTransport("loop://"), keymap)
    keys.request_rating(3)
    events = keys.decode(b"\xa1\x31\xa2")
    assert [type(e) for e in events] == [KeyEvent, RatingPress]
    assert events[1].request_id == 3 and keys.unknown == 1


def test_rating_only_inside_a_window() -> None:
    keys = ByteKeypad(SerialTransport("loop://"), RATING_KEYMAP)
    assert keys.decode(b"2") == []  # no window open: ignored, like the Modbus keypad
    keys.request_rating(77, timeout_s=30)
    (press,) = keys.decode(b"5")
    assert (press.request_id, press.level) == (77, rm.RatingLevel.VERY_UNSATISFIED)
    assert keys.decode(b"1") == []  # one press per window
    keys.request_rating(78, timeout_s=0.01)
    time.sleep(0.02)
    assert keys.decode(b"1") == []  # the window timed out


def test_noise_is_ignored_and_keys_after_it_arrive() -> None:
    with SimByteKeypad(seed=3) as sim:
        keymap = {0x80 + i: key for i, key in enumerate(rm.CallerKey)}
        keys = _reader(sim, keymap)
        noise = sim.noise(4096)
        sim.press(0x80)
        expected = sum(1 for b in noise if b in keymap) + 1
        events: list = []
        deadline = time.monotonic() + 5
        while len(events) < expected and time.monotonic() < deadline:
            events += keys.read(0.2)
        assert len(events) == expected and events[-1].key is rm.CallerKey.CALL_NEXT
        keys.transport.close()


def test_run_survives_unplug_and_replug() -> None:
    rec = Recorder()
    with SimByteKeypad() as sim:
        keys = ByteKeypad(SerialTransport(sim.path, 9600), CALLER_KEYMAP, name="keys")
        stop = threading.Event()
        thread = threading.Thread(target=keys.run, args=(rec.on_event, stop, rec.on_health))
        thread.start()
        try:
            wait_until(lambda: rec.states("keys") == ["online"])
            sim.press("2")
            wait_until(lambda: len(rec.events) == 1)
            sim.unplug()
            wait_until(lambda: rec.states("keys")[-1] == "offline")
            sim.plug()
            plugged = time.monotonic()
            wait_until(lambda: rec.first_state_at("keys", "online", after=plugged), timeout_s=10)
            sim.press("3")
            wait_until(lambda: len(rec.events) == 2)
            assert [e.key for e in rec.events] == [rm.CallerKey.RECALL, rm.CallerKey.SKIP]
        finally:
            stop.set()
            thread.join(timeout=5)
        assert not thread.is_alive()


def test_every_window_gets_one_outcome_the_press_or_its_end() -> None:
    now = [100.0]
    keys = ByteKeypad(SerialTransport("loop://"), RATING_KEYMAP, name="keys",
                      clock=lambda: now[0])
    keys.request_rating(1, timeout_s=30)
    keys.request_rating(2, timeout_s=30)  # the next request replaces the first
    (press,) = keys.decode(b"4")
    assert press.request_id == 2
    keys.request_rating(3, timeout_s=30)
    now[0] += 31
    keys.request_rating(4, timeout_s=30)
    keys.cancel()
    keys.close_request(5)  # the hub still waited for it when the agent started
    assert [(e.request_id, e.why) for e in keys.ended()] == [
        (1, "replaced"), (3, "timeout"), (4, "cancelled"), (5, "timeout")]
    assert all(isinstance(e, RatingExpired) for e in keys.ended()) and keys.ended() == []
