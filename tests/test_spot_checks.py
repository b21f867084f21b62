"""办件抽查 (spot checks) and 效能告诫 (efficiency records): the pure draw, checked against an
independent HMAC (openssl); the service and its store in process on SQLite and PostgreSQL on an
injected clock; `onestop spot-check verify`; and a supervisor's walkthrough over HTTP against a
real hub, with the role refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import subprocess
import sys
import uuid
from zoneinfo import ZoneInfo

import pytest
import requests

from hub.auth import Principal, Role
from hub.config import ChecklistItem, load_config
from hub.engine import DomainError, Invalid, NotFound
from hub.engine import spot_checks as rules
from hub.forwarder import Forwarder
from hub.runtime import open_database
from hub.service import Forbidden, HallService
from hub.store.accounts import Accounts
from hub.store.cases import Cases
from hub.store.database import Database
from hub.store.spot_checks import SpotChecks
from tests.cereceiver import Receiver
from tests.hubproc import HALL_24H, PASSWORD, HubProcess
from tests.pgredis import postgres_or_skip
from tests.test_forwarder import backend_cfg
from tests.test_sockets import Listener
from tests.test_store import KIOSK, Clock, act, sign_in

ZONE = ZoneInfo("Asia/Shanghai")
SEED = bytes.fromhex("00112233445566778899aabbccddeeff")
OTHER_SEED = bytes.fromhex("ffeeddccbbaa99887766554433221100")
CHECKLIST = [ChecklistItem(code="informed", text="一次性告知到位"),
             ChecklistItem(code="outcome", text="办理结果正确")]
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in the hall
TODAY = dt.date(2026, 12, 1)
LAST_WEEK = dt.date(2026, 11, 23)


# --- the draw, pure -----------------------------------------------------------------------


def openssl_hmac(seed_hex: str, message: str) -> str:
    """HMAC-SHA256 as a verifier without Python would compute it."""
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{seed_hex}"],
        input=message.encode(), capture_output=True, check=True, timeout=10).stdout.decode()
    return out.strip().rsplit(" ", 1)[-1]


def test_the_rank_is_plain_hmac_sha256_of_the_ticket_id_under_the_seed():
    for ticket in ("20261124-A001", "20261127-B017"):
        assert rules.rank_key(SEED, ticket) == openssl_hmac(SEED.hex(), ticket)
        assert rules.rank_key(SEED, ticket) == hmac.new(
            SEED, ticket.encode(), hashlib.sha256).hexdigest()


def test_same_seed_same_sample_other_seed_another():
    tickets = [f"20261124-A{i:03d}" for i in range(1, 61)]
    first = rules.sample(SEED, tickets, 3)
    assert first == rules.sample(SEED, list(reversed(tickets)), 3)  # the order given is no matter
    assert len(first) == 3 and set(first) <= set(tickets)
    assert first == sorted(tickets, key=lambda t: rules.rank_key(SEED, t))[:3]
    assert rules.sample(OTHER_SEED, tickets, 3) != first
    assert rules.sample(SEED, tickets[:2], 3) == sorted(tickets[:2],
                                                        key=lambda t: rules.rank_key(SEED, t))


def test_a_draw_samples_each_window_and_counts_its_population():
    population = {1: [f"t1-{i}" for i in range(10)], 2: ["t2-a"], 3: []}
    drawn = rules.draw(NOW, TODAY, LAST_WEEK, SEED, 3, population, CHECKLIST, False, "super")
    assert drawn.draw_id == "CC2026W48" and drawn.week == LAST_WEEK
    assert drawn.population == {1: 10, 2: 1}
    assert drawn.sample == {1: rules.sample(SEED, population[1], 3), 2: ["t2-a"]}
    assert drawn.seed == SEED.hex() and drawn.method == "hmac-sha256-rank"
    assert [c.code for c in drawn.checklist] == ["informed", "outcome"]


def test_draw_ids_are_iso_weeks():
    assert rules.draw_id(dt.date(2026, 11, 30)) == "CC2026W49"
    assert rules.draw_id(dt.date(2026, 12, 28)) == "CC2026W53"
    assert rules.draw_id(dt.date(2024, 12, 30)) == "CC2025W01"  # the week of New Year


def test_only_a_monday_of_a_week_over_and_once():
    args = (SEED, 3, {}, CHECKLIST)
    with pytest.raises(Invalid):
        rules.draw(NOW, TODAY, dt.date(2026, 11, 24), *args, False, "super")
    with pytest.raises(DomainError) as err:  # this week, not over
        rules.draw(NOW, TODAY, dt.date(2026, 11, 30), *args, False, "super")
    assert err.value.code == "week_not_over"
    with pytest.raises(DomainError) as err:
        rules.draw(NOW, TODAY, LAST_WEEK, *args, True, "super")
    assert err.value.code == "spot_check_drawn"
    # the week ends at Sunday's midnight in the hall: Monday it may be drawn
    rules.draw(NOW, dt.date(2026, 11, 30), LAST_WEEK, *args, False, "super")


def test_a_review_answers_every_item_and_any_fail_is_a_finding():
    item = {"draw_id": "CC2026W48", "ticket_id": "t1", "window_no": 1, "clerk": "clerk1",
            "reviewed_at": None}
    codes = ["informed", "outcome"]
    ok = rules.review(NOW, item, codes, {"informed": "pass", "outcome": "na"}, "", "super")
    assert not ok.finding and ok.window == 1
    bad = rules.review(NOW, item, codes, {"informed": "fail", "outcome": "pass"}, " 缺 ", "s")
    assert bad.finding and bad.note == "缺"
    for answers in ({"informed": "pass"}, {"informed": "pass", "outcome": "pass", "x": "na"},
                    {"informed": "pass", "outcome": "maybe"}):
        with pytest.raises(Invalid):
            rules.review(NOW, item, codes, answers, "", "super")
    with pytest.raises(NotFound):
        rules.review(NOW, None, codes, {"informed": "pass", "outcome": "pass"}, "", "super")
    with pytest.raises(DomainError) as err:
        rules.review(NOW, {**item, "reviewed_at": "x"}, codes,
                     {"informed": "pass", "outcome": "pass"}, "", "super")
    assert err.value.code == "already_reviewed"


def test_an_efficiency_record_names_a_known_staff_member_and_a_kind():
    staff = {"username": "clerk1", "staff_no": "JZ001"}
    added = rules.add_record(NOW, TODAY, staff, "warning", "第十六条第二项", "迟到", 4, "super")
    assert (added.record_id, added.year, added.kind) == ("XN202612010005", 2026, "warning")
    with pytest.raises(NotFound):
        rules.add_record(NOW, TODAY, None, "warning", "第十六条", "", 0, "super")
    with pytest.raises(Invalid):
        rules.add_record(NOW, TODAY, staff, "praise", "第十六条", "", 0, "super")
    with pytest.raises(Invalid):
        rules.add_record(NOW, TODAY, staff, "notice", "  ", "", 0, "super")


# --- the service and its store, in process, on both engines -------------------------------

SUPER = Principal(role=Role.SUPERVISOR, name="super")
ADMIN = Principal(role=Role.ADMIN, name="admin")
CLERK = Principal(role=Role.CLERK, name="clerk1", window=1)
START = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # Tuesday of week 48, 10:00 in the hall


@pytest.fixture(scope="module")
def pg():
    with postgres_or_skip() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def hall(request, tmp_path):
    if request.param == "sqlite":
        db = Database(tmp_path / "onestop.db")
        db.migrate()
    else:
        server = request.getfixturevalue("pg")
        db = open_database(tmp_path, url=server.create_database(f"s_{uuid.uuid4().hex[:8]}"))
    accounts = Accounts(db)
    for name, role, no in (("clerk1", Role.CLERK, "JZ001"), ("clerk2", Role.CLERK, "JZ002"),
                           ("super", Role.SUPERVISOR, "JZ900")):
        accounts.add_user(name, PASSWORD, role, name, no, START)
    clock = Clock(START)
    yield HallService(load_config(HALL_24H), db, clock=clock), clock
    db.close()


def finish_tickets(service: HallService, clock: Clock, count: int) -> list[str]:
    """`count` tickets served and finished at windows 1 and 2 (S1)."""
    done = []
    for no in (1, 2):
        sign_in(service, no)
    for i in range(count):
        ticket = service.issue_ticket(KIOSK, "S1")["id"]
        clock.advance(minutes=1)
        no = 1 + i % 2
        act(service, no, "call-next")
        act(service, no, "finish", outcome="immediate")
        done.append(ticket)
    return done


def test_draw_review_and_records_through_the_service(hall):
    service, clock = hall
    finished = finish_tickets(service, clock, 8)
    clock.advance(days=7)  # Tuesday of the next week
    drawn = service.spot_checks.draw(SUPER)
    assert drawn["draw_id"] == "CC2026W48" and drawn["week"] == "2026-11-23"
    assert drawn["population"] == {"1": 4, "2": 4}
    sample = [i["ticket_id"] for i in drawn["items"]]
    assert len(sample) == 6 and set(sample) <= set(finished)
    seed = bytes.fromhex(drawn["seed"])
    assert drawn["sample"]["1"] == rules.sample(seed, finished[0::2], 3)
    assert {i["clerk"] for i in drawn["items"]} == {"clerk1", "clerk2"}
    with pytest.raises(DomainError) as err:
        service.spot_checks.draw(ADMIN, LAST_WEEK)
    assert err.value.code == "spot_check_drawn"

    codes = [c["code"] for c in drawn["checklist"]]
    target = drawn["items"][0]
    answers = dict.fromkeys(codes, "pass") | {"informed": "fail"}
    after = service.spot_checks.review(SUPER, "CC2026W48", target["ticket_id"], answers, "未告知")
    reviewed = next(i for i in after["items"] if i["ticket_id"] == target["ticket_id"])
    assert reviewed["finding"] and reviewed["answers"]["informed"] == "fail"
    assert (after["reviewed"], after["findings"]) == (1, 1)
    with pytest.raises(DomainError):
        service.spot_checks.review(SUPER, "CC2026W48", target["ticket_id"], answers)
    with pytest.raises(NotFound):  # a finished ticket outside the sample
        outside = next(t for t in finished if t not in sample)
        service.spot_checks.review(SUPER, "CC2026W48", outside, answers)

    record = service.staff_records.add(SUPER, "clerk1", "warning", "第十六条第二项", "拖延办理")
    assert record["record_id"] == "XN202612010001" and record["year"] == 2026
    service.staff_records.add(SUPER, "clerk2", "criticism", "第十八条", "")
    assert service.excluded_from_awards(2026) == {"clerk1"}
    assert service.excluded_from_awards(2025) == set()
    listed = {s["username"]: s for s in service.staff_records.staff(SUPER)["staff"]}
    assert listed["clerk1"]["excluded"] and listed["clerk1"]["records"]["warning"] == 1
    assert not listed["clerk2"]["excluded"] and listed["clerk2"]["total"] == 1
    assert service.staff_records.of(ADMIN, "clerk1")["excluded_years"] == [2026]
    with pytest.raises(NotFound):
        service.staff_records.add(SUPER, "nobody", "notice", "第十八条", "")

    # the events and their projections committed together; a replay keeps them
    types = [r.type for r in service.store.records_after(0)]
    assert types.count("spot_check.drawn") == 1 and types.count("spot_check.reviewed") == 1
    assert types.count("staff.record_added") == 2
    again = HallService(service.cfg, service.db, clock=clock)
    assert again.spot_checks.one(SUPER, "CC2026W48") == after


def test_roles_that_may_not(hall):
    service, _clock = hall
    with pytest.raises(Forbidden):
        service.spot_checks.draw(CLERK)
    with pytest.raises(Forbidden):
        service.staff_records.add(CLERK, "clerk2", "warning", "第十六条", "")
    with pytest.raises(Forbidden):  # an admin runs the hall, a supervisor records
        service.staff_records.add(ADMIN, "clerk2", "warning", "第十六条", "")
    with pytest.raises(Forbidden):
        service.staff_records.staff(CLERK)
    assert service.store.records_after(0) == []
    refused = [(r["action"], r["outcome"])
               for r in service.audit_records(SUPER, None, None, 10)]
    assert refused.count(("staff-record", "forbidden")) == 2
    assert ("spot-check-draw", "forbidden") in refused


def test_an_empty_week_is_drawn_as_such(hall):
    service, clock = hall
    clock.advance(days=7)
    drawn = service.spot_checks.draw(SUPER)
    assert drawn["population"] == {} and drawn["items"] == []


def test_a_finding_opens_a_case_with_its_review_and_nothing_else_does(hall):
    service, clock = hall
    finish_tickets(service, clock, 2)
    clock.advance(days=7)
    drawn = service.spot_checks.draw(SUPER)
    codes = [c["code"] for c in drawn["checklist"]]
    first, second = (i["ticket_id"] for i in drawn["items"])
    with pytest.raises(DomainError) as err:
        service.spot_checks.review(SUPER, drawn["draw_id"], first, dict.fromkeys(codes, "pass"),
                                   open_case=True)
    assert err.value.code == "no_finding"
    assert service.spot_checks.one(SUPER, drawn["draw_id"])["reviewed"] == 0

    # a finding opens a case (kind spot_check) in the review's own transaction
    second_item = next(i for i in drawn["items"] if i["ticket_id"] == second)
    answers = dict.fromkeys(codes, "pass") | {"time_limit": "fail"}
    before = service.store.last_seq()
    after = service.spot_checks.review(SUPER, drawn["draw_id"], second, answers, "超时办结",
                                       open_case=True)
    reviewed = next(i for i in after["items"] if i["ticket_id"] == second)
    case = Cases(service.db).get(reviewed["case_id"])
    assert case is not None and reviewed["case_id"].startswith("GD20261201")
    assert (case.kind, case.source, case.status.value) == ("spot_check", "spot_check", "pending")
    assert (case.ticket_id, case.window_no, case.clerk, case.staff_no) == (
        second, second_item["window_no"], second_item["clerk"],
        {"clerk1": "JZ001", "clerk2": "JZ002"}[second_item["clerk"]])
    assert "在办理时限内办结" in case.summary and "超时办结" in case.summary
    committed = service.store.records_after(before)
    assert [r.type for r in committed] == ["case.opened", "spot_check.reviewed"]
    assert len({r.seq for r in committed}) == 2
    assert committed[1].event.case_id == case.case_id


def test_the_week_boundary_is_the_halls_midnight(hall):
    service, clock = hall
    rows = SpotChecks(service.db)
    finish_tickets(service, clock, 1)
    start, end = rules.week_bounds(LAST_WEEK, ZONE)
    assert sum(map(len, rows.finished_between(start, end).values())) == 1
    # Sunday 23:59 local is in the week, Monday 00:00 is not
    assert end == dt.datetime(2026, 11, 30, tzinfo=ZONE)
    assert rows.finished_between(end, end + dt.timedelta(days=7)) == {}


def test_the_events_reach_the_backend_as_cloudevents(hall, tmp_path):
    service, clock = hall
    finish_tickets(service, clock, 2)
    clock.advance(days=7)
    drawn = service.spot_checks.draw(SUPER)
    codes = [c["code"] for c in drawn["checklist"]]
    ticket = drawn["sample"]["1"][0]
    service.spot_checks.review(SUPER, drawn["draw_id"], ticket, dict.fromkeys(codes, "na"))
    service.staff_records.add(SUPER, "clerk2", "notice", "第十八条第一项", "工作时间离岗")
    receiver = Receiver().start()
    try:
        cfg = backend_cfg(receiver.url)
        Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone).drain()
    finally:
        receiver.close()
    sent = {e["type"]: e for e in receiver.accepted}
    assert not receiver.invalid
    drawn_event = sent["cn.gov.hall.spot_check.drawn"]["data"]
    assert drawn_event["seed"] == drawn["seed"] and drawn_event["sample"] == drawn["sample"]
    assert drawn_event["method"] == "hmac-sha256-rank"
    reviewed = sent["cn.gov.hall.spot_check.reviewed"]
    assert reviewed["subject"] == "windows/1" and reviewed["data"]["finding"] is False
    record = sent["cn.gov.hall.staff.record_added"]["data"]
    assert (record["username"], record["staff_no"], record["kind"]) == ("clerk2", "JZ002", "notice")


# --- the verify command -------------------------------------------------------------------


def verify(data_dir, draw_id: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "spot-check", "verify", draw_id, "--data",
         str(data_dir), "--config", str(HALL_24H)],
        check=False, capture_output=True, text=True, timeout=60)


def test_verify_recomputes_the_sample_and_sees_a_changed_ticket_set(tmp_path):
    db = Database(tmp_path / "onestop.db")
    db.migrate()
    clock = Clock(START)
    service = HallService(load_config(HALL_24H), db, clock=clock)
    done = finish_tickets(service, clock, 9)
    clock.advance(days=7)
    drawn = service.spot_checks.draw(SUPER)
    ok = verify(tmp_path, drawn["draw_id"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "matches" in ok.stdout
    missing = verify(tmp_path, "CC2020W01")
    assert missing.returncode == 2 and "no draw" in missing.stderr

    # a sampled ticket taken out of the week's tickets: another ranks in, and the count drops
    victim = drawn["sample"]["1"][0]
    with db.transaction() as tx:
        tx.execute("DELETE FROM tickets WHERE id = ?", (victim,))
    changed = verify(tmp_path, drawn["draw_id"])
    assert changed.returncode == 1, changed.stdout
    assert "does not match" in changed.stdout and victim in changed.stdout
    assert "window 1: 5 tickets finished that week when drawn, 4 now" in changed.stdout

    # an unsampled ticket of window 2 swapped for another that ranks below the sample: the
    # count and the sample stay, the digest of the population does not
    seed = bytes.fromhex(drawn["seed"])
    sampled = drawn["sample"]["2"]
    last = max(rules.rank_key(seed, t) for t in sampled)
    unsampled = next(t for t in done[1::2] if t not in sampled)  # window 2's
    stranger = next(f"swapped-{i}" for i in range(1000)
                    if rules.rank_key(seed, f"swapped-{i}") > last)
    with db.transaction() as tx:
        tx.execute("UPDATE tickets SET id = ? WHERE id = ?", (stranger, unsampled))
    swapped = verify(tmp_path, drawn["draw_id"])
    assert swapped.returncode == 1, swapped.stdout
    assert "window 2: the same number of tickets, but not the same tickets" in swapped.stdout
    db.close()


# --- a supervisor's week, over HTTP, against a real hub -----------------------------------


def test_a_supervisors_walkthrough_over_http(tmp_path):
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.clock = "2026-11-17T10:00:00+08:00"  # Tuesday of week 47
    hub.start()
    try:
        finished = []
        clerks = {no: hub.login(f"clerk{no}", no) for no in (1, 2)}
        for i in range(6):
            no = 1 + i % 2
            finished.append(hub.issue("S1").json()["id"])
            assert hub.act(clerks[no], no, "call-next").status_code == 200
            assert hub.act(clerks[no], no, "finish", outcome="immediate").status_code == 200
    finally:
        hub.stop()
    hub.clock = "2026-11-24T10:00:00+08:00"  # the next Tuesday: week 47 is over
    hub.start()
    try:
        hub.tokens["office"] = hub.login("super")  # one session: a second would end the first
        monitor = Listener(hub, "/monitor", hub.tokens["office"])
        try:
            monitor.snapshot()
            walk(hub, finished)
            # the office's live page gets every step as it is committed
            pushed = [monitor.next_event(t)["data"] for t in
                      ("spot_check.drawn", "case.opened", "spot_check.reviewed",
                       "staff.record_added")]
            assert pushed[0]["draw_id"] == "CC2026W47" and pushed[2]["finding"] is True
            assert pushed[1]["kind"] == "spot_check" == pushed[1]["source"]
            assert pushed[2]["case_id"] == pushed[1]["case_id"]
            assert pushed[3]["kind"] == "warning"
        finally:
            monitor.close()
    finally:
        hub.stop()
    assert "Traceback" not in hub.log()
    ok = verify(hub.data_dir, "CC2026W47")
    assert ok.returncode == 0 and "matches" in ok.stdout, ok.stdout + ok.stderr


def walk(hub: HubProcess, finished: list[str]) -> None:
    api = f"{hub.url}/api/v1"
    clerk, office = hub.login("clerk1", 1), hub.tokens["office"]

    def call(method: str, path: str, token: str, **args) -> requests.Response:
        return requests.request(method, api + path, headers=hub.auth(token), timeout=10, **args)

    # a clerk may neither draw nor record, nor read the office's lists
    assert call("post", "/spot-checks/draw", clerk).status_code == 403
    assert call("post", "/staff/clerk2/records", clerk,
                json={"kind": "warning", "grounds": "第十六条"}).status_code == 403
    assert call("get", "/staff", clerk).status_code == 403
    assert call("get", "/spot-checks", hub.tokens["kiosk"]).status_code == 403

    assert call("post", "/spot-checks/draw", office,
                json={"week": "2026-11-23"}).json()["error"]["code"] == "week_not_over"
    assert call("post", "/spot-checks/draw", office, json={"week": "2026-11-18"}
                ).status_code == 422  # not a Monday
    r = call("post", "/spot-checks/draw", office)
    assert r.status_code == 201, r.text
    drawn = r.json()
    assert (drawn["draw_id"], drawn["week"]) == ("CC2026W47", "2026-11-16")
    assert drawn["population"] == {"1": 3, "2": 3}
    seed = bytes.fromhex(drawn["seed"])
    assert drawn["sample"]["2"] == rules.sample(seed, finished[1::2], 3)
    again = call("post", "/spot-checks/draw", office, json={"week": "2026-11-16"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "spot_check_drawn"

    target = drawn["items"][0]
    codes = [c["code"] for c in drawn["checklist"]]
    assert codes == ["informed", "time_limit", "outcome", "return_justified"]
    answers = dict.fromkeys(codes, "pass") | {"informed": "fail", "return_justified": "na"}
    path = f"/spot-checks/CC2026W47/items/{target['ticket_id']}"
    assert call("post", path, office, json={"answers": {"informed": "fail"}}).status_code == 422
    assert call("post", path, office, json={"answers": dict.fromkeys(codes, "maybe")}
                ).status_code == 422
    r = call("post", path, office, json={"answers": answers, "note": "未一次性告知所需材料",
                                         "open_case": True})
    assert r.status_code == 200, r.text
    item = next(i for i in r.json()["items"] if i["ticket_id"] == target["ticket_id"])
    assert item["finding"] and item["by"] == "super" and item["clerk"] == target["clerk"]
    assert item["case_id"].startswith("GD20261124")  # opened with the review
    assert call("post", path, office, json={"answers": answers}).status_code == 409
    listed = call("get", "/spot-checks?week=2026-11-16", office).json()["draws"]
    assert [d["findings"] for d in listed] == [1]
    assert call("get", "/spot-checks/CC2026W47", office).json() == listed[0]
    assert call("get", "/spot-checks/CC2020W01", office).status_code == 404
    records(hub, call, office, target["clerk"])


def records(hub: HubProcess, call, office: str, clerk: str) -> None:
    """The clerk a finding is about gets a 效能告诫: out of the year's 评先评优."""
    r = call("post", f"/staff/{clerk}/records", office,
             json={"kind": "warning", "grounds": "第十六条第二项", "detail": "未一次性告知"})
    assert r.status_code == 201, r.text
    assert r.json()["record_id"] == "XN202611240001" and r.json()["year"] == 2026
    assert call("post", "/staff/nobody/records", office,
                json={"kind": "notice", "grounds": "第十八条"}).status_code == 404
    staff = {s["username"]: s for s in call("get", "/staff", office).json()["staff"]}
    assert staff[clerk]["excluded"] and staff[clerk]["records"]["warning"] == 1
    assert not any(s["excluded"] for name, s in staff.items() if name != clerk)
    mine = call("get", f"/staff/{clerk}/records", office).json()
    assert mine["excluded_years"] == [2026] and mine["records"][0]["grounds"] == "第十六条第二项"
    assert call("get", "/staff?year=2025", office).json()["staff"][0]["excluded"] is False

    db = open_database(hub.data_dir)
    try:
        assert SpotChecks(db).excluded_from_awards(2026) == {clerk}
    finally:
        db.close()
    audit = call("get", "/audit?limit=50", office).json()["records"]
    done = [(r["action"], r["outcome"]) for r in audit]
    assert ("spot-check-draw", "ok") in done and ("spot-check-review", "ok") in done
    assert ("staff-record", "ok") in done and ("staff-record", "forbidden") in done
