"""A simulated one-byte-per-key USB-serial keypad: `press()` sends the key's byte on a pty.

Same stable-path unplug/plug as the bus simulator. Nothing reads what the driver writes (such
keypads ignore it), so nothing is echoed back either.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile

from devices.sim.pty import PtyPort


class SimByteKeypad:
    def __init__(self, link: str | None = None, *, seed: int = 0) -> None:
        self._tmpdir: str | None = None
        if link is None:
            self._tmpdir = tempfile.mkdtemp(prefix="onestop-simkeys-")
            link = os.path.join(self._tmpdir, "ttyKEYS")
        self.port = PtyPort(link)
        self.rng = random.Random(seed)

    @property
    def path(self) -> str:
        return self.port.link

    def start(self) -> SimByteKeypad:
        self.port.plug()
        return self

    def stop(self) -> None:
        self.port.unplug()
        if self._tmpdir is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self._tmpdir)

    def __enter__(self) -> SimByteKeypad:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def press(self, *keys: int | str | bytes) -> None:
        """Send one byte per key: an int (0-255), a one-character str, or bytes as they are."""
        data = b"".join(k if isinstance(k, bytes) else
                        bytes((k,)) if isinstance(k, int) else k.encode("latin-1") for k in keys)
        self.send(data)

    def noise(self, n: int) -> bytes:
        data = bytes(self.rng.randrange(256) for _ in range(n))
        self.send(data)
        return data

    def send(self, data: bytes) -> None:
        if self.port.fd is None:
            raise OSError("simulated keypad is unplugged")
        os.write(self.port.fd, data)

    def unplug(self) -> None:
        self.port.unplug()

    def plug(self) -> None:
        self.port.plug()
