"""A simulated ESC/POS receipt printer on a pty (or reading a file), plus a small ESC/POS
decoder shared with the tests.

The simulator records every byte it receives and answers `DLE EOT n` at once with the status
bytes of its fault switches (offline, paper_out, paper_near_end, cover_open, error, no_reply), or
with explicit bytes from `status_override`. Like a real printer, it answers DLE EOT wherever
the sequence appears in the stream.

    with SimPrinter() as sim:
        driver = PrinterDriver(SerialTransport(sim.path), "58mm")
        sim.faults.paper_out = True

NetSimPrinter is the same printer on a TCP port, for `socket://` (a network printer).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import tempfile
import threading
from dataclasses import dataclass, field

from devices.printer import status
from devices.sim.pty import PtyPort


@dataclass
class PrinterFaults:
    offline: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    error: bool = False
    no_reply: bool = False
    status_override: dict[int, int] = field(default_factory=dict)  # n -> byte

    def reply(self, n: int) -> bytes | None:
        if self.no_reply:
            return None
        if n in self.status_override:
            return bytes((self.status_override[n],))
        table = status.encode(offline=self.offline, cover_open=self.cover_open,
                              paper_out=self.paper_out, paper_near_end=self.paper_near_end,
                              error=self.error)
        return bytes((table[n],))


class _Recorder:
    """What every simulated printer does with the bytes it gets: keep them, and answer each
    DLE EOT n with its fault switches' status byte."""

    def __init__(self) -> None:
        self.faults = PrinterFaults()
        self.received = bytearray()
        self.queries: list[int] = []  # n of every DLE EOT answered or ignored
        self._lock = threading.Lock()
        self._scanned = 0

    def data(self) -> bytes:
        """Everything received so far, minus the DLE EOT requests."""
        with self._lock:
            return strip_status_requests(bytes(self.received))

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.queries.clear()
            self._scanned = 0

    def _take(self, chunk: bytes) -> bytes:
        """Record `chunk`; the status answers to send back."""
        answers = bytearray()
        with self._lock:
            self.received += chunk
            buf = self.received
            i = max(0, self._scanned - 2)
            while (i := buf.find(b"\x10\x04", i)) != -1 and i + 2 < len(buf):
                n = buf[i + 2]
                if n in status.ALL:
                    self.queries.append(n)
                    answers += self.faults.reply(n) or b""
                i += 3
            self._scanned = len(buf)
        return bytes(answers)

    @staticmethod
    def read_file(path: str) -> bytes:
        """A job written to a plain file (the driver on a one-way link)."""
        with open(path, "rb") as f:
            return f.read()


class SimPrinter(_Recorder):
    def __init__(self, link: str | None = None) -> None:
        super().__init__()
        self._tmpdir: str | None = None
        if link is None:
            self._tmpdir = tempfile.mkdtemp(prefix="onestop-simprinter-")
            link = os.path.join(self._tmpdir, "ttyPRN")
        self.port = PtyPort(link)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> str:
        return self.port.link

    def start(self) -> SimPrinter:
        self.port.plug()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-printer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.port.unplug()
        if self._tmpdir is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self._tmpdir)

    def __enter__(self) -> SimPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        fd = self.port.fd
        assert fd is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:  # the driver closed its end (EIO on a pty): wait for it again
                self._stop.wait(0.02)
                continue
            if answers := self._take(chunk):
                os.write(fd, answers)


