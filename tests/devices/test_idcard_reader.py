"""The ID card reader's driver against its simulator over a real pty: one read per placing,
a damaged card, no card, garbage on the line, a hung reader, unplug and replug. And the readers
that type the number, decoded from real `evdev.InputEvent`s."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from devices.idcard.keyboard import IdKeyboardReader, card_from_typed
from devices.idcard.reader import CardRead, IdCardReader
from devices.scanner import ScanDecoder
from devices.sim.idcard import SimIdReader, check_character, fictitious_card
from devices.transport import SerialTransport
from tests.devices.helpers import Recorder, wait_until
from tests.devices.test_scanner import Typist, feed_all

ZHANG = fictitious_card("张三", dt.date(1990, 5, 17), seq=11)
OUYANG = fictitious_card("欧阳测试", dt.date(1988, 2, 29), seq=12, valid_until=None)
ELDER = fictitious_card("王五", dt.date(1949, 12, 31), seq=2)
POLL_MS = 40


def test_fictitious_numbers_carry_a_valid_check_character() -> None:
    # The standard's own examples (GB 11643-1999): 11010519491231002X and 440524188001010014.
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"
    assert ELDER.text.number == "11010519491231002X"


@contextmanager
def running(sim: SimIdReader, **kw: object) -> Iterator[tuple[IdCardReader, Recorder]]:
    transport = SerialTransport(sim.path, sim.baud, name="id", personal_data=True)
    reader = IdCardReader(transport, name="id", poll_ms=POLL_MS, **kw)  # type: ignore[arg-type]
    rec, stop = Recorder(), threading.Event()
    thread = threading.Thread(target=reader.run, args=(rec.on_event, stop, rec.on_health))
    thread.start()
    try:
        yield reader, rec
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def fast_sim(**kw: object) -> SimIdReader:
    return SimIdReader(pace=False, read_s=0.02, **kw)  # type: ignore[arg-type]


def test_one_read_per_placing() -> None:
    with fast_sim() as sim, running(sim) as (reader, rec):
        wait_until(lambda: rec.states("id") == ["online"])
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 1)
        first = rec.events[0]
        assert (first.number, first.name, first.birth) == (ZHANG.text.number, "张三",
                                                          dt.date(1990, 5, 17))
        assert first.payload() == {"number": ZHANG.text.number, "name": "张三",
                                   "birth": "1990-05-17", "valid_until": "2036-01-01"}
        finds = sim.stats["commands"]
        wait_until(lambda: sim.stats["commands"] > finds + 10)  # left on the reader
        assert len(rec.events) == 1 and sim.stats["reads"] == 1
        sim.remove()
        wait_until(lambda: not reader.held)
        sim.insert(ZHANG)  # the same card, placed again
        wait_until(lambda: len(rec.events) == 2)
        sim.remove()
        wait_until(lambda: not reader.held)
        sim.insert(OUYANG)
        wait_until(lambda: len(rec.events) == 3)
        assert rec.events[2].payload()["valid_until"] is None  # 长期
        assert rec.events[2].name == "欧阳测试"


def test_another_card_after_the_first() -> None:
    with fast_sim() as sim, running(sim) as (reader, rec):
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 1)
        sim.remove()
        wait_until(lambda: not reader.held)
        sim.insert(ELDER)
        wait_until(lambda: len(rec.events) == 2)
        assert rec.events[1].birth == dt.date(1949, 12, 31)


def test_a_damaged_card_is_reported_once_as_unreadable() -> None:
    damaged = fictitious_card("李四", dt.date(1970, 1, 1), seq=21, damaged=True)
    with fast_sim() as sim, running(sim) as (reader, rec):
        sim.insert(damaged)
        wait_until(lambda: len(rec.events) == 1)
        assert rec.events[0] == CardRead(error="unreadable")
        assert rec.events[0].payload() == {"error": "unreadable"}
        commands = sim.stats["commands"]
        wait_until(lambda: sim.stats["commands"] > commands + 10)
        assert len(rec.events) == 1
        sim.remove()
        wait_until(lambda: not reader.held)
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 2)
        assert rec.events[1].number == ZHANG.text.number


def test_no_card_no_report() -> None:
    with fast_sim() as sim, running(sim) as (_reader, rec):
        wait_until(lambda: sim.stats["commands"] > 10)
        assert rec.events == [] and rec.states("id") == ["online"]
        assert sim.stats["reads"] == 0


def test_garbage_on_the_line_does_not_stop_a_read() -> None:
    with fast_sim(seed=5) as sim, running(sim, reply_timeout_s=0.3) as (_reader, rec):
        sim.garbage_before = 40  # noise before every answer
        wait_until(lambda: sim.stats["commands"] > 3)
        for _ in range(5):
            sim.garbage(3000)  # and bursts between them
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 1)
        assert rec.events[0].number == ZHANG.text.number
        assert "error" not in rec.states("id")


def test_a_reader_that_stops_answering_is_in_error_then_back() -> None:
    with fast_sim() as sim, running(sim, reply_timeout_s=0.05) as (_reader, rec):
        wait_until(lambda: rec.states("id") == ["online"])
        sim.no_reply = True
        wait_until(lambda: rec.states("id")[-1:] == ["error"])
        sim.no_reply = False
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 1)
        assert rec.states("id") == ["online", "error", "online"]


def test_a_failed_sam_puts_the_reader_in_error() -> None:
    with fast_sim() as sim, running(sim) as (_reader, rec):
        wait_until(lambda: rec.states("id") == ["online"])
        sim.sam_failed = True
        wait_until(lambda: rec.states("id")[-1:] == ["error"])
        sim.sam_failed = False
        wait_until(lambda: rec.states("id") == ["online", "error", "online"])


def test_unplug_and_replug() -> None:
    with fast_sim() as sim, running(sim) as (reader, rec):
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 1)
        sim.unplug()
        wait_until(lambda: rec.states("id")[-1:] == ["offline"])
        sim.plug()
        plugged = time.monotonic()
        wait_until(lambda: rec.first_state_at("id", "online", after=plugged), timeout_s=10)
        # A replugged reader has restarted: the card still on it is read anew.
        wait_until(lambda: len(rec.events) == 2)
        sim.remove()
        wait_until(lambda: not reader.held)
        sim.unplug()  # unplugged in the middle of nothing, plugged back with a card on
        wait_until(lambda: rec.states("id")[-1:] == ["offline"])
        sim.insert(ELDER)
        sim.plug()
        wait_until(lambda: len(rec.events) == 3, timeout_s=10)
        assert rec.events[2].number == ELDER.text.number
        assert rec.states("id") == ["online", "offline", "online", "offline", "online"]


def test_unplugged_during_a_read() -> None:
    with SimIdReader(pace=False, read_s=0.3) as sim, running(sim) as (_reader, rec):
        sim.insert(ZHANG)
        wait_until(lambda: sim.stats["reads"] == 1)  # the reader is busy reading
        sim.unplug()
        wait_until(lambda: rec.states("id")[-1:] == ["offline"])
        sim.plug()
        wait_until(lambda: len(rec.events) == 1, timeout_s=10)
        assert rec.events[0].number == ZHANG.text.number


def test_paced_at_115200_baud() -> None:
    # The text and the photo's 1,024 bytes take ~0.11 s on the wire: the read still completes.
    with SimIdReader(pace=True, read_s=0.05) as sim, running(sim) as (_reader, rec):
        sim.insert(ELDER)
        wait_until(lambda: len(rec.events) == 1)
        assert rec.events[0].name == "王五"


# --- keyboard readers -----------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("11010519491231002X", CardRead(number="11010519491231002X", source="keyboard")),
    ("11010519491231002x", CardRead(number="11010519491231002X", source="keyboard")),
    ("440524188001010014", CardRead(number="440524188001010014", source="keyboard")),
    ("4405241880010100", CardRead(source="keyboard", error="unreadable")),
    ("https://x.example/a", CardRead(source="keyboard", error="unreadable")),
])
def test_what_a_keyboard_reader_types(typed: str, expected: CardRead) -> None:
    (text,) = feed_all(ScanDecoder(), Typist().scan(typed))
    read = card_from_typed(text)
    assert read == expected
    if not read.error:
        assert read.payload() == {"number": expected.number}


def test_keyboard_reader_hands_each_number_on_and_survives_its_handler() -> None:
    got: list[CardRead] = []

    def handler(read: CardRead) -> None:
        got.append(read)
        raise RuntimeError("the agent's bug")

    reader = IdKeyboardReader("/nonexistent/event-kbd", handler)
    for text in feed_all(reader.keys.decoder, Typist().scan("11010519491231002X")):
        reader._typed(text)
    assert [r.number for r in got] == ["11010519491231002X"]


def test_keyboard_reader_waits_for_its_device() -> None:
    states: list[tuple[str, str]] = []
    reader = IdKeyboardReader("/nonexistent/event-kbd", lambda read: None,
                              on_health=lambda s, d: states.append((s, d)))
    stop = threading.Event()
    thread = threading.Thread(target=reader.run, args=(stop,))
    thread.start()
    wait_until(lambda: states)
    stop.set()
    thread.join(timeout=5)
    assert states[0][0] == "offline" and not thread.is_alive()


def test_nothing_of_the_card_in_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the wire log too
    damaged = fictitious_card("李四", dt.date(1970, 1, 1), seq=21, damaged=True)
    with fast_sim() as sim, running(sim) as (reader, rec):
        sim.insert(ZHANG)
        wait_until(lambda: len(rec.events) == 1)
        sim.remove()
        wait_until(lambda: not reader.held)
        sim.insert(damaged)
        wait_until(lambda: len(rec.events) == 2)
    assert "> aa aa aa 96 69 00 03 20 01 22" in caplog.text  # the wire log is on
    for card in (ZHANG, damaged):
        for secret in (card.text.number, card.text.name, card.text.number[6:14]):
            for form in (secret, secret.encode("utf-16-le").hex(" ")):
                assert form not in caplog.text
