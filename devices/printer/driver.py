"""A receipt printer driver: check real-time status, then send a ticket or a slip.

The transport is either devices.transport.SerialTransport (a serial port, a pty, or any pyserial
URL such as `socket://192.168.1.50:9100` for a network printer) or FileTransport for a printer
device node such as /dev/usb/lp0 (usblp: a bidirectional printer's status answers are read
back from the same node) or a plain file (a spool, a capture: never asked, it cannot answer).
Which one a target is: see `transport_for`.

    driver = PrinterDriver.open("/dev/usb/lp0", paper="58mm")
    driver.print_ticket(ticket)        # PrinterError if offline, out of paper, cover open...
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import stat
import time

from devices.errors import DeviceError, DeviceGone, DeviceTimeout
from devices.printer import layout, status
from devices.transport import SerialTransport

log = logging.getLogger(__name__)


class PrinterError(DeviceError):
    """The printer cannot print now; `status` holds what it reported (None: no answer)."""

    def __init__(self, message: str, printer_status: status.PrinterStatus | None = None) -> None:
        super().__init__(message)
        self.status = printer_status


class FileTransport:
    """A printer device node (usblp /dev/usb/lp0, parallel /dev/lp0) or a plain file, with the
    SerialTransport methods the driver uses. A plain file is created if missing and appended
    to; a device node is never created (a missing one is an unplugged printer)."""

    def __init__(self, path: str) -> None:
        self.path = self.name = path
        self._fd: int | None = None
        self._device = False  # the open node is a character device (may answer DLE EOT)

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    @property
    def answers_status(self) -> bool:
        """Whether a status request can be answered: a device node may; a plain file, a pipe
        or a spool directory's file cannot (and the request would end up in the file)."""
        self.open()
        return self._device

    def open(self) -> None:
        if self._fd is not None:
            return
        flags = os.O_RDWR | os.O_NOCTTY
        if not _under_dev(self.path):
            flags |= os.O_CREAT
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as err:
            raise DeviceGone(f"{self.path}: open failed: {err}") from err
        self._fd = fd
        self._device = stat.S_ISCHR(os.fstat(fd).st_mode)
        with contextlib.suppress(OSError):  # a plain file: append, never read old jobs
            os.lseek(fd, 0, os.SEEK_END)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def write(self, data: bytes) -> None:
        fd = self._require()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError as err:
            self.close()
            raise DeviceGone(f"{self.path}: write failed: {err}") from err

    def read_exact(self, n: int, deadline: float) -> bytes:
        fd = self._require()
        buf = bytearray()
        try:
            while len(buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                ready, _, _ = select.select([fd], [], [], min(left, 0.05))
                chunk = os.read(fd, n - len(buf)) if ready else b""
                if ready and not chunk:
                    time.sleep(0.005)  # a regular file is at EOF: nothing is coming
                buf += chunk
        except OSError as err:
            self.close()
            raise DeviceGone(f"{self.path}: read failed: {err}") from err
        if len(buf) < n:
            raise DeviceTimeout(f"{self.path}: {len(buf)} of {n} bytes before the deadline",
                                bytes(buf))
        return bytes(buf)

    def read_until_quiet(self, quiet_s: float, deadline: float) -> bytes:
        try:
            return self.read_exact(1 << 16, min(deadline, time.monotonic() + quiet_s))
        except DeviceTimeout as err:
            return err.partial

    def _require(self) -> int:
        if self._fd is None:
            raise DeviceGone(f"{self.path}: not open")
        return self._fd


# Printer device nodes under /dev: usblp (/dev/usb/lp0, /dev/usblp0) and parallel (/dev/lp0).
_PRINTER_NODES = ("lp", "usblp")


def _under_dev(path: str) -> bool:
    return path.startswith("/dev/") or os.path.realpath(path).startswith("/dev/")


def is_serial_target(target: str) -> bool:
    """Everything but a printer device node and a plain file is a serial port: a pyserial URL
    (socket://host:9100, a network printer) and any other path under /dev, present or not
    (/dev/serial/by-id/..., /dev/ttyUSB0, /dev/rfcomm0, a pty; an unplugged adapter comes
    back). Written as a file: /dev/usb/*, /dev/lp*, /dev/usblp*, and any path outside /dev
    (a plain file, which need not exist yet)."""
    if "://" in target:
        return True
    if not _under_dev(target):
        return False
    real = os.path.realpath(target) if os.path.exists(target) else target
    return not (real.startswith("/dev/usb/") or os.path.basename(real).startswith(_PRINTER_NODES))


def transport_for(target: str, baud: int = 9600) -> SerialTransport | FileTransport:
    """SerialTransport for a serial target (`is_serial_target`), else FileTransport."""
    if is_serial_target(target):
        return SerialTransport(target, baud, exclusive=False, name=f"printer {target}")
    return FileTransport(target)


class PrinterDriver:
    def __init__(self, transport: SerialTransport | FileTransport,
                 paper: str | layout.Paper = "80mm", *, status_timeout_s: float = 0.5,
                 require_status: bool | None = None) -> None:
        """`require_status`: a printer that does not answer DLE EOT is an error. None: only on
        a serial or network link, where every ESC/POS printer answers; a device node or a file
        prints without an answer (usblp printers are often one-way, a file never answers), and
        a fault it does report still stops the job."""
        self.transport = transport
        self.paper = layout.paper(paper)
        self.status_timeout_s = status_timeout_s
        if require_status is None:
            require_status = isinstance(transport, SerialTransport)
        self.require_status = require_status

    @classmethod
    def open(cls, target: str, paper: str | layout.Paper = "80mm", baud: int = 9600,
             **kw: object) -> PrinterDriver:
        driver = cls(transport_for(target, baud), paper, **kw)  # type: ignore[arg-type]
        driver.transport.open()
        return driver

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> PrinterDriver:
        self.transport.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_status(self) -> status.PrinterStatus | None:
        """Ask DLE EOT 1-4; None when the printer does not answer at all (a plain file is not
        asked)."""
        self.transport.open()
        if isinstance(self.transport, FileTransport) and not self.transport.answers_status:
            return None
        self.transport.read_until_quiet(0.0, time.monotonic())  # drop stale answers
        replies: dict[int, int] = {}
        for n in status.ALL:
            self.transport.write(status.request(n))
            try:
                b = self.transport.read_exact(1, time.monotonic() + self.status_timeout_s)[0]
            except DeviceTimeout:
                if n == status.PRINTER:
                    return None
                break  # some printers answer only n=1
            if not status.is_status_byte(b):
                raise PrinterError(f"打印机状态应答无效 (invalid status byte {b:#04x} "
                                   f"for DLE EOT {n})")
            replies[n] = b
        return status.parse(replies)

    def check_ready(self) -> status.PrinterStatus | None:
        st = self.read_status()
        if st is None:
            if not self.require_status:
                return None
            if isinstance(self.transport, FileTransport) and not self.transport.answers_status:
                raise PrinterError(f"打印目标是普通文件，无法查询状态 ({self.transport.name} is "
                                   f"a plain file, which cannot answer the status request: "
                                   f"do not set require_status)")
            raise PrinterError(f"打印机无应答，请检查电源和连线 (printer "
                               f"{self.transport.name} did not answer the status request "
                               f"within {self.status_timeout_s} s)")
        if not st.ready:
            raise PrinterError(f"打印机不能打印：{st.describe()}", st)
        return st

    def send(self, job: bytes) -> status.PrinterStatus | None:
        try:
            st = self.check_ready()
        except DeviceGone as err:
            # A network printer closes its connection when it is switched off and on or after
            # an idle timeout; a USB one re-enumerates. Found at the status request, before a
            # byte of the job was sent: one fresh connection at once, and the job cannot be
            # printed twice. (A write that fails below is not retried: part of it may be on
            # paper already; the page offers to print again.)
            log.info("%s: %s; reconnecting once", self.transport.name, err)
            self.transport.close()
            st = self.check_ready()
        try:
            self.transport.write(job)
        except DeviceError as err:
            raise PrinterError(f"打印数据发送失败 (write to {self.transport.name} failed: "
                               f"{err})") from err
        return st

    def print_ticket(self, ticket: layout.Ticket) -> status.PrinterStatus | None:
        """Check status, then print. Returns the status seen (paper near end is a warning)."""
        return self.send(layout.ticket_bytes(ticket, self.paper))

    def print_slip(self, slip: layout.CommitmentSlip) -> status.PrinterStatus | None:
        return self.send(layout.slip_bytes(slip, self.paper))
