"""好差评 from the phone through the service, in process on a real store: the rating commits
as the citizen's, a 差评 opens its supervision case in the same commit as a keypad's does, a
refusal writes nothing, and the one rating per ticket holds across the channels."""

from __future__ import annotations

import pytest

from hub.auth import Principal, Role
from hub.engine import DomainError
from hub.service import HallService
from hub.store.cases import CaseFilter, Cases
from tests.test_store import KIOSK, Clock, encoded, reopen, rows, sign_in

CLERK = Principal(role=Role.CLERK, name="clerk1", window=1)


@pytest.fixture
def service(cfg, db) -> HallService:
    return HallService(cfg, db, clock=Clock())


def served(hall: HallService) -> str:
    sign_in(hall, 1)
    ticket = hall.issue_ticket(KIOSK, "S1")["id"]
    hall.window_action(CLERK, 1, "call-next", {})
    hall.window_action(CLERK, 1, "finish", {})
    return ticket


def test_a_phone_rating_commits_as_the_citizens_and_is_published(service, db_path):
    ticket = served(service)
    seen: list[str] = []
    service.subscribe(lambda records: seen.extend(r.type for r in records))
    answer = service.rate_by_phone(ticket, 2, None, "192.0.2.7")
    assert (answer["status"], answer["level"], answer["channel"]) == ("rated", 2, "phone")
    assert seen == ["ticket.rated"]
    assert rows(db_path, "SELECT actor, addr FROM events WHERE type = 'ticket.rated'") == [
        ("citizen", "192.0.2.7")]
    assert Cases(service.db).page(CaseFilter())[0] == []  # a 好评 opens no case
    assert encoded(reopen(service)) == encoded(service)


def test_a_phone_bad_rating_opens_its_case_in_the_same_commit(service, db_path):
    ticket = served(service)
    service.rate_by_phone(ticket, 5, "服务态度", "")
    found, _ = Cases(service.db).page(CaseFilter())
    assert len(found) == 1
    case = found[0]
    assert (case.kind, case.source, case.ticket_id, case.clerk, case.level, case.reason) == (
        "rating", "phone", ticket, "clerk1", 5, "服务态度")
    assert [t for (t,) in rows(db_path, "SELECT type FROM events ORDER BY seq")][-2:] == [
        "ticket.rated", "case.opened"]


def test_refusals_write_nothing_and_the_keypad_after_the_phone_is_refused(service, db_path):
    ticket = served(service)
    count = rows(db_path, "SELECT count(*) FROM events")
    for level, reason, code in ((4, None, "invalid"), (5, "其他原因", "invalid"),
                                (9, None, "invalid")):
        with pytest.raises(DomainError) as err:
            service.rate_by_phone(ticket, level, reason, "")
        assert err.value.code == code
    assert rows(db_path, "SELECT count(*) FROM events") == count
    service.rate_by_phone(ticket, 1, None, "")
    with pytest.raises(DomainError) as err:
        service.rate_by_phone(ticket, 1, None, "")
    assert err.value.code == "already_rated"
    asked = service.state.tickets[ticket].rating
    with pytest.raises(DomainError) as err:
        service.execute(None, lambda s, now: service.engine.rate(s, now, 1, asked.request_id, 3))
    assert err.value.code == "already_rated"
    assert rows(db_path, "SELECT count(*) FROM events WHERE type = 'ticket.rated'") == [(1,)]


def test_the_phone_cannot_rate_a_ticket_not_yet_served(service):
    sign_in(service, 1)
    ticket = service.issue_ticket(KIOSK, "S1")["id"]
    with pytest.raises(DomainError) as err:
        service.rate_by_phone(ticket, 1, None, "")
    assert err.value.code == "not_finished"


def test_todays_totals_count_ratings_by_channel(service):
    keypad = served(service)
    asked = service.state.tickets[keypad].rating
    service.execute(None, lambda s, now: service.engine.rate(s, now, 1, asked.request_id, 2))
    phone = service.issue_ticket(KIOSK, "S1")["id"]
    service.window_action(CLERK, 1, "call-next", {})
    service.window_action(CLERK, 1, "finish", {})
    service.rate_by_phone(phone, 1, None, "")
    totals = service.current_totals()
    assert totals["rating_channels"] == {"keypad": 1, "phone": 1}
    assert totals["ratings"] == 2
