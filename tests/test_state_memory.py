"""What a hub holds for the day's tickets, measured, not timed: a hub restarted during a busy
day reads the day back from its snapshot and the events after it, and must hold its tickets
in no more memory than the hub that ran the day (`onestop simulate` checks the hub's RSS at
the end of the day, usually a restarted hub's, against the first hour's). And the replay at
start reads the log a page at a time, never all of it at once."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import tracemalloc
from pathlib import Path

import msgspec
import pytest

import hub.service.commit
from hub.engine.model import HallState
from hub.engine.model.sharing import share_equal
from hub.service import HallService
from hub.store.store import Store
from tests.test_store import KIOSK, START, Clock, act, reopen, sign_in

WINDOWS = {1: "S1", 2: "S2", 3: "S3", 4: "S4"}  # the suite's hall: each window's first item
# A finished, rated ticket as the running hub holds it takes ~1.2 KiB (CPython 3.11, its
# visit, rating and outcome: benchmarks/day_memory.py); read back from JSON without sharing
# equal values it took ~1.8 KiB.
PER_TICKET_BOUND = 1400


def a_day(hall: HallService, clock: Clock, tickets: int) -> None:
    """`tickets` tickets issued, called, finished (承诺件 for the items with a time limit)
    and rated at the keypad, round the windows."""
    for no in WINDOWS:
        sign_in(hall, no)
    for i in range(tickets):
        no = 1 + i % len(WINDOWS)
        clock.advance(seconds=20)
        hall.issue_ticket(KIOSK, WINDOWS[no])
        act(hall, no, "call-next")
        clock.advance(seconds=40)
        act(hall, no, "finish", outcome="commitment" if no in (1, 4) else "immediate")
        rating = hall.state.tickets[hall.state.windows[no].last_served or ""].rating
        assert rating is not None
        hall.execute(None, lambda s, now, no=no, r=rating.request_id, level=1 + i % 5:
                     hall.engine.rate(s, now, no, r, level, None, now))


def held_by_tickets(hall: HallService) -> int:
    """The traced bytes that the state's tickets alone keep alive."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    tickets = hall.state.tickets
    hall.state.tickets = {}
    del tickets
    gc.collect()
    return before - tracemalloc.get_traced_memory()[0]


@pytest.fixture
def traced():
    tracemalloc.start()
    yield
    tracemalloc.stop()


def test_a_restarted_hub_holds_the_days_tickets_as_compactly_as_the_hub_that_ran_it(
        cfg, db, monkeypatch, traced):
    monkeypatch.setattr(hub.service.commit, "SNAPSHOT_EVERY", 1000)
    clock = Clock(START)
    hall = HallService(cfg, db, clock=clock)
    a_day(hall, clock, 300)
    assert hall.store.latest_snapshot() is not None  # read back from a snapshot and a replay
    n = len(hall.state.tickets)
    restarted = reopen(hall, Clock(clock.now))
    assert msgspec.json.encode(restarted.state) == msgspec.json.encode(hall.state)
    running_bytes, restarted_bytes = held_by_tickets(hall), held_by_tickets(restarted)
    print(f"per ticket: running {running_bytes / n:.0f} B, restarted {restarted_bytes / n:.0f} B")
    assert restarted_bytes / n <= PER_TICKET_BOUND, (running_bytes / n, restarted_bytes / n)
    assert restarted_bytes <= running_bytes * 1.05, (running_bytes / n, restarted_bytes / n)


def test_sharing_keeps_every_value_and_its_zone():
    utc = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    east = utc.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert utc == east  # the same instant: equal, but not the same value
    state = msgspec.json.decode(msgspec.json.encode({
        "day": "2026-11-24",
        "tickets": {f"T{i}": {
            "id": f"T{i}", "number": f"A{i:03d}", "service": "S1", "day": "2026-11-24",
            "channel": "normal", "priority": False, "rank": [i, 0],
            "issued_at": (utc if i % 2 else east).isoformat(), "status": "done",
            "called_at": east.isoformat(), "finished_at": east.isoformat(),
            "visits": [{"window": 1, "clerk": "c1", "service": "S1",
                        "called_at": east.isoformat()}],
        } for i in range(4)},
    }), type=HallState)
    before = msgspec.json.encode(state)
    share_equal(state)
    assert msgspec.json.encode(state) == before
    t0, t1 = state.tickets["T0"], state.tickets["T1"]
    assert t0.service is t1.service is t0.visits[0].service
    assert t0.day is t1.day is state.day
    assert t0.called_at is t1.finished_at is t1.visits[0].called_at
    assert t0.issued_at is not t1.issued_at  # UTC and +08:00 stay themselves
    assert t1.issued_at.tzinfo is dt.UTC and t0.issued_at.utcoffset() == dt.timedelta(hours=8)
    assert list(state.tickets) == ["T0", "T1", "T2", "T3"]
    assert all(key is ticket.id for key, ticket in state.tickets.items())


def test_the_replay_at_start_reads_the_log_a_page_at_a_time(cfg, db, monkeypatch):
    monkeypatch.setattr(hub.service.commit, "SNAPSHOT_EVERY", 10**6)  # all of it replayed
    clock = Clock(START)
    hall = HallService(cfg, db, clock=clock)
    a_day(hall, clock, 150)
    assert hall.state.seq > 600
    asked: list[int] = []
    records_after = Store.records_after

    def counted(self, seq, limit=10_000):
        found = records_after(self, seq, limit)
        asked.append(len(found))
        return found

    monkeypatch.setattr(Store, "records_after", counted)
    restarted = reopen(hall, Clock(clock.now))
    assert msgspec.json.encode(restarted.state) == msgspec.json.encode(hall.state)
    assert sum(asked) == hall.state.seq and max(asked) <= 500


def sqlite_memory_used() -> int:
    """SQLite's own heap in this process (sqlite3_status64 SQLITE_STATUS_MEMORY_USED)."""
    import _sqlite3

    maps = Path("/proc/self/maps").read_text(encoding="utf-8").splitlines()
    paths = [line.split()[-1] for line in maps if "libsqlite3" in line] + [_sqlite3.__file__]
    for path in paths:
        try:
            status = ctypes.CDLL(path).sqlite3_status64
        except (OSError, AttributeError):
            continue
        used, high = ctypes.c_int64(), ctypes.c_int64()
        status(0, ctypes.byref(used), ctypes.byref(high), 0)
        return used.value
    pytest.skip("SQLite's status is not reachable from here")


def test_a_snapshot_written_is_not_kept_in_sqlites_memory(db):
    """SQLite keeps the values last bound to a cached statement: a snapshot bound as a
    parameter stayed in memory, megabytes by the afternoon, until the next one."""
    db.query("PRAGMA cache_size = 16")  # 16 pages: what the page cache holds does not count
    store = Store(db)
    day = dt.date(2026, 11, 24)
    with db.transaction() as tx:  # the statements prepared, the cache warm
        store.save_snapshot(tx, HallState(day=day, seq=1), START)
    big = HallState(day=day, seq=2, closed_services={f"S{i:05d}": "暂停办理" * 20
                                                     for i in range(20_000)})
    document = len(msgspec.json.encode(big))
    assert document > 4_000_000
    before = sqlite_memory_used()
    with db.transaction() as tx:
        store.save_snapshot(tx, big, START)
    kept = sqlite_memory_used() - before
    assert kept < 500_000, f"{kept} bytes kept after a snapshot of {document}"
    assert store.latest_snapshot() == big
