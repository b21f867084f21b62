"""The store under the service, in process: migrations, one transaction per change (events and
projections together or not at all), and restarts that rebuild exactly the same state from
snapshots and the event log, across day rollovers.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

import msgspec
import pytest

import hub.service.commit
from hub.auth import Principal, Role
from hub.engine import Clerk, DomainError, TicketStatus
from hub.service import HallService
from hub.store.accounts import Accounts
from hub.store.database import Database, available_migrations
from hub.store.store import Store
from tests.hubproc import PASSWORD

START = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai, a Tuesday
KIOSK = Principal(role=Role.KIOSK, name="k")
SUPER = Principal(role=Role.SUPERVISOR, name="super")


class Clock:
    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(cfg, db, clock):
    return HallService(cfg, db, clock=clock)


def reopen(service: HallService, clock: Clock | None = None) -> HallService:
    return HallService(service.cfg, service.db, clock=clock or service.clock)


def encoded(service: HallService) -> bytes:
    return msgspec.json.encode(service.state)


def clerk(no: int) -> Principal:
    return Principal(role=Role.CLERK, name=f"clerk{no}", window=no)


def sign_in(service: HallService, no: int) -> Principal:
    """A clerk at window `no` without the cost of a password hash (login is tested once)."""
    who = clerk(no)
    person = Clerk(username=who.name, name=f"职员{no}", staff_no=f"JZ{no:03d}")
    service.execute(who, lambda s, now: service.engine.sign_in(s, now, no, person))
    return who


def act(hall: HallService, no: int, action: str, **args) -> dict:
    return hall.window_action(clerk(no), no, action, args)


def rows(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read what is committed, through a connection of its own (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def table_dump(db_path: Path) -> dict[str, list[tuple]]:
    return {
        "events": rows(db_path, "SELECT * FROM events ORDER BY seq"),
        "tickets": rows(db_path, "SELECT * FROM tickets ORDER BY id"),
        "slips": rows(db_path, "SELECT * FROM slips ORDER BY number"),
        "snapshots": rows(db_path, "SELECT * FROM snapshots ORDER BY seq"),
    }


def busy_day(service: HallService, clock: Clock) -> dict[str, str]:
    """Every kind of change the hall makes in a day; leaves tickets waiting and at a window."""
    for no in (1, 2, 3):
        sign_in(service, no)
    issued = {}
    for i, code in enumerate(["S1", "S2", "S3", "S4", "S1", "S3", "S2", "S1", "S3", "S4"]):
        clock.advance(minutes=1)
        issued[f"{code}-{i}"] = service.issue_ticket(KIOSK, code)["id"]
    clock.advance(minutes=1)
    act(service, 1, "call-next")
    act(service, 1, "recall")
    clock.advance(minutes=1)
    act(service, 1, "finish")  # S1: a commitment, with a slip
    act(service, 2, "call-next")
    act(service, 2, "skip")  # back in the queue
    act(service, 2, "call-next")
    clock.advance(minutes=2)
    act(service, 2, "finish", outcome="joint", departments=["SCJG", "GA"])
    act(service, 3, "call-next")
    act(service, 3, "transfer", service="S4", window=4, reason="联办")
    act(service, 3, "call-next")
    act(service, 3, "finish", outcome="returned", reason="材料不全")
    pending = service.pending_returns(SUPER)
    service.decide_return(SUPER, pending[0]["id"], approve=False, note="补正后再办")
    act(service, 3, "call-next")  # the refused return comes back to window 3
    act(service, 3, "finish", outcome="report", authority="省厅")
    act(service, 2, "pause", reason="暂离")
    clock.advance(minutes=5)
    act(service, 2, "resume")
    service.grant_green_pass(SUPER, "GP-1", "重点项目", "S1")
    issued["green"] = service.issue_ticket(KIOSK, "S1", "green", "GP-1")["id"]
    service.book_appointment(SUPER, "AP-1", "S3", service.state.day)
    service.book_appointment(SUPER, "AP-2", "S2", service.state.day + dt.timedelta(days=1))
    issued["appt"] = service.issue_ticket(KIOSK, "", "appointment", "AP-1")["id"]
    act(service, 1, "call-next")
    act(service, 1, "finish", outcome="immediate")
    act(service, 3, "call-next")
    act(service, 3, "finish", outcome="returned", reason="不符合条件")  # left pending overnight
    service.execute(clerk(3), lambda s, now: service.engine.sign_out(s, now, 3))
    act(service, 1, "call-next")  # left at window 1: expires at midnight
    return issued


# --- migrations ---------------------------------------------------------------------------


def test_migrations_apply_once_and_are_idempotent(db_path):
    versions = [v for v, _, _ in available_migrations()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    db = Database(db_path)
    try:
        assert db.schema_version() == 0
        applied = db.migrate()
        assert applied == [name for _, name, _ in available_migrations()]
        assert db.schema_version() == versions[-1]
        assert db.migrate() == []
        assert db.query_one("PRAGMA journal_mode")[0].lower() == "wal"
        assert db.query_one("PRAGMA foreign_keys")[0] == 1
        assert db.query_one("PRAGMA synchronous")[0] == 2  # FULL
    finally:
        db.close()
    again = Database(db_path, synchronous="NORMAL")
    try:
        assert again.migrate() == []
        assert again.schema_version() == versions[-1]
        assert again.query_one("PRAGMA journal_mode")[0].lower() == "wal"
    finally:
        again.close()
    assert rows(db_path, "SELECT version FROM schema_migrations ORDER BY version") == [
        (v,) for v in versions
    ]
    tables = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"events", "snapshots", "tickets", "slips", "users", "tokens", "sessions"} <= tables


def test_synchronous_mode_is_checked(db_path):
    with pytest.raises(ValueError, match="synchronous"):
        Database(db_path, synchronous="OFF")


def test_nested_transaction_refused_and_rollback_on_error(db):
    with db.transaction(), pytest.raises(RuntimeError, match="nested"), db.transaction():
        pass
    with pytest.raises(ZeroDivisionError), db.transaction() as tx:
        tx.execute("INSERT INTO snapshots (seq, at, state) VALUES (1, 'x', '{}')")
        _ = 1 / 0
    assert db.query("SELECT * FROM snapshots") == []
    with db.transaction() as tx:  # the connection is usable again
        tx.execute("INSERT INTO snapshots (seq, at, state) VALUES (1, 'x', '{}')")
    assert len(db.query("SELECT * FROM snapshots")) == 1


# --- one transaction per change -----------------------------------------------------------


def test_login_signs_the_clerk_in_durably(cfg, db, clock):
    Accounts(db).add_user("clerk1", PASSWORD, Role.CLERK, "职员1", "JZ001", clock())
    service = HallService(cfg, db, clock=clock)
    result = service.login("clerk1", PASSWORD, 1)
    who = service.authenticate(result["token"])
    assert (who.role, who.name, who.window) == (Role.CLERK, "clerk1", 1)
    again = reopen(service)
    assert again.state.windows[1].clerk is not None
    assert again.state.windows[1].clerk.username == "clerk1"
    assert again.authenticate(result["token"]).window == 1
    assert encoded(again) == encoded(service)


def test_finish_as_commitment_writes_slip_projection_and_event_together(service, db_path):
    sign_in(service, 1)
    ticket = service.issue_ticket(KIOSK, "S1")
    assert ticket["status"] == "waiting"
    act(service, 1, "call-next")
    view = act(service, 1, "finish")
    [finished] = [e for e in view["events"] if e["type"] == "ticket.finished"]
    slip = finished["data"]["outcome"]["slip"]
    assert slip and finished["data"]["ticket_id"] == ticket["id"]

    [event] = rows(
        db_path, "SELECT seq, id, type, ticket_id FROM events WHERE type = ?", ("ticket.finished",)
    )
    assert event == (finished["seq"], finished["id"], "ticket.finished", ticket["id"])
    assert rows(db_path, "SELECT number, ticket_id, service, kind, status FROM slips") == [
        (slip, ticket["id"], "S1", "commitment", "accepted")
    ]
    assert rows(
        db_path,
        "SELECT status, outcome, slip, window_no FROM tickets WHERE id = ?",
        (ticket["id"],),
    ) == [("done", "commitment", slip, None)]
    assert service.store.slip(slip)["ticket_id"] == ticket["id"]
    stored = service.store.ticket(ticket["id"])
    assert stored == service.state.tickets[ticket["id"]]


@pytest.mark.parametrize("failing", ["save_tickets", "save_slip", "append", "save_snapshot"])
def test_a_failed_commit_leaves_nothing_behind(service, db_path, monkeypatch, failing):
    monkeypatch.setattr(hub.service.commit, "SNAPSHOT_EVERY", 1)  # every commit snapshots
    sign_in(service, 1)
    ticket = service.issue_ticket(KIOSK, "S1")["id"]
    act(service, 1, "call-next")
    before_tables = table_dump(db_path)
    before_state = encoded(service)
    published: list = []
    service.subscribe(published.append)

    original = getattr(Store, failing)
    calls = []

    def broken(self, tx, *args, **kwargs):
        calls.append(failing)
        original(self, tx, *args, **kwargs)  # half the work is done inside the transaction
        raise OSError("disk on fire")

    monkeypatch.setattr(Store, failing, broken)
    with pytest.raises(OSError, match="disk on fire"):
        act(service, 1, "finish")
    assert calls == [failing]
    assert table_dump(db_path) == before_tables
    assert published == []
    # The in-memory state was reloaded from the store: as before, and as a fresh load.
    assert encoded(service) == before_state == encoded(reopen(service))
    assert service.state.tickets[ticket].status is TicketStatus.CALLED
    assert service.state.slip_seq == 0

    monkeypatch.setattr(Store, failing, original)
    view = act(service, 1, "finish")
    slip = view["events"][0]["data"]["outcome"]["slip"]
    assert slip.endswith("0001")  # the failed attempt did not use up a slip number
    assert view["events"][0]["seq"] == before_tables["events"][-1][0] + 1
    assert [r[0] for r in rows(db_path, "SELECT number FROM slips")] == [slip]
    assert encoded(service) == encoded(reopen(service))


def test_refusals_write_nothing(service, db_path):
    sign_in(service, 1)
    before = table_dump(db_path)
    state = encoded(service)
    refusals = [
        lambda: act(service, 1, "call-next"),  # nobody waiting
        lambda: act(service, 1, "finish"),  # nothing at the window
        lambda: act(service, 1, "resume"),  # not paused
        lambda: service.issue_ticket(KIOSK, "S9"),  # no such item
        lambda: service.issue_ticket(KIOSK, "S1", "green", "nope"),  # no such pass
        lambda: act(service, 1, "finish", outcome="bogus"),
    ]
    for refuse in refusals:
        with pytest.raises(DomainError):
            refuse()
    assert table_dump(db_path) == before
    assert encoded(service) == state

    service.issue_ticket(KIOSK, "S1")
    act(service, 1, "call-next")
    act(service, 1, "recall")
    act(service, 1, "recall")
    before = table_dump(db_path)
    state = encoded(service)
    with pytest.raises(DomainError) as refused:
        act(service, 1, "recall")  # over the recall limit
    assert refused.value.code == "recall_limit"
    with pytest.raises(DomainError):
        act(service, 1, "call-next")  # a ticket is still at the window
    assert table_dump(db_path) == before
    assert encoded(service) == state


def test_events_are_published_only_after_their_commit(service, db_path):
    seen: list[tuple[int, int]] = []

    def listener(records):
        for r in records:  # a connection of its own sees the event: it is committed
            seen.append((r.seq, len(rows(db_path, "SELECT 1 FROM events WHERE id = ?", (r.id,)))))

    service.subscribe(listener)
    sign_in(service, 1)
    service.issue_ticket(KIOSK, "S1")
    act(service, 1, "call-next")
    assert [s for s, _ in seen] == [1, 2, 3]
    assert all(found == 1 for _, found in seen)


def test_a_rollover_is_published_even_when_the_command_after_it_is_refused(service, clock):
    sign_in(service, 1)
    service.issue_ticket(KIOSK, "S1")
    seq = service.state.seq
    published: list[str] = []
    service.subscribe(lambda records: published.extend(r.type for r in records))
    clock.advance(days=1)
    with pytest.raises(DomainError):
        service.issue_ticket(KIOSK, "S9")  # refused, but the day rolled over (committed) first
    assert service.state.day == START.date() + dt.timedelta(days=1)
    committed = [r.type for r in service.store.records_after(seq)]
    assert committed[-1] == "day.rolled"
    assert published == committed


# --- the event log ------------------------------------------------------------------------


def test_event_seq_is_contiguous_and_ids_are_unique_uuids(service, clock, db_path):
    returned = []
    service.subscribe(returned.extend)
    busy_day(service, clock)
    clock.advance(days=1)
    service.tick()
    sign_in(service, 2)
    service.issue_ticket(KIOSK, "S2")
    act(service, 2, "call-next")
    act(service, 2, "finish")

    log = rows(db_path, "SELECT seq, id, type, day FROM events ORDER BY seq")
    assert [r[0] for r in log] == list(range(1, len(log) + 1))
    ids = [r[1] for r in log]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert [(r.seq, r.id, r.type) for r in returned] == [r[:3] for r in log]
    assert service.store.last_seq() == len(log) == service.state.seq
    days = [dt.date.fromisoformat(r[3]) for r in log]
    assert days == sorted(days) and len(set(days)) == 2
    assert [r.seq for r in service.store.records_after(5, limit=3)] == [6, 7, 8]


def test_ticket_history(service):
    sign_in(service, 1)
    other = service.issue_ticket(KIOSK, "S1")["id"]
    ticket = service.issue_ticket(KIOSK, "S2")["id"]
    service.issue_ticket(KIOSK, "S1")
    service.issue_ticket(KIOSK, "S1")
    act(service, 1, "call", number=service.state.tickets[ticket].number)
    act(service, 1, "recall")
    act(service, 1, "skip")  # requeued behind two
    for _ in range(4):  # the S1 tickets first (window 1's first item), then it
        act(service, 1, "call-next")
        if service.state.windows[1].current == ticket:
            break
        act(service, 1, "finish")
    assert service.state.windows[1].current == ticket
    act(service, 1, "finish")

    history = service.store.ticket_history(ticket)
    assert all(r.event.ticket == ticket for r in history)
    history = [r for r in history if r.type.startswith("ticket.")]  # not its rating, say
    assert [r.type for r in history] == [
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.no_show",
        "ticket.called",
        "ticket.finished",
    ]
    assert [r.seq for r in history] == sorted({r.seq for r in history})
    assert history[1].actor == "clerk:clerk1" and history[0].actor == "kiosk:k"
    assert history[3].event.requeued is True
    assert [r.type for r in service.store.ticket_history(other)][:2] == [
        "ticket.issued",
        "ticket.called",
    ]
    assert service.store.ticket_history("nope") == []


# --- restarts -----------------------------------------------------------------------------


@pytest.mark.parametrize("every", [10**6, 1, 3, 7])
def test_reopening_reproduces_the_state(service, clock, db_path, monkeypatch, every):
    monkeypatch.setattr(hub.service.commit, "SNAPSHOT_EVERY", every)
    busy_day(service, clock)
    snapshots = rows(db_path, "SELECT seq FROM snapshots ORDER BY seq")
    if every == 10**6:
        assert snapshots == []
    else:
        assert snapshots and len(snapshots) <= 3  # only the last few are kept
        # The commit that reached the last multiple of `every` took one.
        assert snapshots[-1][0] >= service.state.seq // every * every
    live = encoded(service)
    assert encoded(reopen(service)) == live
    # And from the event log alone, whatever the snapshots say.
    with service.db.transaction() as tx:
        tx.execute("DELETE FROM snapshots")
    assert encoded(reopen(service)) == live
    # Reopening is not a change: it writes nothing, and does not depend on the time.
    assert encoded(reopen(service, Clock(START + dt.timedelta(hours=30)))) == live
    assert service.store.last_seq() == service.state.seq


@pytest.mark.parametrize("every", [10**6, 4])
def test_replay_across_day_rollovers(service, clock, db_path, monkeypatch, every):
    monkeypatch.setattr(hub.service.commit, "SNAPSHOT_EVERY", every)
    day1 = service.state.day
    issued = busy_day(service, clock)
    open_tickets = [
        t.id
        for t in service.state.tickets.values()
        if t.status in (TicketStatus.WAITING, TicketStatus.CALLED)
    ]
    pending = [
        t.id for t in service.state.tickets.values() if t.status is TicketStatus.RETURN_PENDING
    ]
    assert open_tickets and len(pending) == 1
    live_day1 = encoded(service)

    clock.advance(hours=16)  # past local midnight: tomorrow 02:xx
    records = service.tick()
    types = [r.type for r in records]
    rolled = types.index("day.rolled")  # after signing out the clerks still there
    assert "window.signed_out" in types[:rolled]
    assert set(types[rolled + 1:]) <= {"alert.raised", "alert.cleared"}  # then the new day's
    assert sorted(records[rolled].event.expired) == sorted(open_tickets)
    day2 = service.state.day
    assert day2 == day1 + dt.timedelta(days=1)
    assert list(service.state.tickets) == pending  # a pending 退件 stays open across days
    assert service.state.windows[1].current is None
    for ticket_id in open_tickets:
        assert rows(
            db_path, "SELECT status, window_no FROM tickets WHERE id = ?", (ticket_id,)
        ) == [("expired", None)]
        assert service.ticket(KIOSK, ticket_id)["status"] == "expired"
    assert service.ticket(KIOSK, issued["S1-0"])["status"] == "done"
    assert encoded(reopen(service)) == encoded(service)

    # Day 2: numbers start again; yesterday's pending return is decided.
    first = service.issue_ticket(KIOSK, "S1")
    assert first["number"] == "A001" and first["day"] == day2.isoformat()
    service.decide_return(SUPER, pending[0], approve=True)
    sign_in(service, 1)  # signed out at the day's end
    act(service, 1, "call-next")
    act(service, 1, "finish")
    clock.advance(days=1)
    service.issue_ticket(KIOSK, "S3")  # the rollover happens first, in its own commit
    assert service.state.day == day2 + dt.timedelta(days=1)
    assert service.state.tickets[f"{service.state.day:%Y%m%d}-B001"].status is TicketStatus.WAITING

    live = encoded(service)
    assert encoded(reopen(service)) == live
    with service.db.transaction() as tx:
        tx.execute("DELETE FROM snapshots")
    assert encoded(reopen(service)) == live
    # What was live before the first rollover is also what the log says it was.
    assert live_day1 != live
    days = rows(db_path, "SELECT DISTINCT day FROM events ORDER BY day")
    assert [d for (d,) in days] == [
        day1.isoformat(),
        day2.isoformat(),
        (day2 + dt.timedelta(days=1)).isoformat(),
    ]


def test_reopening_on_a_later_day_replays_from_the_day_of_the_log(service, clock, db_path):
    """A hub stopped before midnight (no rollover, no snapshot yet) and started the next day
    must rebuild yesterday's state, then roll it over: not count yesterday's tickets as today's."""
    day1 = service.state.day
    busy_day(service, clock)
    assert rows(db_path, "SELECT COUNT(*) FROM snapshots") == [(0,)]
    live = encoded(service)
    open_tickets = sorted(
        t.id
        for t in service.state.tickets.values()
        if t.status in (TicketStatus.WAITING, TicketStatus.CALLED)
    )
    clock.advance(days=1)

    restarted = reopen(service)  # started the next morning
    assert restarted.state.day == day1
    assert encoded(restarted) == live
    rolled = next(r for r in restarted.tick() if r.type == "day.rolled")
    assert sorted(rolled.event.expired) == open_tickets
    assert restarted.state.day == day1 + dt.timedelta(days=1)
    assert encoded(restarted) == encoded(reopen(restarted))
    assert restarted.issue_ticket(KIOSK, "S1")["number"] == "A001"
    waiting = rows(
        db_path,
        "SELECT COUNT(*) FROM tickets WHERE status IN ('waiting', 'called') AND day = ?",
        (day1.isoformat(),),
    )
    assert waiting == [(0,)]


