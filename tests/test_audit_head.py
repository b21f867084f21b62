"""The audit log's head in the event feed: one `audit.head` event a business day, committed like
every event (so the forwarder sends it), never repeated or skipped across restarts, even after
SIGKILL; and, from outside, the published head proves records deleted from the end of the log.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.clock import SetClock
from hub.config import load_config
from hub.runtime import DB_FILE
from hub.service import HallService
from hub.store.audit import GENESIS, AuditLog
from hub.store.database import Database
from tests.cereceiver import Receiver
from tests.hubproc import HALL_24H, HubProcess
from tests.test_forwarder import ForwardProcess, forward_config, wait_for
from tests.test_store import Clock, sign_in
from tests.waiting import eventually

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 25)


def heads(db_path: Path) -> list[dict]:
    """The audit.head events committed, oldest first, through a read-only connection."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT data FROM events WHERE type = 'audit.head' ORDER BY seq")
        return [json.loads(data) for (data,) in found.fetchall()]
    finally:
        conn.close()


# --- in process -----------------------------------------------------------------------------


def test_one_head_a_day_with_the_last_record_and_none_again_after_a_restart(tmp_path):
    db = Database(tmp_path / DB_FILE)
    db.migrate()
    clock = Clock(dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZONE))
    hall = HallService(load_config(HALL_24H), db, clock=clock)
    first = hall.publish_audit_head()
    assert [(r.type, r.event.day, r.event.seq, r.event.hash) for r in first] == \
        [("audit.head", DAY, 0, GENESIS)]  # no record yet: the genesis
    sign_in(hall, 1)  # an audited act after the day's head: in tomorrow's
    assert hall.publish_audit_head() == []
    clock.advance(hours=1)
    assert hall.publish_audit_head() == []
    # a restart on the same day (a new service on the same store) publishes nothing more
    again = HallService(load_config(HALL_24H), db, clock=clock)
    assert again.publish_audit_head() == []
    # the next day: the rollover, then that day's head, naming the last record
    clock.advance(days=1)
    records = again.publish_audit_head()
    assert [r.type for r in records][-1] == "audit.head" and "day.rolled" in \
        [r.type for r in records]
    head = records[-1].event
    last = AuditLog(db).head()
    assert (head.day, head.seq, head.hash) == (DAY + dt.timedelta(days=1), last.seq, last.hash)
    assert last.seq == 1
    assert again.publish_audit_head() == []
    assert [h["day"] for h in heads(tmp_path / DB_FILE)] == ["2026-11-25", "2026-11-26"]
    db.close()


# --- real hubs and a real forwarder ---------------------------------------------------------


def _at(day: dt.date, hh: int, mm: int, ss: int = 0) -> str:
    """A clock that reads this local time now: each hub run its own day."""
    return SetClock(dt.datetime.combine(day, dt.time(hh, mm, ss), tzinfo=ZONE),
                    anchor=time.time()).spec()


def _head_for(db_path: Path, day: dt.date) -> dict | None:
    return next((h for h in heads(db_path) if h["day"] == day.isoformat()), None)


def _verify(data: Path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli", "audit", "verify", "--data",
                           str(data), *more], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.slow
def test_the_daily_head_survives_sigkill_once_and_proves_a_deleted_tail(tmp_path, monkeypatch):
    """Day 1: staff sign in, the hub is SIGKILLed. Day 2: the hub publishes the head, naming
    the last sign-in, and is SIGKILLed. Restarted the same day, it publishes nothing more; at
    the next midnight it publishes day 3's. The forwarder sends the heads to the backend.
    Then the last records are deleted from the database (and the append counter lowered): the
    chain alone still verifies, the head the backend holds shows the truncation."""
    monkeypatch.setenv("ONESTOP_TICK_S", "0.2")
    receiver = Receiver().start()
    data = tmp_path / "data"
    db_path = data / DB_FILE
    hub = HubProcess(data, config=forward_config(tmp_path, receiver.url))
    hub.provision()
    day2, day3 = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    try:
        hub.clock = _at(DAY, 10, 0)
        hub.start()
        hub.login("clerk1", 1)
        hub.login("super")
        eventually(lambda: _head_for(db_path, DAY), 20, "day 1's head")
        hub.kill()
        hub.clock = _at(day2, 9, 0)
        hub.start()
        head2 = eventually(lambda: _head_for(db_path, day2), 20, "day 2's head")
        hub.kill()  # SIGKILL right after the day's head was committed
        last = AuditLog(db := Database(db_path)).head()
        db.close()
        assert (head2["seq"], head2["hash"]) == (last.seq, last.hash) and last.seq >= 2
        hub.clock = _at(day2, 23, 59, 58)  # restarted on day 2, running over midnight
        hub.start()
        eventually(lambda: _head_for(db_path, day3), 20, "day 3's head")
        hub.stop()
        assert Counter(h["day"] for h in heads(db_path)) == \
            {DAY.isoformat(): 1, day2.isoformat(): 1, day3.isoformat(): 1}
        forward = ForwardProcess(hub.config, data)
        forward.start()
        try:
            wait_for("the heads forwarded", lambda: len(_published(receiver)) == 3,
                     forward.log_path)
        finally:
            forward.stop()
    finally:
        if hub.proc and hub.proc.poll() is None:
            hub.kill()
        receiver.close()
    published = _published(receiver)
    assert [p["day"] for p in published] == [DAY.isoformat(), day2.isoformat(), day3.isoformat()]
    truncate_and_verify(data, published[-1]["hash"])


def truncate_and_verify(data: Path, latest: str) -> None:
    """Someone deletes the last record and lowers the counter to match: the chain alone
    verifies, the published head `latest` shows it."""
    assert _verify(data, "--expect-head", latest).returncode == 0
    conn = sqlite3.connect(data / DB_FILE)
    with conn:
        conn.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
        conn.execute("UPDATE audit_lock SET appends = appends - 1")
    conn.close()
    alone = _verify(data)
    assert alone.returncode == 0, alone.stdout
    against = _verify(data, "--expect-head", latest)
    assert against.returncode == 1 and "no record has the expected hash" in against.stdout


def _published(receiver: Receiver) -> list[dict]:
    """The audit heads the backend accepted (first copies), in the feed's order."""
    seen: dict[str, dict] = {}
    for event in receiver.snapshot():
        if event["type"] == "cn.gov.hall.audit.head":
            seen.setdefault(event["id"], event["data"])
    return list(seen.values())
