"""Supervision cases in the store, in process: a case opens in the transaction of its 差评 or
complaint whatever path committed it, its row follows its steps and survives restarts and day
rollovers, and the reads the office and the overdue check make of it. On SQLite, and on
PostgreSQL where one can run (tests/pgredis.py)."""

from __future__ import annotations

import pytest

from hub.auth import Principal, Role
from hub.engine.casework import Case
from hub.engine.model import CaseStatus
from hub.runtime import open_database
from hub.service import HallService
from hub.store.accounts import Accounts
from hub.store.cases import CaseFilter, Cases
from tests.hubproc import PASSWORD
from tests.test_store import KIOSK, START, SUPER, Clock, reopen, rows, sign_in

S = CaseStatus


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(cfg, db, clock) -> HallService:
    return HallService(cfg, db, clock=clock)


def complain(hall: HallService, **kw) -> str:
    body = {"category": "attitude", "text": "态度生硬，电话 13800000000", **kw}
    return hall.file_complaint(KIOSK, body)["id"]


def only_case(hall: HallService) -> Case:
    found, _ = Cases(hall.db).page(CaseFilter())
    assert len(found) == 1
    return found[0]


def step(hall: HallService, case_id: str, action: str, who: Principal = SUPER, **fields):
    cases = Cases(hall.db)

    def decide(state, now):
        return hall.engine.case_step(state, now, cases.get(case_id), action, fields,
                                     who.name, who.role.value, case_id)

    return hall.execute(who, decide)


def test_a_complaint_and_its_case_commit_together_and_the_row_follows_each_step(service,
                                                                               db_path, clock):
    complaint = complain(service, window=1)
    case = only_case(service)
    assert (case.kind, case.source, case.complaint_id, case.status, case.window_no) == (
        "complaint", "kiosk", complaint, S.PENDING, 1)
    assert "13800000000" not in case.summary
    assert Cases(service.db).complaint_contact(case) is None  # no phone field given
    seqs = rows(db_path, "SELECT seq, type FROM events WHERE type IN "
                         "('complaint.filed', 'case.opened') ORDER BY seq")
    assert [t for _, t in seqs] == ["complaint.filed", "case.opened"]
    assert seqs[1][0] == seqs[0][0] + 1  # one transaction, one after the other
    clock.advance(hours=1)
    step(service, case.case_id, "callback", result="已联系", reached=True, attachments=["录音"])
    step(service, case.case_id, "rectify", cause="解释不清", plan="培训")
    step(service, case.case_id, "rectified", fix="已培训")
    step(service, case.case_id, "close", reply="已反馈", verdict="founded")
    done = Cases(service.db).get(case.case_id)
    assert done is not None
    assert (done.status, done.verdict, done.closed_at) == (S.CLOSED, "founded", clock.now)
    steps = Cases(service.db).steps(case.case_id)
    assert [(s["action"], s["status"], s["by"]) for s in steps] == [
        ("callback", "called_back", "super"), ("rectify", "rectifying", "super"),
        ("rectified", "rectified", "super"), ("close", "closed", "super")]
    assert steps[0]["result"] == "已联系" and steps[0]["attachments"] == ["录音"]
    assert steps[0]["previous"] == "pending"
    assert rows(db_path, "SELECT is_open, next_due FROM cases") == [(0, None)]


def test_a_bad_rating_from_the_keypad_path_opens_its_case(service, db_path):
    sign_in(service, 1)
    ticket = service.issue_ticket(KIOSK, "S1")["id"]
    clerk = Principal(role=Role.CLERK, name="clerk1", window=1)
    service.window_action(clerk, 1, "call-next", {})
    service.window_action(clerk, 1, "finish", {})
    asked = service.state.tickets[ticket].rating
    assert asked is not None
    service.execute(None, lambda s, now: service.engine.rate(s, now, 1, asked.request_id, 4))
    case = only_case(service)
    assert (case.kind, case.ticket_id, case.clerk, case.level, case.reason) == (
        "rating", ticket, "clerk1", 4, None)
    office = Principal(role=Role.SUPERVISOR, name="super")
    service.add_rating_reason(office, ticket, "办事效率")
    assert only_case(service).reason == "办事效率"


def test_numbers_survive_a_restart_and_start_again_the_next_day(service, clock):
    complain(service)
    again = reopen(service)
    complain(again)
    clock.advance(days=1)
    complain(again)
    ids = sorted(c.case_id for c in Cases(again.db).page(CaseFilter())[0])
    assert ids == ["GD202611240001", "GD202611240002", "GD202611250001"]


def test_the_office_list_pages_by_due_day_and_filters(service, clock):
    for window in (1, 2, 1):
        complain(service, window=window)
        clock.advance(days=1)
    cases = Cases(service.db)
    first, cursor = cases.page(CaseFilter(), limit=2)
    rest, end = cases.page(CaseFilter(), limit=2, after=cursor)
    assert end is None
    ids = [c.case_id for c in first + rest]
    assert ids == sorted(ids) and len(ids) == 3  # earliest callback due first
    assert [c.window_no for c in cases.page(CaseFilter(window=1))[0]] == [1, 1]
    step(service, ids[0], "callback", result="x", reached=True)
    step(service, ids[0], "close", reply="x", verdict="unfounded")
    assert [c.case_id for c in cases.page(CaseFilter(open=True))[0]] == ids[1:]
    assert [c.case_id for c in cases.page(CaseFilter())[0]][-1] == ids[0]  # final ones last
    today = clock.now.astimezone(service.cfg.zone).date()
    overdue = cases.page(CaseFilter(overdue_at=today))[0]
    assert [c.case_id for c in overdue] == [ids[1]]  # opened three days ago, never called
    assert [(o.case_id, o.step) for o in cases.overdue(today)] == [(ids[1], "callback")]


def test_a_complaint_names_the_clerk_of_its_staff_number(cfg, db, clock):
    Accounts(db).add_user("li", PASSWORD, Role.CLERK, "李明", "JZ1001", START)
    hall = HallService(cfg, db, clock=clock)
    complain(hall, staff_no="JZ1001")
    complain(hall, staff_no="JZ9999")  # nobody's
    cases = sorted(Cases(db).page(CaseFilter())[0], key=lambda c: c.case_id)
    assert [(c.clerk, c.staff_no) for c in cases] == [("li", "JZ1001"), (None, "JZ9999")]
    assert [c.case_id for c in Cases(db).of_clerk("li")] == [cases[0].case_id]


def test_round_trip_on_postgresql(cfg, tmp_path):
    from tests.pgredis import postgres_or_skip

    with postgres_or_skip() as server:
        db = open_database(tmp_path, url=server.url)
        assert db.dialect == "postgresql"
        clock = Clock()
        hall = HallService(cfg, db, clock=clock)
        complain(hall, window=2)
        case = only_case(hall)
        step(hall, case.case_id, "callback", result="已联系", reached=False)
        again = HallService(cfg, db, clock=clock)
        found = Cases(again.db).get(case.case_id)
        assert found is not None and found.status is S.CALLED_BACK
        assert Cases(db).steps(case.case_id)[0]["reached"] is False
        clock.advance(days=20)
        today = clock.now.astimezone(cfg.zone).date()
        assert [o.step for o in Cases(db).overdue(today)] == ["rectify"]
        db.close()