class NetSimPrinter(_Recorder):
    """The simulated printer as a network printer: raw TCP on 127.0.0.1 (port 9100 on a real
    one), driven as `socket://127.0.0.1:PORT`. `drop()` closes its connections the way a
    printer does when it is switched off and on, or after an idle timeout."""

    def __init__(self) -> None:
        super().__init__()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self.accepted = 0  # connections accepted so far
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def start(self) -> NetSimPrinter:
        self._thread = threading.Thread(target=self._run, name="sim-netprinter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.drop()
        self._listener.close()

    def __enter__(self) -> NetSimPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def drop(self) -> None:
        """Close every open connection (the client sees the end of the stream)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def connected(self) -> int:
        with self._lock:
            return len(self._conns)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                conns = list(self._conns)
            try:
                ready, _, _ = select.select([self._listener, *conns], [], [], 0.02)
            except (OSError, ValueError):  # a connection dropped meanwhile (closed fd)
                continue
            for sock in ready:
                if sock is self._listener:
                    conn, _addr = self._listener.accept()
                    with self._lock:
                        self._conns.append(conn)
                        self.accepted += 1
                    continue
                self._serve(sock)

    def _serve(self, conn: socket.socket) -> None:
        try:
            chunk = conn.recv(4096)
            if chunk and (answers := self._take(chunk)):
                conn.sendall(answers)
        except OSError:  # dropped meanwhile
            chunk = b""
        if not chunk:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
            conn.close()


def strip_status_requests(data: bytes) -> bytes:
    for n in status.ALL:
        data = data.replace(status.request(n), b"")
    return data


# --- a small ESC/POS decoder ---------------------------------------------------------------------

@dataclass
class Op:
    kind: str  # "text" (GBK-decoded), "cmd" (name), "raster", "barcode"
    value: object = None
    raw: bytes = b""


# fixed-length commands: prefix -> (name, total length)
_FIXED = {
    b"\x1b@": ("ESC @", 2), b"\x1c&": ("FS &", 2), b"\x1c.": ("FS .", 2),
    b"\x1ba": ("ESC a", 3), b"\x1bE": ("ESC E", 3), b"\x1bM": ("ESC M", 3),
    b"\x1bd": ("ESC d", 3), b"\x1b!": ("ESC !", 3), b"\x1bt": ("ESC t", 3),
    b"\x1b2": ("ESC 2", 2), b"\x1b3": ("ESC 3", 3), b"\x1d!": ("GS !", 3),
    b"\x1dh": ("GS h", 3), b"\x1dw": ("GS w", 3), b"\x1dH": ("GS H", 3),
    b"\x1df": ("GS f", 3), b"\x10\x04": ("DLE EOT", 3),
}


def decode(data: bytes) -> list[Op]:
    """ESC/POS stream -> ops. Text runs are decoded from GBK (2-byte characters are kept
    whole, so a trail byte is never read as a command). Unknown commands raise ValueError."""
    ops: list[Op] = []
    text = bytearray()
    i = 0

    def flush() -> None:
        if text:
            ops.append(Op("text", bytes(text).decode("gbk"), bytes(text)))
            text.clear()

    while i < len(data):
        b = data[i]
        if b >= 0x81 and i + 1 < len(data):  # GBK double byte
            text += data[i:i + 2]
            i += 2
            continue
        if b not in (0x10, 0x1B, 0x1C, 0x1D):
            text.append(b)
            i += 1
            continue
        flush()
        head = data[i:i + 2]
        if head in _FIXED:
            name, n = _FIXED[head]
            ops.append(Op("cmd", (name, data[i + 2:i + n]), data[i:i + n]))
            i += n
        elif head == b"\x1dV":  # GS V m [n]
            m = data[i + 2]
            n = 4 if m >= 65 else 3
            ops.append(Op("cmd", ("GS V", data[i + 2:i + n]), data[i:i + n]))
            i += n
        elif data[i:i + 3] == b"\x1dv0":  # GS v 0 m xL xH yL yH d...
            xb = data[i + 4] | data[i + 5] << 8
            h = data[i + 6] | data[i + 7] << 8
            end = i + 8 + xb * h
            ops.append(Op("raster", (xb * 8, h, data[i + 8:end]), data[i:end]))
            i = end
        elif head == b"\x1dk":  # GS k m (m >= 65: n d1..dn)
            m, n = data[i + 2], data[i + 3]
            payload = data[i + 4:i + 4 + n]
            ops.append(Op("barcode", (m, payload), data[i:i + 4 + n]))
            i += 4 + n
        else:
            raise ValueError(f"unknown ESC/POS command {data[i:i + 3].hex(' ')} at {i}")
    flush()
    return ops


def text_of(data: bytes) -> str:
    """All printed text of a job, GBK-decoded, commands removed."""
    return "".join(str(op.value) for op in decode(data) if op.kind == "text")


def raster_images(data: bytes) -> list[tuple[int, int, bytes]]:
    """(width dots, height dots, 1-bit rows, MSB first, 1 = black) of each GS v 0 image."""
    return [op.value for op in decode(data) if op.kind == "raster"]  # type: ignore[misc]
