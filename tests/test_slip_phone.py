"""A 承诺单 as its phone page shows it (the service's view, on a real store): status, promised
date, each department's part of a 联办件, what to bring and where and when to collect; nothing
personal. The page and its capability are tested against a hub process beside the ticket's."""

from __future__ import annotations

import msgspec
import pytest

from hub import shapes
from hub.engine import NotFound
from hub.hall_file.text import parse_text
from hub.service import HallService
from tests.hubproc import HALL_24H
from tests.test_slips import clerk_at, finished_slip, joint_slip
from tests.test_store import (  # noqa: F401 - fixtures
    SUPER,
    clock,
    reopen,
    service,
)


def test_a_commitment_slip_says_its_promise_and_how_to_collect_it(service):  # noqa: F811
    slip = finished_slip(service)
    view = service.slip_for_phone.view(slip)
    assert (view["number"], view["kind"], view["status"]) == (slip, "commitment", "accepted")
    assert view["status_name"] == "受理" and view["promised_date"] and not view["overdue"]
    assert view["parts"] == [] and view["collectable"] is False
    collect = view["collect"]
    assert collect["service"] == view["service"] and collect["windows"]
    assert [b["text"] for b in collect["bring"]][1] == "申请人有效身份证件"
    assert collect["bring"][1]["text_en"] == "the applicant's valid ID"
    service.set_slip_status(SUPER, slip, "ready")
    assert service.slip_for_phone.view(slip)["collectable"] is True
    # No person: no clerk, no citizen, no ticket id in what the phone gets.
    text = msgspec.json.encode(view).decode()
    assert "clerk" not in text and view.keys().isdisjoint({"ticket_id", "phone", "name"})


def test_a_joint_case_shows_each_departments_part(service):  # noqa: F811
    slip = joint_slip(service)
    service.part_done(clerk_at(service, 3), slip)  # 公安 (GA) done
    view = service.slip_for_phone.view(slip)
    assert view["kind"] == "joint" and view["status"] == "in_progress"
    assert [(p["department"], p["name"], p["done"]) for p in view["parts"]] == [
        ("SCJG", "市市场监督管理局", False), ("GA", "市公安局", True),
        ("SLSD", "受理送达处", False)]
    assert reopen(service).slip_for_phone.view(slip)["parts"] == view["parts"]
    # The shape the API documents (hub/shapes: SlipForPhone), as JSON goes out.
    msgspec.json.decode(msgspec.json.encode(view), type=shapes.SlipForPhone)


def test_an_unknown_slip_is_not_found(service):  # noqa: F811
    with pytest.raises(NotFound):
        service.slip_for_phone.view("CN404")


def test_the_halls_collection_item_says_what_to_bring_where_and_when(db, clock):  # noqa: F811
    """`[citizen] collect_service` names the 办结取件 item: its materials, windows and hours."""
    text = HALL_24H.read_text(encoding="utf-8") + '\n[citizen]\ncollect_service = "S3"\n'
    hall = HallService(parse_text(text), db, clock=clock)
    slip = finished_slip(hall)
    collect = hall.slip_for_phone.view(slip)["collect"]
    s3 = hall.cfg.service("S3")
    assert collect["service"] == "S3" and collect["service_name"] == s3.name
    assert [b["text"] for b in collect["bring"]] == list(s3.materials)
    assert [w["no"] for w in collect["windows"]] == [3, 4]  # the windows that serve S3
    assert collect["periods"] == [["00:00", "24:00"]]


@pytest.mark.parametrize(("section", "problem"), [
    ('collect_service = "S9"', "citizen.collect_service"),
    ("take_per_device_per_day = -1", "citizen.take_per_device_per_day"),
    ("take_per_address_per_day = 100000", "citizen.take_per_address_per_day"),
])
def test_the_citizen_section_is_checked(section, problem):
    text = HALL_24H.read_text(encoding="utf-8") + f"\n[citizen]\n{section}\n"
    with pytest.raises(ValueError, match=problem.replace(".", r"\.")):
        parse_text(text)
