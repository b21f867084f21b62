"""The Modbus master against the simulator over a real pty: every register of every device kind,
exceptions, and every fault switch (garbage, truncation, bad CRC, wrong address, silence)."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest

from devices import modbus as mb
from devices import regmap as rm
from devices.errors import DeviceGone, DeviceTimeout, ModbusException, ProtocolError
from devices.master import Health
from devices.sim import SimCallerKeypad, SimLed, SimRatingKeypad
from devices.transport import SerialTransport
from tests.devices.helpers import rig


def _three() -> tuple[SimRatingKeypad, SimCallerKeypad, SimLed]:
    return SimRatingKeypad(1, firmware=0x0203), SimCallerKeypad(2), SimLed(3)


def test_identity_block_of_every_kind() -> None:
    with rig(*_three()) as (sim, master):
        for address, kind, caps in ((1, 1, rm.CAP_DISPLAY | rm.CAP_REASON_KEYS),
                                    (2, 2, rm.CAP_DISPLAY), (3, 3, rm.CAP_DISPLAY)):
            regs = master.read_input_registers(address, 0, rm.IDENTITY_COUNT)
            assert regs[rm.IR_STATUS] == rm.ST_READY | caps
            assert regs[rm.IR_BOOT_ID] == sim[address].boot_id != 0
            assert regs[rm.IR_KIND] == kind
            assert regs[rm.IR_MAP_VERSION] == 1
            assert regs[rm.IR_FAULT_CODE] == 0
        assert master.read_input_registers(1, rm.IR_FIRMWARE, 1) == (0x0203,)
        assert master.read_input_registers(3, rm.IR_CHANGE, 1) == (0xFFFF,)  # CRC of no text
        assert master.health(1).state is Health.ONLINE


def test_key_ring_registers() -> None:
    with rig(SimCallerKeypad(2)) as (sim, master):
        assert master.read_input_registers(2, rm.IR_RING, rm.RING_COUNT) == (0,) * 24
        sim[2].press(rm.CallerKey.SKIP)
        ring = master.read_input_registers(2, rm.IR_RING, rm.RING_COUNT)
        assert ring[3:6] == (1, rm.CallerKey.SKIP << 8, 0)  # seq 1 lives in slot 1
        assert master.read_input_registers(2, rm.IR_CHANGE, 1) == (1,)


def _legal(address: int, reg: int, salt: int) -> int:
    """A value the device must accept in this register (limits from docs/devices.md)."""
    if (address == 2 and reg == rm.HR_CALLER_FLAGS) or (address == 3 and reg == rm.HR_EFFECT):
        return salt % 2
    if address == 2 and reg < rm.HR_WAITING:  # NUMBER: two ASCII characters
        return 0x4130 + (reg + salt) % 10
    if (address == 3 and reg in (rm.HR_BRIGHTNESS, rm.HR_TEXT_LEN)) or \
            (address == 1 and reg in (rm.HR_TIMEOUT_S, rm.HR_REASON_TIMEOUT_S,
                                     rm.HR_CLERK_TEXT_LEN)):
        return 20 + salt % 10
    return (0x4142 * (reg + salt)) & 0xFFFF


def test_every_holding_register_reads_back() -> None:
    with rig(*_three()) as (_sim, master):
        blocks = {1: range(rm.HR_REQUEST_ID, rm.HR_RATING_END),  # COMMAND itself acts
                  2: range(rm.HR_NUMBER, rm.HR_CALLER_END),
                  3: range(rm.HR_BRIGHTNESS, rm.HR_LED_END)}
        for address, block in blocks.items():
            for reg in block:  # function 06, one by one
                value = _legal(address, reg, 1)
                master.write_register(address, reg, value)
                assert master.read_holding_registers(address, reg, 1) == (value,)
            values = [_legal(address, reg, 2) for reg in block]  # function 16, all at once
            master.write_registers(address, block.start, values)
            assert master.read_holding_registers(address, block.start, len(block)) == \
                tuple(values)
        master.write_register(1, rm.HR_COMMAND, rm.CMD_CANCEL)
        assert master.read_holding_registers(1, rm.HR_COMMAND, 1) == (rm.CMD_CANCEL,)


@pytest.mark.parametrize(("call", "code"), [
    (lambda m: m.read_input_registers(3, 0x0010, 1), 2),  # an LED has no key ring
    (lambda m: m.read_input_registers(1, 0x0006, 4), 2),  # runs past the identity block
    (lambda m: m.read_holding_registers(2, 0x0200, 1), 2),
    (lambda m: m.write_register(3, rm.HR_BRIGHTNESS, 101), 3),
    (lambda m: m.write_registers(3, rm.HR_EFFECT, [0, 65]), 3),  # TEXT_LEN > 64
    (lambda m: m.write_register(1, rm.HR_COMMAND, rm.CMD_OPEN), 3),  # REQUEST_ID is 0
    (lambda m: m.write_register(1, rm.HR_COMMAND, 9), 3),
    # a value out of its range is refused with or without COMMAND in the same write
    (lambda m: m.write_register(1, rm.HR_TIMEOUT_S, 601), 3),
    (lambda m: m.write_registers(1, rm.HR_REASON_TIMEOUT_S, [601, 0]), 3),
    (lambda m: m.write_register(1, rm.HR_CLERK_TEXT_LEN, 33), 3),
    (lambda m: m.write_register(2, rm.HR_NUMBER, 0x41B0), 3),  # NUMBER is ASCII only
])
def test_exception_responses(call, code) -> None:
    with rig(*_three()) as (_sim, master):
        with pytest.raises(ModbusException) as info:
            call(master)
        assert info.value.code == code
        address = info.value.address
        assert master.health(address).state is Health.ERROR
        master.read_input_registers(address, 0, 3)  # a good transaction clears the error
        assert master.health(address).state is Health.ONLINE


def test_unknown_function_gets_exception_01() -> None:
    with rig(SimLed(3)) as (sim, master):
        transport = master.transport
        transport.write(mb.with_crc(b"\x03\x2b\x0e\x01\x00"))
        reply = transport.read_exact(5, time.monotonic() + 1)
        assert reply == mb.encode_exception(3, 0x2B, 1)
        assert sim.stats["replies"] == 1


def test_device_failure_exception_04() -> None:
    with rig(SimLed(3)) as (sim, master):
        sim[3].faults.set(exception=4)
        with pytest.raises(ModbusException, match="server device failure"):
            master.read_input_registers(3, 0, 3)


def test_silent_address_goes_offline_after_three_failures() -> None:
    with rig(SimLed(3), reply_timeout_s=0.05) as (_sim, master):
        for _ in range(2):
            with pytest.raises(DeviceTimeout):
                master.read_input_registers(9, 0, 3)  # nobody at 9
        assert master.health(9).state is Health.UNKNOWN
        with pytest.raises(DeviceTimeout):
            master.read_input_registers(9, 0, 3)
        assert master.health(9).state is Health.OFFLINE
        assert master.read_input_registers(3, 0, 3)[0] & rm.ST_READY  # the bus is fine


@pytest.mark.parametrize("place", ["before", "after"])
def test_garbage_around_reply_is_recovered(place: str) -> None:
    with rig(SimLed(3)) as (sim, master):
        sim[3].faults.set(garbage=place, garbage_len=11)
        for _ in range(20):
            assert master.read_input_registers(3, rm.IR_KIND, 1) == (3,)
        sim[3].faults.clear()
        assert master.read_input_registers(3, rm.IR_KIND, 1) == (3,)
        assert master.stats["transactions"] == 21
        assert master.health(3).state is Health.ONLINE


def test_garbage_instead_of_reply_fails_cleanly() -> None:
    with rig(SimLed(3)) as (sim, master):
        sim[3].faults.set(garbage="instead", garbage_len=30)
        for _ in range(3):
            with pytest.raises((ProtocolError, DeviceTimeout)):
                master.read_input_registers(3, 0, 3)
        assert master.health(3).state is Health.OFFLINE
        sim[3].faults.clear()
        assert master.read_input_registers(3, rm.IR_KIND, 1) == (3,)
        assert master.health(3).state is Health.ONLINE


@pytest.mark.parametrize(("switch", "error"), [
    ({"bad_crc": True}, ProtocolError),
    ({"truncate": 6}, DeviceTimeout),
    ({"wrong_address": 4}, ProtocolError),
    ({"no_reply": True}, DeviceTimeout),
    ({"delay_s": 0.3}, DeviceTimeout),
])
def test_faulty_replies_raise_and_next_transaction_works(switch, error) -> None:
    with rig(SimLed(3), SimCallerKeypad(4)) as (sim, master):
        sim[3].faults.set(**switch)
        with pytest.raises(error):
            master.read_input_registers(3, 0, 3)
        sim[3].faults.clear()
        time.sleep(0.35)  # the late reply arrives now, with nobody waiting for it
        # the late or stray bytes of the bad reply must not be taken for these replies
        assert master.read_input_registers(4, rm.IR_KIND, 1) == (2,)
        assert master.read_input_registers(3, rm.IR_KIND, 1) == (3,)


def test_intermittent_faults_never_give_a_wrong_value() -> None:
    """30 % of replies garbled in random ways: every read either fails with our errors or
    returns exactly the right registers."""
    with rig(SimLed(3), reply_timeout_s=0.03) as (sim, master):
        led = sim[3]
        rng = random.Random(5)
        ok = 0
        for _ in range(150):
            switch = rng.choice([{"bad_crc": True}, {"garbage": "before"}, {"garbage": "after"},
                                 {"truncate": rng.randrange(1, 12)}, {"wrong_address": 7},
                                 {"garbage": "instead"}, {"no_reply": True}])
            led.faults.clear()
            led.faults.set(probability=0.3, **switch)
            try:
                regs = master.read_input_registers(3, 0, rm.IDENTITY_COUNT)
            except (ProtocolError, DeviceTimeout):
                continue
            assert regs[rm.IR_KIND] == 3 and regs[rm.IR_BOOT_ID] == led.boot_id
            ok += 1
        assert ok > 90


def test_port_vanishes_then_reopens_with_backoff() -> None:
    with rig(SimLed(3)) as (sim, master):
        sim.unplug()
        assert not os.path.exists(sim.path)
        with pytest.raises(DeviceGone):
            master.read_input_registers(3, 0, 3)
        assert not master.transport.is_open
        result: dict[str, float] = {}

        def reopen() -> None:
            ok = master.transport.reopen(give_up_s=10)
            result["ok"], result["at"] = ok, time.monotonic()

        thread = threading.Thread(target=reopen)
        thread.start()
        time.sleep(0.7)
        sim.plug()
        plugged = time.monotonic()
        thread.join(timeout=10)
        assert result["ok"] and result["at"] > plugged
        assert master.read_input_registers(3, rm.IR_KIND, 1) == (3,)


def test_reopen_backs_off_exponentially_to_its_cap() -> None:
    """The waits between attempts, read from the `stop` event reopen waits on (no clock)."""

    class Waits(threading.Event):
        def __init__(self) -> None:
            super().__init__()
            self.delays: list[float] = []

        def wait(self, timeout: float | None = None) -> bool:
            self.delays.append(timeout or 0.0)
            return len(self.delays) >= 8  # then give up, as if stopped

    transport = SerialTransport("/nonexistent/onestop-test-port", 9600, name="gone")
    stop = Waits()
    assert transport.reopen(stop) is False
    assert stop.delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0])


def test_one_lock_per_bus_under_threads() -> None:
    """Two threads transacting on one master never interleave frames."""
    with rig(SimLed(3), SimCallerKeypad(4)) as (_sim, master):
        errors: list[BaseException] = []

        def hammer(address: int, kind: int) -> None:
            try:
                for _ in range(100):
                    assert master.read_input_registers(address, rm.IR_KIND, 1) == (kind,)
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=hammer, args=a) for a in ((3, 3), (4, 2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert not errors and master.stats["transactions"] == 200


def test_random_bytes_on_the_line_do_not_stop_the_simulator() -> None:
    """64 KiB of noise straight into the slave side, valid requests after it are answered."""
    with rig(SimLed(3)) as (sim, master):
        rng = random.Random(99)
        for _ in range(64):
            master.transport.write(rng.randbytes(1024))
        time.sleep(0.05)
        master.transport.read_until_quiet(0.05, time.monotonic() + 1)
        for _ in range(5):
            assert master.read_input_registers(3, rm.IR_KIND, 1) == (3,)
        assert sim.stats["garbage_in"] > 60_000


def test_read_count_zero_is_illegal_value() -> None:
    with rig(SimLed(3)) as (_sim, master):
        transport = master.transport
        transport.write(mb.with_crc(b"\x03\x04\x00\x00\x00\x00"))
        assert transport.read_exact(5, time.monotonic() + 1) == mb.encode_exception(3, 4, 3)


def test_command_0_is_stored_and_does_nothing() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        master.write_registers(1, rm.HR_COMMAND, [rm.CMD_OPEN, 5, 30, 30, 0])
        sim[1].press_level(4)
        master.write_register(1, rm.HR_COMMAND, rm.CMD_NONE)
        assert sim[1].window == 5 and sim[1].pending == 4 and sim[1].seq == 0
        assert master.read_holding_registers(1, rm.HR_COMMAND, 1) == (rm.CMD_NONE,)


def test_command_1_written_alone_opens_with_the_stored_parameters() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        master.write_registers(1, rm.HR_REQUEST_ID, [77, 20, 10])  # no COMMAND: stored only
        assert sim[1].window == 0
        master.write_register(1, rm.HR_COMMAND, rm.CMD_OPEN)
        assert sim[1].window == 77
        assert master.read_input_registers(1, rm.IR_ACTIVE_REQUEST, 1) == (77,)
