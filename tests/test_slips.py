"""Commitment slips (承诺单): the status rule (pure), its projection (same transaction as its
event, survives restarts and day rollovers), and the HTTP calls a kiosk and a clerk make."""

from __future__ import annotations

import pytest
import requests

from hub.auth import Principal, Role
from hub.engine import DomainError, Invalid, NotFound, QueueEngine, new_state
from hub.engine.model import SlipStatus, SlipStatusChanged
from tests.engine_helpers import NOW, hall_config
from tests.hubproc import hall_today
from tests.test_store import (  # noqa: F401 - fixtures
    KIOSK,
    SUPER,
    act,
    clock,
    encoded,
    reopen,
    rows,
    service,
    sign_in,
)

# --- the rule, pure -----------------------------------------------------------------------


@pytest.fixture
def engine_state():
    hall = hall_config()
    return QueueEngine(hall), new_state(hall, NOW)


def test_slip_moves_forward_and_may_skip_steps(engine_state):
    engine, state = engine_state
    [e] = engine.slip_status(state, NOW, "CN1", ("t1", "accepted"), "in_progress", "clerk1")
    assert isinstance(e, SlipStatusChanged)
    assert (e.slip, e.ticket_id, e.status, e.previous, e.by) == (
        "CN1", "t1", SlipStatus.IN_PROGRESS, SlipStatus.ACCEPTED, "clerk1")
    assert e.ticket == "t1"
    [e] = engine.slip_status(state, NOW, "CN1", ("t1", "accepted"), "ready", "clerk1")
    assert e.status is SlipStatus.READY


@pytest.mark.parametrize(("current", "wanted"), [
    ("accepted", "accepted"), ("ready", "done"), ("collected", "accepted"),
    ("collected", "collected"), ("in_progress", "accepted"),
])
def test_slip_never_moves_back_or_stays(engine_state, current, wanted):
    engine, state = engine_state
    with pytest.raises(DomainError) as err:
        engine.slip_status(state, NOW, "CN1", ("t1", current), wanted, "clerk1")
    assert err.value.code == "slip_status_not_forward"


def test_unknown_slip_and_bad_status_are_refused(engine_state):
    engine, state = engine_state
    with pytest.raises(NotFound):
        engine.slip_status(state, NOW, "CN9", None, "ready", "clerk1")
    with pytest.raises(Invalid):
        engine.slip_status(state, NOW, "CN1", ("t1", "accepted"), "lost", "clerk1")


# --- the service and its store, in process ------------------------------------------------


def finished_slip(service) -> str:  # noqa: F811
    sign_in(service, 1)
    service.issue_ticket(KIOSK, "S1")
    act(service, 1, "call-next")
    view = act(service, 1, "finish", outcome="commitment")
    return next(e for e in view["events"] if e["type"] == "ticket.finished")[
        "data"]["outcome"]["slip"]


def test_status_and_its_event_commit_together_and_outlive_the_day(service, db_path, clock):  # noqa: F811
    slip = finished_slip(service)
    who = Principal(role=Role.CLERK, name="clerk2", window=2)
    shown = service.set_slip_status(who, slip, "in_progress")
    assert shown["status"] == "in_progress" and shown["status_name"] == "办理中"
    [(status,)] = rows(db_path, "SELECT status FROM slips WHERE number = ?", (slip,))
    assert status == "in_progress"
    [(data,)] = rows(
        db_path, "SELECT data FROM events WHERE type = 'slip.status_changed'")
    assert '"by":"clerk2"' in data

    clock.advance(days=3)  # collected days later: the slip is not in the day's state
    service.set_slip_status(SUPER, slip, "ready")
    assert service.slip(KIOSK, slip)["status"] == "ready"
    with pytest.raises(DomainError):
        service.set_slip_status(SUPER, slip, "done")
    assert service.slip(KIOSK, slip)["status"] == "ready"
    again = reopen(service)
    assert encoded(again) == encoded(service)
    assert again.slip(KIOSK, slip)["status"] == "ready"


def test_only_staff_set_a_slip_status(service):  # noqa: F811
    slip = finished_slip(service)
    with pytest.raises(DomainError) as err:
        service.set_slip_status(KIOSK, slip, "ready")
    assert err.value.code == "forbidden"


def joint_slip(service) -> str:  # noqa: F811
    sign_in(service, 1)
    service.issue_ticket(KIOSK, "S1")
    act(service, 1, "call-next")
    view = act(service, 1, "finish", outcome="joint", departments=["SCJG", "GA", "SLSD"])
    return next(e for e in view["events"] if e["type"] == "ticket.finished")[
        "data"]["outcome"]["slip"]


