"""The example hall's tickets as they come off the paper, on 58 mm and 80 mm.

Real tickets issued by a HallService on config/hall.example.toml (a fixed Tuesday morning),
turned into the print job the hub sends (hub/web/print_docs.ticket_doc), read by the agent
(agent/printing.ticket_from), laid out as ESC/POS bytes and decoded back. Every printed line
must fit the paper in the font and size in force (a printer breaks an overlong line wherever it
is full, mid-word), English must break between words, and the windows are named by number.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from agent.printing import ticket_from
from devices.printer import layout
from devices.printer.sim import decode, text_of
from hub.config import load_config
from hub.service import HallService
from hub.store.database import Database
from hub.web.print_docs import ticket_doc
from tests.test_store import KIOSK, Clock

EXAMPLE_HALL = Path(__file__).resolve().parents[1] / "config" / "hall.example.toml"
TUESDAY_10AM = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # 10:00 Asia/Shanghai


@pytest.fixture(scope="module")
def hall(tmp_path_factory) -> tuple[HallService, list[dict]]:
    """One ticket of every item of the example hall."""
    db = Database(tmp_path_factory.mktemp("hall") / "onestop.db")
    db.migrate()
    service = HallService(load_config(EXAMPLE_HALL), db, clock=Clock(TUESDAY_10AM))
    tickets = [service.issue_ticket(KIOSK, s.code) for s in service.cfg.services]
    yield service, tickets
    db.close()


def printed_lines(job: bytes) -> list[tuple[str, int]]:
    """(text, width in dots) of every printed line, in the font and GS ! size in force."""
    font_dots, magnify = layout.FONT_A_DOTS, 1
    lines: list[tuple[str, int]] = []
    text, used = "", 0
    for op in decode(job):
        if op.kind == "cmd":
            name, arg = op.value  # type: ignore[misc]
            if name == "ESC @":
                font_dots, magnify = layout.FONT_A_DOTS, 1
            elif name == "ESC M":
                font_dots = layout.FONT_B_DOTS if arg[0] & 1 else layout.FONT_A_DOTS
            elif name == "GS !":
                magnify = (arg[0] >> 4) + 1
        elif op.kind == "text":
            *done, rest = str(op.value).split("\n")
            for part in done:
                lines.append((text + part, used + layout.dots(part, font_dots, magnify)))
                text, used = "", 0
            text += rest
            used += layout.dots(rest, font_dots, magnify)
    return lines


@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_every_line_of_every_ticket_fits_the_paper(hall, paper: str) -> None:
    service, tickets = hall
    limit = layout.paper(paper).dots
    for ticket in tickets:
        doc = ticket_doc(service.cfg, ticket, materials=True)
        job = layout.ticket_bytes(ticket_from(doc), paper)
        for line, used in printed_lines(job):
            assert used <= limit, f"{ticket['service']} on {paper}: {line!r} is {used} dots"
        flat = re.sub(r"\s+", "", text_of(job))
        for material in service.cfg.service(ticket["service"]).materials:
            assert re.sub(r"\s+", "", material) in flat  # wrapped, never cut short


@pytest.mark.parametrize(("paper", "lines"), [
    ("58mm", ["Jinzhou Public Administrative Service", "Center"]),
    ("80mm", ["Jinzhou Public Administrative Service Center"]),
])
def test_the_english_center_name_breaks_between_words(hall, paper: str,
                                                      lines: list[str]) -> None:
    service, tickets = hall
    assert len(service.cfg.center.name_en) == 44  # 42 font B columns on 58 mm: it must wrap
    job = layout.ticket_bytes(ticket_from(ticket_doc(service.cfg, tickets[0], False)), paper)
    printed = [text for text, _ in printed_lines(job)]
    at = printed.index(lines[0])
    assert printed[at:at + len(lines)] == lines


def test_windows_are_printed_with_their_numbers(hall) -> None:
    """Windows 14 and 15 are both 不动产登记: the ticket says which is which."""
    service, tickets = hall
    [estate] = [t for t in tickets if t["service"] == "ZRZY-03"]
    assert estate["windows"] == [14, 15]
    doc = ticket_doc(service.cfg, estate, materials=False)
    assert doc["windows"] == ["14号窗口·不动产登记", "15号窗口·不动产登记"]
    for paper in ("58mm", "80mm"):
        text = "".join(text_of(layout.ticket_bytes(ticket_from(doc), paper)).split())
        assert "办理窗口：14号窗口·不动产登记、15号窗口·不动产登记" in text
        assert "GotoWindows14,15" in text


@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_an_elderly_citizens_ticket_says_priority_under_its_number(hall, paper: str) -> None:
    """刷身份证取号: an elderly card's ticket (channel `elderly`) prints 适老优先 and its English
    right under the number, within the paper; an ordinary ticket does not."""
    service, tickets = hall
    elderly = {**tickets[0], "channel": "elderly"}
    job = layout.ticket_bytes(ticket_from(ticket_doc(service.cfg, elderly, False)), paper)
    printed = [text for text, _ in printed_lines(job)]
    at = printed.index(elderly["number"])
    assert printed[at + 1:at + 3] == ["适老优先", "Priority (senior)"]
    assert all(used <= layout.paper(paper).dots for _, used in printed_lines(job))
    plain = layout.ticket_bytes(ticket_from(ticket_doc(service.cfg, tickets[0], False)), paper)
    assert "适老" not in text_of(plain)


@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_every_line_of_a_commitment_slip_fits_the_paper(hall, paper: str) -> None:
    service, _tickets = hall
    for svc in service.cfg.services:
        slip = layout.CommitmentSlip(
            slip_no="CN" + "2026112400000000000000000000000000000001"[:38],  # the longest
            center_name=service.cfg.center.name, item=svc.name, item_en=svc.name_en,
            accepted_at=dt.datetime(2026, 11, 24, 10, 0), promised_date=dt.date(2026, 12, 1),
            promised=list(svc.materials))
        job = layout.slip_bytes(slip, paper)
        for line, used in printed_lines(job):
            assert used <= layout.paper(paper).dots, f"{svc.code}: {line!r} is {used} dots"
        assert slip.slip_no in "".join(text_of(job).split())
