"""hub.journal: the native journal protocol, checked byte for byte against a real socket.

No journald here: a test binds its own AF_UNIX datagram socket, points the handler at it and
parses what arrives as journald would (both field forms, and the memfd a big entry travels
in), so the fields are checked exactly, not just "something was sent".
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import journal
from hub.journal import JournalHandler, configure_logging, stderr_is_journal

REPO = Path(__file__).resolve().parents[1]


def parse(data: bytes) -> dict[str, str]:
    """journald's parser, for one entry: `KEY=value\\n` or `KEY\\n<u64 le length>value\\n`."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        eol = data.index(b"\n", pos)
        line = data[pos:eol]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            pos = eol + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, eol + 1)
            start = eol + 1 + 8
            value = data[start:start + size]
            assert data[start + size:start + size + 1] == b"\n", "binary field not terminated"
            pos = start + size + 1
        assert key.decode() not in fields, f"field {key!r} twice"
        fields[key.decode()] = value.decode()
    return fields


class Journal:
    """A bound datagram socket standing in for /run/systemd/journal/socket."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(10)
        self.memfds = 0

    def receive(self) -> dict[str, str]:
        """One entry: inline, or (empty payload + one fd) read from the sealed memfd."""
        msg, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 20, 4)
        if not fds:
            return parse(msg)
        assert msg == b"" and len(fds) == 1, "a memfd datagram carries the fd and nothing else"
        fd = fds[0]
        try:
            seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
            assert seals & fcntl.F_SEAL_WRITE and seals & fcntl.F_SEAL_SHRINK
            assert seals & fcntl.F_SEAL_GROW
            self.memfds += 1
            return parse(os.pread(fd, os.fstat(fd).st_size, 0))  # the offset is the sender's
        finally:
            os.close(fd)

    def empty(self) -> bool:
        self.sock.settimeout(0.2)
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(10)
        return False


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "journal.sock")
    yield j
    j.sock.close()


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("onestop.test.journal")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()


def _attach(log: logging.Logger, handler: logging.Handler) -> logging.Handler:
    log.addHandler(handler)
    return handler


def test_plain_record_has_exactly_the_standard_fields(sink, logger):
    _attach(logger, JournalHandler("onestop-hub", socket_path=sink.path))
    line = sys._getframe().f_lineno + 1
    logger.warning("window %d paused", 3)
    assert sink.receive() == {
        "MESSAGE": "window 3 paused",
        "PRIORITY": "4",
        "SYSLOG_IDENTIFIER": "onestop-hub",
        "CODE_FILE": __file__,
        "CODE_LINE": str(line),
        "CODE_FUNC": "test_plain_record_has_exactly_the_standard_fields",
        "LOGGER": "onestop.test.journal",
        "THREAD_NAME": "MainThread",
    }


def test_extras_become_onestop_fields(sink, logger):
    _attach(logger, JournalHandler("onestop-hub", socket_path=sink.path))
    logger.info("called", extra={"onestop": {
        "window": 3, "ticket": "20261125-A001", "device": "bus1/led@3",
        "event": "ticket.called", "seq": 42, "agent": "window-1F",
        "delay-s": 1.5, "skipped": None}})
    fields = sink.receive()
    onestop = {k: v for k, v in fields.items() if k.startswith("ONESTOP_")}
    assert onestop == {
        "ONESTOP_WINDOW": "3",
        "ONESTOP_TICKET": "20261125-A001",
        "ONESTOP_DEVICE": "bus1/led@3",
        "ONESTOP_EVENT": "ticket.called",
        "ONESTOP_SEQ": "42",
        "ONESTOP_AGENT": "window-1F",
        "ONESTOP_DELAY_S": "1.5",  # a name journald accepts; None is left out
    }
    assert fields["MESSAGE"] == "called" and fields["PRIORITY"] == "6"


@pytest.mark.parametrize(("level", "priority"), [
    (logging.DEBUG, "7"), (logging.INFO, "6"), (logging.WARNING, "4"),
    (logging.ERROR, "3"), (logging.CRITICAL, "2"),
])
def test_priority_is_the_syslog_level(sink, logger, level, priority):
    _attach(logger, JournalHandler("x", socket_path=sink.path))
    logger.log(level, "m")
    assert sink.receive()["PRIORITY"] == priority


def test_multiline_message_uses_the_binary_form(sink, logger):
    _attach(logger, JournalHandler("onestop-forward", socket_path=sink.path))
    try:
        raise RuntimeError("backend down")
    except RuntimeError:
        logger.exception("delivery failed\nsecond line")
    raw = sink.sock.recv(1 << 20)
    assert b"MESSAGE\n" in raw and b"MESSAGE=" not in raw  # the length-prefixed form
    message = parse(raw)["MESSAGE"]
    assert message.startswith("delivery failed\nsecond line\nTraceback")
    assert message.endswith("RuntimeError: backend down")
    assert parse(raw)["PRIORITY"] == "3"


def test_huge_message_goes_through_a_sealed_memfd(sink, logger):
    _attach(logger, JournalHandler("onestop-hub", socket_path=sink.path))
    text = "工" * 100_000  # 300 KB of UTF-8: more than a datagram may hold
    logger.info("%s", text, extra={"onestop": {"window": 7}})
    fields = sink.receive()
    assert sink.memfds == 1
    assert fields["MESSAGE"] == text
    assert fields["ONESTOP_WINDOW"] == "7"
    assert fields["SYSLOG_IDENTIFIER"] == "onestop-hub"
    logger.info("small again")
    assert sink.receive()["MESSAGE"] == "small again" and sink.memfds == 1


def test_dead_journal_falls_back_to_stderr_and_never_raises(tmp_path, logger):
    out = io.StringIO()
    fallback = logging.StreamHandler(out)
    fallback.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    _attach(logger, JournalHandler("x", socket_path=str(tmp_path / "nobody"),
                                   fallback=fallback))
    logger.error("journal gone", extra={"onestop": {"window": 1}})
    assert out.getvalue() == "ERROR onestop.test.journal: journal gone\n"


def test_journal_stream_must_match_stderr(tmp_path):
    err = tmp_path / "stderr"
    other = tmp_path / "other"
    err.write_text("")
    other.write_text("")
    with err.open("w") as f:
        st = os.fstat(f.fileno())
        ost = other.stat()
        assert stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}, f.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": f"{ost.st_dev}:{ost.st_ino}"},
                                     f.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"},
                                     f.fileno())
        for bad in ("", "garbage", f"{st.st_dev}", ":"):
            assert not stderr_is_journal({"JOURNAL_STREAM": bad}, f.fileno())
        assert not stderr_is_journal({}, f.fileno())

        handler = configure_logging(logging.INFO, "onestop-x",
                                    {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
                                     journal.SOCKET_ENV: "/tmp/j.sock"}, f)
        assert isinstance(handler, JournalHandler)
        assert handler.socket_path == "/tmp/j.sock" and handler.identifier == "onestop-x"
        handler = configure_logging(logging.INFO, "onestop-agent",
                                    {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
                                     journal.IDENTIFIER_ENV: "onestop-agent-window3"}, f)
        assert isinstance(handler, JournalHandler)
        assert handler.identifier == "onestop-agent-window3"  # as the agent@ unit says
        handler = configure_logging(logging.INFO, "onestop-x",
                                    {"JOURNAL_STREAM": f"{ost.st_dev}:{ost.st_ino}"}, f)
        assert type(handler) is logging.StreamHandler
    assert JournalHandler("x", socket_path=None).socket_path in (
        journal.SOCKET_PATH, os.environ.get(journal.SOCKET_ENV))


def _run_cli(tmp_path: Path, sink: Journal, match: bool) -> str:
    """`onestop db migrate` on a new data directory (it logs each migration) as systemd would
    run it: stderr a file, JOURNAL_STREAM naming that file (or another one)."""
    err_path = tmp_path / "stderr.txt"
    decoy = tmp_path / "decoy"
    decoy.write_text("")
    with err_path.open("w") as err:
        st = os.fstat(err.fileno()) if match else decoy.stat()
        env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
               journal.SOCKET_ENV: sink.path, "PYTHONPATH": str(REPO)}
        subprocess.run(
            [sys.executable, "-m", "hub.cli", "--log-level", "info", "db", "migrate",
             "--data", str(tmp_path / "data")],
            cwd=REPO, env=env, stderr=err, stdout=subprocess.DEVNULL, check=True, timeout=60,
        )
    return err_path.read_text()


def test_cli_logs_to_the_journal_under_systemd(tmp_path, sink):
    entries: list[dict[str, str]] = []
    done = threading.Event()

    def read() -> None:
        # As journald does, while the command runs: a datagram socket queues only
        # net.unix.max_dgram_qlen (often 10) entries, and a migration is one entry each.
        while not (done.is_set() and sink.empty()):
            if not sink.empty():
                entries.append(sink.receive())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        stderr = _run_cli(tmp_path, sink, match=True)
    finally:
        done.set()
        reader.join(30)
    assert entries, "no entry reached the journal socket"
    assert "applied migration" not in stderr  # the journal has them, not the plain stream
    first = entries[0]
    assert first["MESSAGE"].startswith("applied migration 0001")
    assert first["PRIORITY"] == "6"
    assert first["SYSLOG_IDENTIFIER"] == "onestop-db-migrate"
    assert first["LOGGER"] == "hub.store.database"
    assert first["CODE_FILE"].endswith(os.path.join("hub", "store", "database.py"))
    assert int(first["CODE_LINE"]) > 0 and first["CODE_FUNC"]
    assert first["THREAD_NAME"] == "MainThread"
    assert any(e["MESSAGE"].startswith("database migrated: ") for e in entries)


def test_cli_keeps_stderr_when_the_stream_is_not_the_journal(tmp_path, sink):
    stderr = _run_cli(tmp_path, sink, match=False)
    assert sink.empty()
    assert " INFO hub.store.database: applied migration 0001" in stderr
