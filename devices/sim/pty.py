"""A pseudo-terminal that plays a serial port, with a stable path that can be unplugged.

The driver opens `link` (a symlink, like /dev/serial/by-id/... on a real Pi) and the simulator
holds the other end. Unplugging closes our end, so the driver's next read or write fails the way
a pulled USB adapter does (EIO), and removes the link; plugging in makes a new pty (a pty number
cannot be reused on demand) and points the same link at it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
import tty
from collections.abc import Callable
from typing import Self


class PtyPort:
    def __init__(self, link: str) -> None:
        self.link = link
        self.fd: int | None = None  # our end (the pty master)
        self._peer: int | None = None  # kept open so the tty keeps its raw settings
        self.tty_path: str | None = None

    @property
    def plugged(self) -> bool:
        return self.fd is not None

    def plug(self) -> str:
        if self.fd is not None:
            return self.link
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF mangling before the driver configures the port
        os.set_blocking(master, False)  # a reply nobody reads is lost, as on a wire
        self.fd, self._peer, self.tty_path = master, slave, os.ttyname(slave)
        tmp = f"{self.link}.new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(self.tty_path, tmp)
        os.replace(tmp, self.link)  # atomic: the link is never half there
        return self.link

    def unplug(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.link)
        for fd in (self.fd, self._peer):
            if fd is not None:
                os.close(fd)
        self.fd = self._peer = self.tty_path = None


class PtySimulator:
    """A simulated device behind a `PtyPort`, served by its own thread (`_serve`, in the
    subclass). The pty is only touched on that thread, as a closed descriptor's number may be
    reused at once by the driver's open: other threads queue their work (`_on_thread`) and wake
    it through a pipe. Without a `link`, the port's path is in a temporary folder of its own."""

    def __init__(self, link: str | None, *, prefix: str, tty_name: str, thread_name: str) -> None:
        self._tmpdir: str | None = None
        if link is None:
            self._tmpdir = tempfile.mkdtemp(prefix=prefix)
            link = os.path.join(self._tmpdir, tty_name)
        self.port = PtyPort(link)
        self._thread_name = thread_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ops: queue.SimpleQueue[tuple[Callable[[], object], threading.Event]] = \
            queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()

    @property
    def path(self) -> str:
        return self.port.link

    def start(self) -> Self:
        self.port.plug()
        self._thread = threading.Thread(target=self._serve, name=self._thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.port.unplug()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._tmpdir is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self._tmpdir)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """The adapter is pulled: the pty closes (the driver sees EIO) and the path vanishes."""
        self._on_thread(self._unplug)

    def plug(self) -> None:
        """Plugged back: a new pty behind the same path."""
        self._on_thread(self._plug)

    def _unplug(self) -> None:
        self.port.unplug()

    def _plug(self) -> None:
        self.port.plug()

    def _serve(self) -> None:
        raise NotImplementedError

    def _on_thread(self, fn: Callable[[], object]) -> None:
        if self._thread is None or not self._thread.is_alive():
            fn()
            return
        done = threading.Event()
        self._ops.put((fn, done))
        os.write(self._wake_w, b"x")
        if not done.wait(5):
            raise TimeoutError("simulator thread did not answer within 5 s")

    def _run_ops(self) -> None:
        """On the simulator's thread: the work other threads queued."""
        while True:
            try:
                fn, done = self._ops.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            finally:
                done.set()
