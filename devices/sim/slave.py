"""A simulated RS-485 bus: several simulated devices (any kinds, by address) answering Modbus RTU
on one pseudo-terminal, as one serial line with many slaves behaves.

The driver opens `SimBus.path`, a stable symlink to the current pty, exactly as it would open
/dev/serial/by-id/... on a Pi. Run-time switches: per-device and bus-wide `Faults`, `unplug()`
and `plug()` (the port vanishes, then comes back as a new pty behind the same path), and baud
pacing: with `pace=True` a reply starts only after the request would have finished on a real
wire plus the 3.5-character gap, and its bytes come out at the configured baud rate, so timing
benchmarks against this simulator are bounded by real wire time.

All pty work happens on the simulator's own thread; other threads ask it through a queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import time
from collections import Counter
from collections.abc import Iterable

from devices import modbus
from devices.sim.faults import Faults
from devices.sim.models import SimDevice, SlaveError
from devices.sim.pty import PtySimulator

log = logging.getLogger(__name__)

IDLE_SELECT_S = 0.1
MIN_PACE_SLEEP_S = 0.0005  # pacing granularity: ~6 bytes per write at 115200, 1 at 9600
GAP_TOLERANCE = 0.9  # a request earlier than 0.9 x t3.5 after our last byte is a violation


class SimBus(PtySimulator):
    def __init__(self, devices: Iterable[SimDevice] = (), *, baud: int = 9600,
                 pace: bool = False, link: str | None = None, seed: int = 0) -> None:
        super().__init__(link, prefix="onestop-simbus-", tty_name="ttyBUS", thread_name="simbus")
        self.devices: dict[int, SimDevice] = {}
        for d in devices:
            self.add(d)
        self.baud, self.pace = baud, pace
        self.char_s = modbus.char_time_s(baud)
        self.gap_s = modbus.frame_gap_s(baud)
        self.faults = Faults()
        self.rng = random.Random(seed)
        self.stats: Counter[str] = Counter()
        self._parser = modbus.RequestParser()
        self._tx_end = 0.0

    # --- control, from any thread ---------------------------------------------------------------

    def add(self, device: SimDevice) -> SimDevice:
        if device.address in self.devices:
            raise ValueError(f"two simulated devices at address {device.address}")
        self.devices[device.address] = device
        return device

    def __getitem__(self, address: int) -> SimDevice:
        return self.devices[address]

    # --- the simulator thread ---------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._run_ops()
            fd = self.port.fd
            watch = [self._wake_r] if fd is None else [fd, self._wake_r]
            timeout = self.gap_s if self._parser.pending else IDLE_SELECT_S
            ready, _, _ = select.select(watch, [], [], timeout)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                continue
            if fd is None:
                continue
            if not ready:
                if self._parser.pending:  # silence ends any partial frame
                    self._dispatch(self._parse(None), time.monotonic())
                continue
            self._receive(fd)

    def _unplug(self) -> None:
        self.port.unplug()
        self._parser = modbus.RequestParser()

    def _plug(self) -> None:
        self.port.plug()
        self._parser = modbus.RequestParser()

    def _receive(self, fd: int) -> None:
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:  # nobody has the tty open: nothing to read
            log.debug("simbus read: %s", err)
            time.sleep(0.01)
            return
        now = time.monotonic()
        if not self._parser.pending and now < self._tx_end + GAP_TOLERANCE * self.gap_s:
            self.stats["gap_violations"] += 1
        self.stats["bytes_in"] += len(data)
        self._dispatch(self._parse(data), now)

    def _parse(self, data: bytes | None) -> list[modbus.Request]:
        """Feed the parser (None: the line went silent), counting the bytes it discards."""
        before = self._parser.discarded
        requests = self._parser.gap() if data is None else self._parser.feed(data)
        self.stats["garbage_in"] += self._parser.discarded - before
        return requests

    def _dispatch(self, requests: list[modbus.Request], arrived: float) -> None:
        for req in requests:
            self.stats["requests"] += 1
            if req.address == modbus.BROADCAST:
                self._broadcast(req)
                continue
            device = self.devices.get(req.address)
            if device is None:
                continue  # another slave's request: a real bus has it, and stays silent
            self._answer(device, req, arrived)

    def _broadcast(self, req: modbus.Request) -> None:
        if req.function not in (modbus.FC_WRITE_SINGLE, modbus.FC_WRITE_MULTIPLE):
            return
        for device in self.devices.values():
            with contextlib.suppress(SlaveError), device.lock:
                device.write(req.start, req.values)

    def _answer(self, device: SimDevice, req: modbus.Request, arrived: float) -> None:
        try:
            reply = modbus.encode_response(req, device.handle(req))
        except SlaveError as err:
            reply = modbus.encode_exception(req.address, req.function, err.code)
        delay = 0.0
        for faults in (device.faults, self.faults):
            if not faults.roll(self.rng):
                continue
            if faults.exception is not None:
                reply = modbus.encode_exception(req.address, req.function, faults.exception)
            delay += faults.delay_s
            shaped = faults.shape(reply, self.rng)
            if shaped is None:
                self.stats["dropped"] += 1
                return
            reply = shaped
            self.stats["faulty"] += 1
        start = arrived + delay
        if self.pace:
            start += modbus.frame_time_s(len(modbus.encode_request(req)), self.baud) + self.gap_s
        self._send(reply, start)

    def _send(self, data: bytes, start: float) -> None:
        wait = start - time.monotonic()
        if wait > 0 and self._stop.wait(wait):
            return
        fd = self.port.fd
        if fd is None:
            return
        if not self.pace:
            self._write(fd, data)
        else:
            self._write_paced(fd, data, start)
        self._tx_end = time.monotonic()
        self.stats["replies"] += 1
        self.stats["bytes_out"] += len(data)

    def _write_paced(self, fd: int, data: bytes, start: float) -> None:
        """Each byte is written when it would have finished arriving at the configured baud."""
        sent = 0
        while sent < len(data):
            now = time.monotonic()
            due = min(len(data), int((now - start) / self.char_s))
            if due > sent:
                self._write(fd, data[sent:due])
                sent = due
                continue
            time.sleep(max(start + (sent + 1) * self.char_s - now, MIN_PACE_SLEEP_S))

    def _write(self, fd: int, data: bytes) -> None:
        try:
            while data:
                data = data[os.write(fd, data):]
        except BlockingIOError:  # nobody is reading and the tty buffer is full: bytes lost
            self.stats["lost_out"] += len(data)
        except OSError as err:
            log.debug("simbus write: %s", err)