def test_badge_photos_are_in_the_store_and_old_photo_files_move_in(tmp_path):
    """Since migration 0010 a photo lives in the database (every hub of a pair has it); a
    photo kept as a file by an older version is moved in when the store is opened."""
    from hub.runtime import open_database

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    db = open_database(tmp_path)
    accounts = Accounts(db)
    now = dt.datetime.now(dt.UTC)
    accounts.add_user("li", PASSWORD, Role.CLERK, "李", "JZ001", now)
    accounts.add_user("wang", PASSWORD, Role.CLERK, "王", "JZ002", now)
    (tmp_path / "li.png").write_bytes(png)
    accounts.set_photo("li", tmp_path / "li.png")
    assert accounts.photo_of("JZ001") == (png, "image/png")
    assert not (tmp_path / "photos").exists()  # no file written
    # An older version's photo: named in users.photo, kept in <data>/photos.
    jpeg = b"\xff\xd8\xff\xe0" + b"\x01" * 32
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "wang.jpg").write_bytes(jpeg)
    with db.transaction() as tx:
        tx.execute("UPDATE users SET photo = 'wang.jpg' WHERE username = 'wang'")
    assert accounts.photo_of("JZ002") is None
    db.close()
    db = open_database(tmp_path)
    try:
        assert Accounts(db).photo_of("JZ002") == (jpeg, "image/jpeg")
        assert Accounts(db).photo_of("JZ001") == (png, "image/png")
        assert Accounts(db).adopt_photo_files(tmp_path / "photos") == 0  # once only
    finally:
        db.close()
