"""A pseudo-terminal that plays a serial port, with a stable path that can be unplugged.

The driver opens `link` (a symlink, like /dev/serial/by-id/... on a real Pi) and the simulator
holds the other end. Unplugging closes our end, so the driver's next read or write fails the way
a pulled USB adapter does (EIO), and removes the link; plugging in makes a new pty (a pty number
cannot be reused on demand) and points the same link at it.
"""

from __future__ import annotations

import contextlib
import os
import tty


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
