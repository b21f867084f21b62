"""The transport boundary: URLs, deadlines, library errors converted, the wire log."""

from __future__ import annotations

import logging
import time

import pytest

from devices.errors import DeviceGone, DeviceTimeout
from devices.sim import SimByteKeypad
from devices.transport import SerialTransport


def test_loop_url_read_exact_and_deadline() -> None:
    with SerialTransport("loop://", 9600) as t:
        t.write(b"\x01\x02\x03")
        assert t.read_exact(3, time.monotonic() + 1) == b"\x01\x02\x03"
        t.write(b"\x04")
        started = time.monotonic()
        with pytest.raises(DeviceTimeout) as info:
            t.read_exact(2, time.monotonic() + 0.05)
        assert info.value.partial == b"\x04"
        assert 0.04 < time.monotonic() - started < 0.2


def test_missing_port_is_device_gone_from_the_library_error(tmp_path) -> None:
    t = SerialTransport(str(tmp_path / "nothing"), 9600)
    with pytest.raises(DeviceGone) as info:
        t.open()
    assert info.value.__cause__ is not None  # chained: the pyserial error is kept
    assert not t.reopen(give_up_s=0.3)


def test_unplugged_pty_read_is_device_gone() -> None:
    with SimByteKeypad() as sim:
        t = SerialTransport(sim.path, 9600)
        t.open()
        sim.unplug()
        with pytest.raises(DeviceGone):
            t.read_exact(1, time.monotonic() + 1)
        assert not t.is_open
        with pytest.raises(DeviceGone, match="not open"):
            t.write(b"x")
        sim.plug()
        assert t.reopen(give_up_s=2)
        sim.press("7")
        assert t.read_exact(1, time.monotonic() + 1) == b"7"
        t.close()


def test_exclusive_open_refuses_a_second_agent() -> None:
    with SimByteKeypad() as sim:
        first = SerialTransport(sim.path, 9600)
        first.open()
        with pytest.raises(DeviceGone):
            SerialTransport(sim.path, 9600).open()
        first.close()


def test_wire_log_marks_direction(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="devices.wire")
    with SerialTransport("loop://", 9600, name="bus1") as t:
        t.write(b"\x01\x03")
        t.read_exact(2, time.monotonic() + 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "devices.wire"]
    assert lines[0] == "bus1 > 01 03" and lines[1].startswith("bus1 < 01 03")
