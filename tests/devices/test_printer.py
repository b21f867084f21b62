"""Receipt printer: ticket/slip bytes decoded back (GBK text, GS !, GS V, FS &, QR via zbar,
CODE128), wrapping widths, the DLE EOT status parser, and the driver against the pty simulator."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pytest

from devices.errors import DeviceError
from devices.printer import layout, status
from devices.printer.driver import FileTransport, PrinterDriver, PrinterError
from devices.printer.sim import SimPrinter, decode, raster_images, text_of
from devices.transport import SerialTransport
from tests.devices.helpers import wait_until

TICKET = layout.Ticket(
    ticket_id="T20261124-A012-7F3C", number="A012", center_name="某某市政务服务中心",
    center_name_en="XX City Government Service Center", item="办理营业执照（设立登记）",
    windows=("3号窗口", "5号窗口"), ahead=4, issued_at=datetime(2026, 11, 24, 9, 30, 5),
    materials=("身份证原件及复印件（正反面）一份，须本人签字确认", "营业执照申请书🙂",
               "A long English material name that certainly needs wrapping across lines"))
SLIP = layout.CommitmentSlip(
    slip_no="CN20261124-0007", center_name="某某市政务服务中心", item="食品经营许可",
    accepted_at=datetime(2026, 11, 24, 9, 30), promised_date=date(2026, 12, 1),
    promised=("５个工作日内办结", "免费邮寄证照"))
PAPERS = ["58mm", "80mm"]


@pytest.mark.parametrize("paper", PAPERS)
def test_ticket_text_is_gbk(paper: str) -> None:
    data = layout.ticket_bytes(TICKET, paper)
    assert data.startswith(b"\x1b@\x1c&")  # ESC @ then FS & (Chinese mode)
    assert "请您留意叫号".encode("gbk") in data
    assert "：".encode("gbk") == b"\xa3\xba" and b"\xa3\xba" in data
    text = text_of(data)
    assert "某某市政务服务中心" in text and TICKET.center_name_en in text
    assert "办理营业执照（设立" in text and "前面等候：4人" in text
    assert "3号窗口、5号窗口" in text and "2026-11-24 09:30:05" in text
    assert "?" not in text
    assert "营业执照申请书" + layout.SUBSTITUTE in text  # the emoji, substituted
    assert b"\x1bt" not in data  # escpos never got to switch code pages


@pytest.mark.parametrize(("paper", "n"), [("58mm", 3), ("80mm", 4)])
def test_number_enlarged_with_gs_bang(paper: str, n: int) -> None:
    ops = decode(layout.ticket_bytes(TICKET, paper))
    i = next(k for k, op in enumerate(ops) if op.kind == "text" and "A012" in op.value)
    sizes = [op.raw for op in ops[:i] if op.kind == "cmd" and op.value[0] == "GS !"]
    assert sizes[-1] == b"\x1d!" + bytes(((n - 1) << 4 | (n - 1),))
    after = [op.raw for op in ops[i:] if op.kind == "cmd" and op.value[0] == "GS !"]
    assert after[0] == b"\x1d!\x00"


def test_cut_only_with_cutter() -> None:
    t80, t58 = layout.ticket_bytes(TICKET, "80mm"), layout.ticket_bytes(TICKET, "58mm")
    cuts80 = [op for op in decode(t80) if op.kind == "cmd" and op.value[0] == "GS V"]
    cuts58 = [op for op in decode(t58) if op.kind == "cmd" and op.value[0] == "GS V"]
    assert len(cuts80) == 1 and t80.endswith(cuts80[0].raw)
    assert cuts58 == [] and t58.endswith(b"\x1bd\x04")
    s58 = layout.slip_bytes(SLIP, "58mm")
    assert not any(op.value[0] == "GS V" for op in decode(s58) if op.kind == "cmd")
    assert layout.slip_bytes(SLIP, "80mm").endswith(layout.CUT_FULL)


@pytest.mark.parametrize(("paper", "dots"), [("58mm", 384), ("80mm", 576)])
def test_qr_decodes_to_ticket_id_and_is_centred(paper: str, dots: int) -> None:
    from PIL import Image
    from pyzbar import pyzbar

    [(w, h, rows)] = raster_images(layout.ticket_bytes(TICKET, paper))
    assert w == dots
    img = Image.frombytes("1", (w, h), rows)  # raster: 1 = black; PIL "1": 1 = white
    img = Image.eval(img.convert("L"), lambda v: 255 - v)
    canvas = Image.new("L", (w + 40, h + 40), 255)
    canvas.paste(img, (20, 20))
    found = pyzbar.decode(canvas)
    assert [f.data.decode() for f in found] == [TICKET.ticket_id]
    left, right = found[0].rect.left - 20, w - (found[0].rect.left - 20 + found[0].rect.width)
    assert abs(left - right) <= 2 * layout.paper(paper).qr_box + 8


@pytest.mark.parametrize("paper", PAPERS)
def test_slip(paper: str) -> None:
    data = layout.slip_bytes(SLIP, paper)
    assert data.startswith(b"\x1b@\x1c&")
    [(m, payload)] = [op.value for op in decode(data) if op.kind == "barcode"]
    assert m == 73 and payload == b"{B" + SLIP.slip_no.encode()  # GS k CODE128, code set B
    text = text_of(data)
    for want in ("承诺单", f"单号：{SLIP.slip_no}", "办理事项：食品经营许可",
                 "承诺办结：2026年12月01日", "５个工作日内办结", "查询办理进度"):
        assert want in text.replace("\n", "") if want == "查询办理进度" else want in text
    assert "?" not in text


def test_slip_number_must_be_ascii() -> None:
    with pytest.raises(ValueError, match="CODE128"):
        layout.slip_bytes(layout.CommitmentSlip("单号1", "c", "i", datetime(2026, 1, 1),
                                                date(2026, 1, 2)))


def _cols(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize(("paper", "columns"), [("58mm", 32), ("80mm", 48)])
def test_wrapped_lines_fit(paper: str, columns: int) -> None:
    for data in (layout.ticket_bytes(TICKET, paper), layout.slip_bytes(SLIP, paper)):
        ops = decode(data)
        small = False
        for op in ops:
            if op.kind == "cmd" and op.value[0] == "ESC M":
                small = op.value[1] == b"\x01"  # font B lines are narrower: not counted
            if op.kind == "text" and not small:
                for line in op.value.split("\n"):
                    assert _cols(line) <= columns, line
                    assert layout.width(line) <= columns, line


def test_wrap_rules() -> None:
    lines = layout.wrap("一二三四五六七八九十，好", 20)
    assert lines == ["一二三四五六七八九", "十，好"]  # no line starts with "，"
    lines = layout.wrap("材料" * 30, 32, indent=3, first_prefix="1. ")
    assert lines[0].startswith("1. ") and all(x.startswith("   ") for x in lines[1:])
    assert all(layout.width(x) <= 32 for x in lines)
    assert layout.encode("😀") == layout.SUBSTITUTE.encode("gbk")


# --- status ---------------------------------------------------------------------------------

def test_status_requests() -> None:
    assert [status.request(n) for n in status.ALL] == [
        b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04"]


@pytest.mark.parametrize(("replies", "attrs", "ready"), [
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}, {}, True),
    ({1: 0x1A}, {"online": False}, False),
    ({1: 0x1A, 2: 0x16}, {"online": False, "cover_open": True}, False),
    ({1: 0x1A, 2: 0x32, 4: 0x72}, {"online": False, "paper_out": True}, False),
    ({4: 0x1E}, {"paper_near_end": True}, True),
    ({1: 0x1A, 2: 0x52, 3: 0x32}, {"online": False, "error": True,
                                     "unrecoverable_error": True}, False),
    ({3: 0x1A}, {"error": True, "cutter_error": True}, False),
    ({3: 0x52}, {"error": True, "auto_recoverable_error": True}, False),
    ({3: 0x16}, {"error": True, "recoverable_error": True}, False),
    ({1: 0x52}, {"feed_button": True}, True),
])
def test_status_parser(replies: dict[int, int], attrs: dict[str, bool], ready: bool) -> None:
    st = status.parse(replies)
    for name in ("online", "cover_open", "paper_out", "paper_near_end", "error",
                 "cutter_error", "unrecoverable_error", "feed_button"):
        assert getattr(st, name) == attrs.get(name, name == "online"), name
    assert st.ready == ready
    assert bool(st.problems()) == (not ready)


def test_status_parser_rejects_non_status_bytes() -> None:
    with pytest.raises(ValueError, match="not a status byte"):
        status.parse({1: 0x41})


def test_status_encode_roundtrip() -> None:
    st = status.parse(status.encode(paper_out=True, paper_near_end=True))
    assert st.paper_out and st.paper_near_end and not st.online and not st.ready
    assert "缺纸" in st.describe()


# --- driver against the simulator -----------------------------------------------------------

@pytest.fixture
def sim_driver():
    with SimPrinter() as sim:
        driver = PrinterDriver(SerialTransport(sim.path, 115200), "58mm",
                               status_timeout_s=0.3)
        try:
            driver.transport.open()
            yield sim, driver
        finally:
            driver.close()


def test_driver_prints_over_pty(sim_driver) -> None:
    sim, driver = sim_driver
    st = driver.print_ticket(TICKET)
    assert st is not None and st.ready
    job = layout.ticket_bytes(TICKET, "58mm")
    wait_until(lambda: len(sim.data()) >= len(job))
    assert sim.data() == job
    assert sim.queries[:4] == [1, 2, 3, 4]


def test_driver_paper_out(sim_driver) -> None:
    sim, driver = sim_driver
    sim.faults.paper_out = True
    with pytest.raises(PrinterError, match="缺纸") as info:
        driver.print_ticket(TICKET)
    assert isinstance(info.value, DeviceError)
    assert info.value.status is not None and info.value.status.paper_out
    assert sim.data() == b""  # nothing printed


@pytest.mark.parametrize(("fault", "message"), [
    ("offline", "脱机"), ("cover_open", "cover open"), ("no_reply", "did not answer")])
def test_driver_faults(sim_driver, fault: str, message: str) -> None:
    sim, driver = sim_driver
    setattr(sim.faults, fault, True)
    with pytest.raises(PrinterError, match=message):
        driver.print_slip(SLIP)
    setattr(sim.faults, fault, False)
    driver.print_slip(SLIP)  # recovers once the fault is cleared


def test_driver_near_end_is_a_warning(sim_driver) -> None:
    sim, driver = sim_driver
    sim.faults.paper_near_end = True
    st = driver.print_ticket(TICKET)
    assert st is not None and st.paper_near_end


def test_driver_to_plain_file(tmp_path) -> None:
    path = tmp_path / "lp0"
    path.write_bytes(b"")
    driver = PrinterDriver(FileTransport(str(path)), "80mm", status_timeout_s=0.05,
                           require_status=False)
    with driver:
        driver.print_ticket(TICKET)
    data = SimPrinter.read_file(str(path))
    assert data.endswith(layout.ticket_bytes(TICKET, "80mm"))
    strict = PrinterDriver(FileTransport(str(path)), "80mm", status_timeout_s=0.05,
                           require_status=True)
    with strict, pytest.raises(PrinterError, match="plain file"):
        strict.print_ticket(TICKET)


def test_a_file_target_prints_by_default_even_before_it_exists(tmp_path) -> None:
    """A plain file (a spool, a capture) cannot answer DLE EOT: it is neither asked (the
    request would land in the file) nor required to answer, and it is created if missing."""
    path = tmp_path / "spool" / "tickets.prn"
    path.parent.mkdir()
    for _ in range(2):
        with PrinterDriver.open(str(path), "58mm") as driver:
            assert isinstance(driver.transport, FileTransport)
            assert driver.print_ticket(TICKET) is None
    assert path.read_bytes() == layout.ticket_bytes(TICKET, "58mm") * 2  # appended, nothing else


def test_which_targets_are_serial_ports(tmp_path) -> None:
    from devices.printer.driver import is_serial_target, transport_for

    with SimPrinter() as sim:  # a pty behind a symlink, as /dev/serial/by-id/... is
        assert is_serial_target(sim.path)
    for serial in ("socket://10.0.0.50:9100", "/dev/serial/by-id/usb-absent-if00-port0",
                   "/dev/ttyUSB7", "/dev/ttyS0", "/dev/rfcomm0", "/dev/receipt-printer"):
        assert is_serial_target(serial), serial
        assert isinstance(transport_for(serial), SerialTransport)
    for file in ("/dev/usb/lp0", "/dev/lp0", "/dev/usblp1", str(tmp_path / "absent.prn"),
                 "tickets.prn"):
        assert not is_serial_target(file), file
        assert isinstance(transport_for(file), FileTransport)


def test_a_missing_device_node_is_not_created(tmp_path) -> None:
    """An unplugged usblp printer: its node is gone, and must not come back as a plain file
    that swallows every ticket."""
    import os

    from devices.printer.driver import transport_for

    node = f"/dev/shm/onestop-test-lp-{os.getpid()}"  # under /dev, and writable in a test
    try:
        for driver in (PrinterDriver(FileTransport(node)), PrinterDriver(transport_for(node))):
            with pytest.raises(DeviceError, match="open failed"):
                driver.print_ticket(TICKET)
            assert not os.path.exists(node)
    finally:
        if os.path.exists(node):
            os.unlink(node)


def test_network_printer_that_dropped_its_connection_prints_the_next_ticket() -> None:
    """A network printer closes its connection (switched off and on, an idle timeout): the
    next job finds out at the status request, before any of it is sent, reconnects at once
    and prints it, once."""
    from devices.printer.driver import transport_for
    from devices.printer.sim import NetSimPrinter

    with NetSimPrinter() as net:
        driver = PrinterDriver(transport_for(net.url), "58mm", status_timeout_s=0.5)
        try:
            assert driver.require_status  # a network printer answers DLE EOT
            driver.print_ticket(TICKET)
            job = layout.ticket_bytes(TICKET, "58mm")
            wait_until(lambda: net.data() == job)
            net.drop()
            wait_until(lambda: net.connected() == 0)
            st = driver.print_ticket(TICKET)  # no PrinterError, no DeviceError
            assert st is not None and st.ready
            wait_until(lambda: len(net.data()) >= 2 * len(job))
            assert net.data() == job * 2  # the second ticket once, nothing repeated
            assert net.accepted == 2
        finally:
            driver.close()


def test_a_network_printer_that_is_gone_fails_the_job_after_one_reconnect() -> None:
    from devices.printer.driver import transport_for
    from devices.printer.sim import NetSimPrinter

    net = NetSimPrinter().start()
    driver = PrinterDriver(transport_for(net.url), "80mm", status_timeout_s=0.3)
    try:
        driver.print_slip(SLIP)
        net.stop()  # switched off: the connection ends and nobody listens any more
        with pytest.raises(DeviceError):
            driver.print_slip(SLIP)
        assert net.accepted == 1
    finally:
        driver.close()


@pytest.mark.parametrize(("paper", "columns"), [("58mm", 42), ("80mm", 64)])
def test_english_comes_second_in_the_small_font(paper: str, columns: int) -> None:
    from dataclasses import replace

    ticket = replace(TICKET, item_en="Business licence (registration of a new company)",
                     windows_en="Windows 3, 5")
    ops = decode(layout.ticket_bytes(ticket, paper))
    text = "".join(str(op.value) for op in ops if op.kind == "text")
    assert text.index("办理事项") < text.index("Your number A012") < text.index("请您留意叫号")
    assert "Go to Windows 3, 5; 4 ahead of you." in text
    assert "if you miss your call, take a new ticket." in text.replace("\n", " ")
    # Every English line is printed in font B and fits its narrower glyphs.
    font = "A"
    for op in ops:
        if op.kind == "cmd" and op.value[0] == "ESC M":
            font = "B" if op.value[1] == b"\x01" else "A"
        elif op.kind == "text" and ("Your number" in op.value or "Go to" in op.value):
            assert font == "B"
            assert all(len(ln) <= columns for ln in str(op.value).splitlines())
    assert "Your number" not in text_of(layout.ticket_bytes(TICKET, paper))  # no item_en
    slip = text_of(layout.slip_bytes(replace(SLIP, item_en="Food business licence"), paper))
    assert "Commitment slip CN20261124-0007: Food business licence" in slip.replace("\n", " ")
    assert "Promised by 2026-12-01." in slip


# --- python-escpos's temp directory -------------------------------------------------------

@pytest.mark.parametrize("pickle_dir", [False, True])
def test_importing_the_printer_leaves_nothing_in_tmp(tmp_path, pickle_dir: bool) -> None:
    """python-escpos 3.1 makes a /tmp/tmpXXXX with its capabilities pickle at import, even
    with ESCPOS_CAPABILITIES_PICKLE_DIR set; a printing process must not leave it behind."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("ESCPOS_CAPABILITIES_PICKLE_DIR", None)
    if pickle_dir:
        env["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(tmp_path / "cache")
        (tmp_path / "cache").mkdir()
    code = ("import devices.printer as p, escpos.printer\n"
            "from tests.devices.test_printer import TICKET\n"
            "assert p.ticket_bytes(TICKET, '58mm').startswith(b'\\x1b@')\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])
    assert sorted(p.name for p in scratch.rglob("*")) == []
