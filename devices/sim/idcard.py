"""A simulated desktop ID card reader (GA 467-2013 SAM) on a pty: the same bytes as a real one.

The driver opens `path` (a stable symlink, like /dev/serial/by-id/... on a kiosk). Run-time
switches, from any thread: `insert(card)` / `remove()` a card, a `damaged` card (found, but its
read fails with 0x41), `garbage(n)` on the line now or `garbage_before` every answer, `no_reply`
(the reader hangs), `sam_failed` (every answer 0x60), `unplug()` (the pty closes: the driver
sees EIO) and `plug()`.

Timing: each answer starts after the reader's own work (`find_s`, `select_s`, `read_s`; a read
takes `READ_S` = 0.7 s, within the 0.5-0.9 s desktop readers take to authenticate and read a
card) and, with `pace`, its bytes come out at the baud rate. A read text answer carries 1024
zero bytes where a real reader sends the photo: the same wire time, and no picture.

The cards are made up: `fictitious_card()` builds one with a valid GB 11643 check digit.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import select
import threading
import time
from collections import Counter
from dataclasses import dataclass

from devices.errors import ProtocolError
from devices.idcard import protocol as p
from devices.sim.pty import PtySimulator

log = logging.getLogger(__name__)

FIND_S = 0.01
SELECT_S = 0.02
READ_S = 0.7  # desktop readers: 0.5-0.9 s from select to the last byte of the text and photo
IDLE_SELECT_S = 0.1
MIN_PACE_SLEEP_S = 0.0005  # pacing granularity: ~6 bytes per write at 115200
PHOTO_FILLER = bytes(p.PHOTO_LEN)

# GB 11643-1999: weight of each of the first 17 digits, and the check character of sum mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The 18th character of an ID number (ISO 7064 MOD 11-2): a small copy of the hub's rule,
    as devices/ stays free of hub imports."""
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


@dataclass
class SimCard:
    text: p.CardText
    damaged: bool = False  # found and selected, but every read fails (0x41)


def fictitious_card(name: str, birth: dt.date, *, region: str = "110105", seq: int = 1,
                    sex: str = "", valid_until: dt.date | None = dt.date(2036, 1, 1),
                    damaged: bool = False) -> SimCard:
    """A made-up card: `region` + birth + sequence + a valid check character. `sex` follows
    the sequence's parity (odd: male) unless given."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    text = p.CardText(
        name=name, sex=sex or ("1" if seq % 2 else "2"), ethnicity="01", birth=birth,
        address="北京市朝阳区示例路1号", number=first17 + check_character(first17),
        authority="北京市公安局朝阳分局", valid_from=dt.date(2016, 1, 1), valid_until=valid_until)
    return SimCard(text, damaged)


class SimIdReader(PtySimulator):
    def __init__(self, link: str | None = None, *, baud: int = 115200, pace: bool = True,
                 read_s: float = READ_S, find_s: float = FIND_S, select_s: float = SELECT_S,
                 seed: int = 0) -> None:
        super().__init__(link, prefix="onestop-simid-", tty_name="ttyID",
                         thread_name="sim-idreader")
        self.baud, self.pace = baud, pace
        self.char_s = 10 / baud  # 8N1
        self.find_s, self.select_s, self.read_s = find_s, select_s, read_s
        self.rng = random.Random(seed)
        self.card: SimCard | None = None
        self.garbage_before = 0  # noise bytes before every answer
        self.no_reply = False
        self.sam_failed = False  # the SAM's self-test failed: every command answers 0x60
        self.stats: Counter[str] = Counter()
        self.placed_at = 0.0  # time.monotonic() of the last insert (benchmarks)
        self.answered_at = 0.0  # ... of the last read text answer's last byte
        self._decoder = p.FrameDecoder()
        self._lock = threading.Lock()  # the card, between control calls and the thread

    # --- control, from any thread ---------------------------------------------------------

    def insert(self, card: SimCard) -> None:
        """A card is placed on the reader (replacing any card that was there)."""
        with self._lock:
            self.card = card
            self.placed_at = time.monotonic()

    def remove(self) -> None:
        with self._lock:
            self.card = None

    def garbage(self, n: int) -> bytes:
        """`n` random bytes on the line now, as a noisy cable or a confused reader sends."""
        data = bytes(self.rng.randrange(256) for _ in range(n))
        self._on_thread(lambda: self._write(data))
        return data

    def _unplug(self) -> None:
        self.port.unplug()
        self._decoder.reset()

    # --- the simulator's thread ------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._run_ops()
            fd = self.port.fd
            watch = [self._wake_r] if fd is None else [fd, self._wake_r]
            ready, _, _ = select.select(watch, [], [], IDLE_SELECT_S)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                continue
            if fd is None or not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as err:  # unplugged meanwhile, or nobody has the tty open
                log.debug("sim id reader read: %s", err)
                self._stop.wait(0.01)
                continue
            arrived = time.monotonic()
            for body in self._decoder.feed(data):
                self._command(body, arrived)

    def _command(self, body: bytes, arrived: float) -> None:
        self.stats["commands"] += 1
        try:
            cmd, para, _data = p.parse_command(body)
        except ProtocolError:
            self.stats["bad_commands"] += 1
            return
        if self.pace:  # the command's own bytes had to arrive first
            arrived += (p.HEADER_LEN + len(body) + 1) * self.char_s
        with self._lock:
            status, data, work_s = self._answer_for((cmd, para))
        if self.no_reply:
            return
        if self._stop.wait(max(0.0, arrived + work_s - time.monotonic())):
            return
        noise = bytes(self.rng.randrange(256) for _ in range(self.garbage_before))
        self._send(noise + p.answer(status, data))
        if (cmd, para) == p.Command.READ_TEXT.value:
            self.answered_at = time.monotonic()

    def _answer_for(self, command: tuple[int, int]) -> tuple[int, bytes, float]:
        """(SW3, data, the reader's own time) for a command, given the card on the reader."""
        card = self.card
        if self.sam_failed:
            return p.Status.SAM_SELF_TEST_FAILED, b"", self.find_s
        if command == p.Command.FIND.value:
            if card is None:
                return p.Status.NO_CARD, b"", self.find_s
            return p.Status.FOUND, bytes(4), self.find_s
        if command == p.Command.SELECT.value:
            if card is None:
                return p.Status.SELECT_FAILED, b"", self.select_s
            return p.Status.OK, bytes(8), self.select_s
        if command == p.Command.READ_TEXT.value:
            if card is None or card.damaged:
                return p.Status.READ_FAILED, b"", self.read_s
            self.stats["reads"] += 1
            block = p.encode_text(card.text)
            return p.Status.OK, p.read_text_data(block, PHOTO_FILLER), self.read_s
        return p.Status.COMMAND_ERROR, b"", 0.0

    def _send(self, data: bytes) -> None:
        """Paced: each byte leaves when it would have on the wire."""
        if not self.pace:
            self._write(data)
            return
        start, sent = time.monotonic(), 0
        while sent < len(data) and self.port.fd is not None:
            due = min(len(data), int((time.monotonic() - start) / self.char_s) + 1)
            if due > sent:
                self._write(data[sent:due])
                sent = due
            else:
                time.sleep(max(self.char_s, MIN_PACE_SLEEP_S))

    def _write(self, data: bytes) -> None:
        fd = self.port.fd
        if fd is None:
            return
        try:
            while data:
                data = data[os.write(fd, data):]
        except BlockingIOError:  # nobody reads and the tty's buffer is full: lost, as on a wire
            self.stats["lost_out"] += len(data)
        except OSError as err:
            log.debug("sim id reader write: %s", err)
