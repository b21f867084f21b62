"""Text and register helpers of the register map (pure)."""

from __future__ import annotations

from devices import regmap as rm


def test_gb2312_two_bytes_per_register_high_first() -> None:
    data = rm.encode_text("李明", 32)
    assert data == bytes.fromhex("c0eec3f7")
    assert rm.text_to_registers(data) == [0xC0EE, 0xC3F7]
    assert rm.text_to_registers(b"A", 2) == [0x4100, 0]  # odd length padded with 0x00


def test_round_trip_mixed_text() -> None:
    text = "请A001号到3号窗口（综合受理）"
    data = rm.encode_text(text, 64)
    assert rm.decode_text(rm.registers_to_bytes(rm.text_to_registers(data), len(data))) == text


def test_outside_gb2312_becomes_box() -> None:
    assert rm.decode_text(rm.encode_text("王堃😀€", 64)) == "王□□□"
    assert rm.decode_text(rm.encode_text("a\tb\nc\x00", 64)) == "a b\nc "


def test_cut_at_character_boundary() -> None:
    data = rm.encode_text("A" + "窗" * 40, 64)
    assert len(data) == 63  # 1 + 31 x 2: the 32nd hanzi would split
    assert rm.decode_text(data) == "A" + "窗" * 31


def test_text_crc_is_crc16_modbus() -> None:
    assert rm.text_crc(b"123456789") == 0x4B37
    assert rm.text_crc(b"") == 0xFFFF


def test_ring_slot_holds_across_wrap() -> None:
    assert rm.ring_slot(1) == 1 and rm.ring_slot(8) == 0
    assert rm.ring_slot(0xFFFF) == 7 and rm.ring_slot(0) == 0  # 65535 then 0: consecutive slots


def test_caller_key_hub_names() -> None:
    assert [k.hub_key for k in rm.CallerKey] == [
        "call-next", "recall", "skip", "pause", "transfer", "finish", "request-rating"]


def test_block_sizes_fit_one_transaction() -> None:
    assert rm.HR_RATING_END - rm.HR_COMMAND == 21
    assert rm.HR_LED_END - rm.HR_EFFECT == 34
    assert rm.RING_COUNT == 24