def test_a_joint_case_goes_on_to_each_department_and_is_done_with_the_last(service, db_path):  # noqa: F811
    slip = joint_slip(service)
    parts = lambda: [(d["code"], d["done"]) for d in service.slip(KIOSK, slip)["departments"]]  # noqa: E731
    assert parts() == [("SCJG", False), ("GA", False), ("SLSD", False)]
    ga = sign_in(service, 3)  # window 3 is 公安 (GA)
    assert [c["number"] for c in service.joint_cases(ga)] == [slip]
    assert service.joint_cases(SUPER, "SLSD")[0]["number"] == slip
    with pytest.raises(DomainError) as err:  # a clerk lists their own department's only
        service.joint_cases(ga, "SLSD")
    assert err.value.code == "wrong_department"
    # A clerk completes their own department's part only.
    with pytest.raises(DomainError) as err:
        service.part_done(ga, slip, "SLSD")
    assert err.value.code == "wrong_department"
    shown = service.part_done(ga, slip)
    assert shown["status"] == "in_progress"
    assert parts() == [("SCJG", False), ("GA", True), ("SLSD", False)]
    assert service.joint_cases(ga) == []
    with pytest.raises(DomainError) as err:
        service.part_done(ga, slip)
    assert err.value.code == "part_already_done"
    service.part_done(clerk_at(service, 1), slip)
    assert service.slip(KIOSK, slip)["status"] == "in_progress"
    done = service.part_done(SUPER, slip, "SLSD")  # the office may complete any department's
    assert done["status"] == "done" and all(d["done"] for d in done["departments"])
    events = [t for (t,) in rows(db_path, "SELECT type FROM events ORDER BY seq")]
    assert events.count("slip.part_done") == 3 and events.count("slip.status_changed") == 2
    again = reopen(service)
    assert again.slip(KIOSK, slip)["departments"] == done["departments"]


def test_only_joint_departments_have_a_part(service):  # noqa: F811
    slip = finished_slip(service)  # a plain 承诺件: no parts at all
    with pytest.raises(DomainError) as err:
        service.part_done(SUPER, slip, "GA")
    assert err.value.code == "not_joint_department"
    with pytest.raises(DomainError) as err:
        service.part_done(KIOSK, slip, "GA")
    assert err.value.code == "forbidden"
    with pytest.raises(NotFound):
        service.part_done(SUPER, "CN404", "GA")


def clerk_at(service, no: int) -> Principal:  # noqa: F811
    return sign_in(service, no)


# --- HTTP, against a real hub process ------------------------------------------------------


@pytest.mark.slow
def test_slip_over_http(hub):
    clerk = hub.login("clerk1", 1)
    assert hub.issue("S1").status_code == 201
    assert hub.act(clerk, 1, "call-next").ok
    r = hub.act(clerk, 1, "finish", outcome="commitment")
    assert r.ok, r.text
    slip = next(e for e in r.json()["events"] if e["type"] == "ticket.finished")[
        "data"]["outcome"]["slip"]
    kiosk = hub.auth(hub.tokens["kiosk"])

    r = requests.get(f"{hub.url}/api/v1/slips/{slip}", headers=kiosk, timeout=5)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["status"] == "accepted" and shown["status_name"] == "受理"
    assert shown["promised_date"] >= hall_today().isoformat()
    assert shown["service"] == "S1" and shown["service_name"]
    assert not {"ticket_id", "clerk", "outcome", "reason"} & set(shown)
    assert shown["departments"] == []  # not a joint case
    for role in ("screen", "agent"):  # the kiosk looks slips up; screens and agents do not
        r = requests.get(f"{hub.url}/api/v1/slips/{slip}", headers=hub.auth(hub.tokens[role]),
                         timeout=5)
        assert r.status_code == 403, role

    url = f"{hub.url}/api/v1/slips/{slip}/status"
    assert requests.post(url, json={"status": "ready"}, headers=kiosk, timeout=5
                         ).status_code == 403
    other = hub.login("clerk2", 2)  # any signed-in clerk, not only the one who finished it
    r = requests.post(url, json={"status": "ready"}, headers=hub.auth(other), timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"
    r = requests.post(url, json={"status": "accepted"}, headers=hub.auth(other), timeout=5)
    assert r.status_code == 409 and r.json()["error"]["code"] == "slip_status_not_forward"
    r = requests.post(url, json={"status": "gone"}, headers=hub.auth(other), timeout=5)
    assert r.status_code == 422
    r = requests.post(url, json={}, headers=hub.auth(other), timeout=5)
    assert r.status_code == 422
    r = requests.get(f"{hub.url}/api/v1/slips/CN000", headers=kiosk, timeout=5)
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_slip"
    assert requests.get(f"{hub.url}/api/v1/slips/{slip}", timeout=5).status_code == 401
    assert requests.get(f"{hub.url}/api/v1/slips/{slip}", headers=kiosk, timeout=5
                        ).json()["status"] == "ready"
    doc = requests.get(f"{hub.url}/api/v1/openapi.json", timeout=5).json()
    assert {"/api/v1/slips/{number}", "/api/v1/slips/{number}/status"} <= set(doc["paths"])
