"""Independent check that our bytes are standard Modbus RTU: pymodbus's own serial client
drives the simulator over the pty (reads and writes), and our master reads what it wrote."""

from __future__ import annotations

import pytest

from devices import regmap as rm
from devices.sim import SimBus, SimCallerKeypad, SimLed, SimRatingKeypad

pymodbus_client = pytest.importorskip("pymodbus.client")


@pytest.fixture
def client_and_sim():
    with SimBus([SimRatingKeypad(1), SimCallerKeypad(2), SimLed(3)], baud=19200) as sim:
        client = pymodbus_client.ModbusSerialClient(port=sim.path, baudrate=19200, timeout=1,
                                                    retries=0)
        assert client.connect()
        try:
            yield client, sim
        finally:
            client.close()


def test_pymodbus_reads_identity_and_ring(client_and_sim) -> None:
    client, sim = client_and_sim
    result = client.read_input_registers(0, count=rm.IDENTITY_COUNT, device_id=1)
    assert not result.isError()
    assert result.registers[rm.IR_KIND] == 1 and result.registers[rm.IR_BOOT_ID] == sim[1].boot_id
    sim[2].press(rm.CallerKey.TRANSFER)
    ring = client.read_input_registers(rm.IR_RING, count=rm.RING_COUNT, device_id=2)
    assert ring.registers[3:6] == [1, rm.CallerKey.TRANSFER << 8, 0]


def test_pymodbus_writes_led_text_and_rating_window(client_and_sim) -> None:
    client, sim = client_and_sim
    data = rm.encode_text("请A001号到3号窗口", rm.LED_TEXT_BYTES)
    regs = [rm.EFFECT_STATIC, len(data), *rm.text_to_registers(data)]
    assert not client.write_registers(rm.HR_EFFECT, regs, device_id=3).isError()
    assert sim[3].text == "请A001号到3号窗口"
    crc = client.read_input_registers(rm.IR_CHANGE, count=1, device_id=3).registers[0]
    assert crc == rm.text_crc(data)
    assert not client.write_register(rm.HR_BRIGHTNESS, 30, device_id=3).isError()
    held = client.read_holding_registers(rm.HR_BRIGHTNESS, count=1, device_id=3)
    assert held.registers == [30]

    block = [rm.CMD_OPEN, 900, 30, 0, 0, *[0] * 16]
    assert not client.write_registers(rm.HR_COMMAND, block, device_id=1).isError()
    assert sim[1].window == 900


def test_pymodbus_sees_our_exception_responses(client_and_sim) -> None:
    client, _sim = client_and_sim
    result = client.read_input_registers(rm.IR_RING, count=1, device_id=3)  # LED: no ring
    assert result.isError() and result.exception_code == 2
    result = client.write_register(rm.HR_BRIGHTNESS, 101, device_id=3)
    assert result.isError() and result.exception_code == 3


def test_our_requests_are_byte_identical_to_pymodbus() -> None:
    """The master side too: pymodbus's RTU framer builds the same bytes as our encoder."""
    from pymodbus.framer import FramerRTU
    from pymodbus.pdu import DecodePDU
    from pymodbus.pdu import register_message as rmsg

    from devices import modbus as mb

    framer = FramerRTU(DecodePDU(False))
    pairs = [
        (rmsg.ReadInputRegistersRequest(dev_id=1, address=0, count=3),
         mb.read_request(1, mb.FC_READ_INPUT, 0, 3)),
        (rmsg.ReadHoldingRegistersRequest(dev_id=247, address=0x100, count=125),
         mb.read_request(247, mb.FC_READ_HOLDING, 0x100, 125)),
        (rmsg.WriteSingleRegisterRequest(dev_id=3, address=0x100, registers=[0xBEEF]),
         mb.write_single(3, 0x100, 0xBEEF)),
        (rmsg.WriteMultipleRegistersRequest(dev_id=2, address=0x101, registers=[1, 2, 0xFFFF]),
         mb.write_multiple(2, 0x101, [1, 2, 0xFFFF])),
    ]
    for theirs, ours in pairs:
        assert framer.buildFrame(theirs) == mb.encode_request(ours)
