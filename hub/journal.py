"""Logging straight into systemd's journal, with fields, without a dependency.

Under systemd our stderr already reaches the journal, but as one line of text: to find what
happened at window 3 this morning an operator has to grep. journald's native protocol lets
each record carry fields of its own, so `journalctl -u onestop-hub ONESTOP_WINDOW=3` filters
exactly, and PRIORITY makes `journalctl -p warning` and the colours work. A log line opts in
with `extra={"onestop": {"window": 3, "ticket": "20261125-A001", ...}}`: each key becomes an
`ONESTOP_<KEY>` field; without systemd the same line is printed to stderr as before.

The protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL): one datagram per entry to the AF_UNIX
socket /run/systemd/journal/socket; each field is `KEY=value\\n`, or, when the value holds a
newline (a traceback), `KEY\\n` + the value's length as 64-bit little-endian + value + `\\n`.
An entry too big for a datagram goes in a sealed memfd whose descriptor is sent alone, with
SCM_RIGHTS. python-systemd does the same, but it is a C extension the Pis do not have.

We switch to it only when systemd says stderr *is* the journal: `$JOURNAL_STREAM` holds the
device and inode of that stream, which we compare with stderr's (systemd.exec(5)); a service
with `StandardError=file:` or a terminal that inherited the variable keeps plain stderr.
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import os
import re
import socket
import struct
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any

from hub.redact import RedactSecrets

SOCKET_PATH = "/run/systemd/journal/socket"
# Tests only: where the handler sends instead of journald's socket (tests/test_journal.py).
SOCKET_ENV = "ONESTOP_JOURNAL_SOCKET"
# SYSLOG_IDENTIFIER= of a unit names only its plain stream: a native entry says its own, and an
# agent's must be `onestop-agent-<name>` like its unit's, which the agent@ unit sets in this.
IDENTIFIER_ENV = "ONESTOP_SYSLOG_IDENTIFIER"
# Where a record's structured fields live: `log.info(..., extra={"onestop": {...}})`.
EXTRA_KEY = "onestop"
FIELD_PREFIX = "ONESTOP_"
# journald's limit on a field name; longer ones are dropped by it, so we cut them ourselves.
MAX_FIELD_NAME = 64
# A stuck journald (its socket buffer full) must not stall the hub's event loop for long: past
# this the record goes to stderr instead, as a dead journal's would.
SEND_TIMEOUT_S = 0.5
STDERR_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Errors that mean "too big for a datagram": then the entry goes through a memfd.
_TOO_BIG = {errno.EMSGSIZE, errno.ENOBUFS}
_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
_NOT_NAME = re.compile(r"[^A-Z0-9_]")


def syslog_priority(levelno: int) -> int:
    """The syslog level journald wants in PRIORITY (3 err, 4 warning, 6 info, 7 debug), so
    `journalctl -p` and its colours mean the same as our logging levels."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def stderr_is_journal(env: Mapping[str, str] | None = None, fd: int | None = None) -> bool:
    """True when systemd connected our stderr to the journal: `$JOURNAL_STREAM` is
    "<st_dev>:<st_ino>" of that stream and matches stderr's. The variable alone is not enough:
    a child whose stderr was redirected, or a shell started from a service, inherits it."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not sep:
        return False
    try:
        st = os.fstat(sys.stderr.fileno() if fd is None else fd)
        return int(dev) == st.st_dev and int(ino) == st.st_ino
    except (ValueError, OSError, AttributeError):  # no stderr, or not a real file
        return False


def field_name(key: str) -> str | None:
    """`window` -> `ONESTOP_WINDOW`: journald accepts only A-Z, 0-9 and `_`, not first."""
    name = FIELD_PREFIX + _NOT_NAME.sub("_", str(key).upper())
    return name[:MAX_FIELD_NAME] if name != FIELD_PREFIX else None


def encode_field(name: str, value: str | bytes) -> bytes:
    """One field in the native protocol: the plain form when it can be, the binary (length
    prefixed) form when the value has a newline, which the plain form would cut."""
    data = value if isinstance(value, bytes) else value.encode("utf-8", "replace")
    key = name.encode("ascii")
    if b"\n" not in data:
        return key + b"=" + data + b"\n"
    return key + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


def serialize(fields: Iterable[tuple[str, str | bytes]]) -> bytes:
    return b"".join(encode_field(name, value) for name, value in fields)


class JournalHandler(logging.Handler):
    """A `logging.Handler` that writes each record as one journal entry with fields.

    Never raises and never loses a record to a dead journal: whatever fails (no socket,
    journald restarting, memfd refused by a seccomp filter) the record goes to `fallback`,
    stderr, which under systemd is the journal's plain stream anyway.
    """

    def __init__(
        self,
        identifier: str,
        socket_path: str | None = None,
        fallback: logging.Handler | None = None,
        level: int = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        self.identifier = identifier
        self.socket_path = socket_path or os.environ.get(SOCKET_ENV) or SOCKET_PATH
        # The journal stamps its own time and shows PRIORITY and LOGGER as fields: the
        # message is just the message (and a traceback, if any).
        self.setFormatter(logging.Formatter("%(message)s"))
        if fallback is None:
            fallback = logging.StreamHandler(sys.stderr)
            fallback.setFormatter(logging.Formatter(STDERR_FORMAT))
        self.fallback = fallback

    def fields(self, record: logging.LogRecord) -> list[tuple[str, str]]:
        """The entry's fields, in the order they are sent."""
        fields = [
            ("MESSAGE", self.format(record)),
            ("PRIORITY", str(syslog_priority(record.levelno))),
            ("SYSLOG_IDENTIFIER", self.identifier),
            ("CODE_FILE", record.pathname),
            ("CODE_LINE", str(record.lineno)),
            ("CODE_FUNC", record.funcName or ""),
            ("LOGGER", record.name),
            ("THREAD_NAME", record.threadName or ""),
        ]
        extra: Any = getattr(record, EXTRA_KEY, None)
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                name = field_name(key)
                if name is not None and value is not None:
                    fields.append((name, str(value)))
        return fields

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.send(serialize(self.fields(record)))
        except RecursionError:
            raise
        except Exception:  # a log line must never take the hall down
            self.fallback.handle(record)

    def send(self, data: bytes) -> None:
        """One datagram; a memfd when the kernel says it is too big. A socket per entry, like
        hub.sdnotify: it is cheap, and in the hub it is made after eventlet's patching, so a
        full journal buffer yields to other green threads instead of blocking them all."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(SEND_TIMEOUT_S)
            try:
                sock.sendto(data, self.socket_path)
            except OSError as err:
                if err.errno not in _TOO_BIG:
                    raise
                self._send_memfd(sock, data)

    def _send_memfd(self, sock: socket.socket, data: bytes) -> None:
        """The large-entry path: the data in a memfd, sealed (journald refuses an unsealed
        one, which we could still change under it), sent as the datagram's only content."""
        fd = os.memfd_create("onestop-journal", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
            # Not socket.send_fds: before Python 3.12 it drops its address argument.
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
            sock.sendmsg([], rights, 0, self.socket_path)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.fallback.close()
        super().close()


def configure_logging(
    level: int,
    identifier: str,
    env: Mapping[str, str] | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """The root logger for every `onestop` command: the journal when systemd runs us with
    journal output, else the plain stderr lines as before. Returns the handler it installed."""
    stream = sys.stderr if stream is None else stream
    fallback = logging.StreamHandler(stream)
    fallback.setFormatter(logging.Formatter(STDERR_FORMAT))
    try:
        fd: int | None = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    handler: logging.Handler = fallback
    if fd is not None and stderr_is_journal(env, fd):
        env = os.environ if env is None else env
        identifier = env.get(IDENTIFIER_ENV) or identifier
        handler = JournalHandler(identifier, env.get(SOCKET_ENV) or None, fallback)
    handler.addFilter(RedactSecrets())  # no token or password in any line, whoever logs it
    logging.basicConfig(level=level, handlers=[handler])
    return handler
