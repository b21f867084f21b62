"""The staff audit log: what is recorded, that it commits with the change it records,
and that the hash chain finds an edited, deleted or swapped record — in process, and once
through `onestop audit verify` against a real hub.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hub.auth import Principal, RateLimiter, Role
from hub.config import load_config
from hub.engine import DomainError
from hub.service import HallService, Unauthorized
from hub.store.accounts import Accounts
from hub.store.audit import GENESIS, AuditLog, canonical, chain_hash, verify
from hub.store.database import Database
from hub.store.store import Store
from tests.hubproc import HALL_24H, PASSWORD, HubProcess
from tests.test_store import KIOSK, Clock, rows

CLERK_ADDR, SUPER_ADDR = "10.0.0.11", "10.0.0.90"
COLUMNS = "account, role, window_no, addr, action, outcome"


@pytest.fixture
def service(db_path) -> Iterator[HallService]:
    """A hall in process (as in test_store.py) with a clerk's and a supervisor's account."""
    db = Database(db_path)
    db.migrate()
    clock = Clock()
    accounts = Accounts(db)
    accounts.add_user("clerk1", PASSWORD, Role.CLERK, "职员1", "JZ001", clock())
    accounts.add_user("super", PASSWORD, Role.SUPERVISOR, "督查员", "JZ900", clock())
    yield HallService(load_config(HALL_24H), db, clock=clock)
    db.close()


def audit_rows(db_path: Path, columns: str = COLUMNS) -> list[tuple]:
    return rows(db_path, f"SELECT {columns} FROM audit ORDER BY seq")


def a_day(service: HallService) -> tuple[Principal, Principal]:
    """Sign-in, call, transfer, pause, finish, 退件 approval, a refusal, a failed login."""
    clerk = service.authenticate(service.login("clerk1", PASSWORD, 1, CLERK_ADDR)["token"])
    office = service.authenticate(service.login("super", PASSWORD, None, SUPER_ADDR)["token"])
    for _ in range(2):
        service.issue_ticket(KIOSK, "S1")
    service.window_action(clerk, 1, "call-next", {}, CLERK_ADDR)
    service.window_action(clerk, 1, "transfer", {"window": 2, "reason": "转窗"}, CLERK_ADDR)
    service.window_action(clerk, 1, "call-next", {}, CLERK_ADDR)
    service.window_action(clerk, 1, "finish", {"outcome": "returned", "reason": "材料不全"},
                          CLERK_ADDR)
    [pending] = service.pending_returns(office)
    service.decide_return(office, pending["id"], True, "同意", SUPER_ADDR)
    service.window_action(clerk, 1, "pause", {"reason": "暂离"}, CLERK_ADDR)
    with pytest.raises(DomainError) as refused:
        service.window_action(clerk, 1, "pause", {"reason": "暂离"}, CLERK_ADDR)
    assert refused.value.code == "already_paused"
    with pytest.raises(Unauthorized):
        service.login("clerk1", "wrong password", 1, "10.0.0.66")
    return clerk, office


EXPECTED = [
    ("clerk1", "clerk", 1, CLERK_ADDR, "sign-in", "ok"),
    ("super", "supervisor", None, SUPER_ADDR, "sign-in", "ok"),
    ("clerk1", "clerk", 1, CLERK_ADDR, "call-next", "ok"),
    ("clerk1", "clerk", 1, CLERK_ADDR, "transfer", "ok"),
    ("clerk1", "clerk", 1, CLERK_ADDR, "call-next", "ok"),
    ("clerk1", "clerk", 1, CLERK_ADDR, "finish", "ok"),
    ("super", "supervisor", None, SUPER_ADDR, "approve-return", "ok"),
    ("clerk1", "clerk", 1, CLERK_ADDR, "pause", "ok"),
    ("clerk1", "clerk", 1, CLERK_ADDR, "pause", "already_paused"),
    ("clerk1", "", 1, "10.0.0.66", "sign-in", "bad_credentials"),
]


def test_every_staff_action_is_recorded_and_chained(service, db_path):
    clerk, _ = a_day(service)
    assert audit_rows(db_path) == EXPECTED
    # Each change names the events it committed, and they are that actor's (an office
    # sign-in changes nothing of the hall: no events).
    for seqs, action in rows(db_path, "SELECT event_seqs, action FROM audit WHERE outcome = 'ok' "
                             "AND NOT (action = 'sign-in' AND role = 'supervisor')"):
        assert seqs, action
        actors = rows(db_path, f"SELECT DISTINCT actor FROM events WHERE seq IN ({seqs})")
        assert len(actors) == 1 and actors[0][0].split(":")[1] in ("clerk1", "super")
    refused = rows(db_path, "SELECT event_seqs, detail FROM audit WHERE outcome != 'ok' "
                   "ORDER BY seq")
    assert refused[0] == ("", '{"reason":"暂离"}')
    assert refused[1][0] == ""  # and never the password tried
    assert "wrong password" not in str(rows(db_path, "SELECT * FROM audit"))

    service.logout(clerk, CLERK_ADDR)
    assert audit_rows(db_path)[-1] == ("clerk1", "clerk", 1, CLERK_ADDR, "sign-out", "ok")
    result = verify(service.db)
    assert result.ok and result.first_bad_seq is None and result.checked == len(EXPECTED) + 1
    assert result.head == rows(db_path, "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")[0][0]

    # The hash is exactly sha256(prev_hash || canonical JSON), as docs/audit.md says.
    prev, digest = rows(db_path, "SELECT prev_hash, hash FROM audit WHERE seq = 1")[0]
    assert prev == GENESIS
    full = dict(zip(["seq", "at", "account", "role", "window_no", "addr", "action", "detail",
                     "event_seqs", "outcome"],
                    rows(db_path, "SELECT seq, at, account, role, window_no, addr, action, "
                         "detail, event_seqs, outcome FROM audit WHERE seq = 1")[0], strict=True))
    assert canonical(full).startswith(b'{"account":"clerk1","action":"sign-in","addr":')
    assert chain_hash(prev, full) == digest


def test_the_office_reads_the_log(service):
    _, office = a_day(service)
    records = service.audit_records(office, "super", None, 10)
    assert [r["action"] for r in records] == ["sign-in", "approve-return"]
    assert records[1]["detail"]["note"] == "同意" and records[1]["event_seqs"]
    assert len(service.audit_records(office, None, None, 3)) == 3
    clerk = Principal(role=Role.CLERK, name="clerk1", window=1)
    with pytest.raises(DomainError, match="无权"):
        service.audit_records(clerk, None, None, 10)


def test_devices_are_not_audited(service, db_path):
    service.issue_ticket(KIOSK, "S1")
    service.issue_ticket(KIOSK, "S2", "normal", None, "10.0.0.5", "req-1")
    with pytest.raises(DomainError):
        service.issue_ticket(KIOSK, "S9")  # refused, by a device: not audited either
    assert audit_rows(service.db.path) == []
    assert verify(service.db) == (True, None, 0, GENESIS, "")


def tamper(db_path: Path, *statements: str) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


_SWAPPED = ("at, account, role, window_no, addr, action, detail, event_seqs, outcome, "
            "prev_hash, hash")


@pytest.mark.parametrize(
    ("statements", "first_bad"),
    [
        (["UPDATE audit SET account = 'clerk2' WHERE seq = 4"], 4),
        (["UPDATE audit SET outcome = 'ok' WHERE seq = 9"], 9),
        (["DELETE FROM audit WHERE seq = 5"], 6),
        (["DELETE FROM audit WHERE seq = 1"], 2),
        # Two rows' data swapped whole (hashes included): a reordering.
        ([f"CREATE TABLE t AS SELECT seq, {_SWAPPED} FROM audit WHERE seq IN (3, 6)",
          f"UPDATE audit SET ({_SWAPPED}) = (SELECT {_SWAPPED} FROM t WHERE t.seq = 9 - "
          "audit.seq) WHERE seq IN (3, 6)"], 3),
    ],
    ids=["field-edited", "refusal-whitewashed", "middle-deleted", "first-deleted", "swapped"],
)
def test_tampering_is_found_at_the_first_bad_record(service, db_path, statements, first_bad):
    a_day(service)
    assert verify(service.db).ok
    tamper(db_path, *statements)
    result = verify(service.db)
    assert (result.ok, result.first_bad_seq) == (False, first_bad)
    assert result.checked == len(rows(db_path, "SELECT seq FROM audit WHERE seq < ?", (first_bad,)))


def test_a_deleted_tail_is_found_only_by_the_counter_or_a_noted_head(service, db_path):
    a_day(service)
    noted = verify(service.db).head
    tamper(db_path, "DELETE FROM audit WHERE seq = 10")
    assert verify(service.db)[:2] == (False, 10)  # the append counter says 10
    tamper(db_path, "UPDATE audit_lock SET appends = 9")  # a careful intruder
    assert verify(service.db).ok  # the chain alone cannot tell: docs/audit.md
    result = verify(service.db, expect_head=noted)
    assert not result.ok and "no record has the expected hash" in result.problem
    # A head noted earlier stays valid while records are appended after it.
    earlier = rows(db_path, "SELECT hash FROM audit WHERE seq = 5")[0][0]
    assert verify(service.db, expect_head=earlier).ok


def test_the_audit_record_commits_with_its_change_or_not_at_all(service, db_path, monkeypatch):
    clerk, _ = a_day(service)
    service.window_action(clerk, 1, "resume", {}, CLERK_ADDR)
    service.issue_ticket(KIOSK, "S1")
    service.window_action(clerk, 1, "call-next", {}, CLERK_ADDR)
    audited = audit_rows(db_path)
    events = rows(db_path, "SELECT seq FROM events")

    def broken(self, tx, *args, **kwargs):
        raise OSError("disk on fire")

    # The change fails after its audit record was written: neither stays.
    with monkeypatch.context() as patch:
        patch.setattr(Store, "save_tickets", broken)
        with pytest.raises(OSError):
            service.window_action(clerk, 1, "finish", {}, CLERK_ADDR)
    assert audit_rows(db_path) == audited and rows(db_path, "SELECT seq FROM events") == events
    # The audit record cannot be written: the change does not happen either.
    with monkeypatch.context() as patch:
        patch.setattr(AuditLog, "append", broken)
        with pytest.raises(OSError):
            service.window_action(clerk, 1, "finish", {}, CLERK_ADDR)
    assert audit_rows(db_path) == audited and rows(db_path, "SELECT seq FROM events") == events
    service.window_action(clerk, 1, "finish", {}, CLERK_ADDR)
    assert audit_rows(db_path)[-1][4:] == ("finish", "ok")
    assert verify(service.db).ok


# --- through the CLI, against a real hub --------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli", "--log-level", "warning", *args],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow
def test_audit_verify_cli_against_a_running_hub(tmp_path):
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        clerk = hub.login("clerk1", 1)
        assert hub.issue("S1").status_code == 201
        assert hub.act(clerk, 1, "call-next").status_code == 200
        assert hub.act(clerk, 1, "finish").status_code == 200
        assert hub.act(clerk, 1, "resume").status_code == 409  # refused: audited too
        office = hub.login("super")
        r = requests.get(f"{hub.url}/api/v1/audit", params={"account": "clerk1"},
                         headers=hub.auth(office), timeout=5)
        assert r.status_code == 200
        assert [(a["action"], a["outcome"], a["addr"]) for a in r.json()["records"]] == [
            ("sign-in", "ok", "127.0.0.1"), ("call-next", "ok", "127.0.0.1"),
            ("finish", "ok", "127.0.0.1"), ("resume", "not_paused", "127.0.0.1")]
        r = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(clerk), timeout=5)
        assert r.status_code == 403
        r = requests.get(f"{hub.url}/api/v1/audit", params={"since": "yesterday"},
                         headers=hub.auth(office), timeout=5)
        assert r.status_code == 422

        data = str(hub.data_dir)
        good = cli("audit", "verify", "--data", data)
        assert good.returncode == 0, good.stderr
        assert good.stdout.startswith("audit chain intact: 5 records, head ")
        head = good.stdout.split()[-1]
        assert cli("audit", "verify", "--data", data, "--expect-head", head).returncode == 0
        shown = cli("audit", "show", "--data", data, "--account", "super")
        assert shown.returncode == 0 and "sign-in" in shown.stdout

        tamper(hub.data_dir / "onestop.db", "UPDATE audit SET addr = '10.9.9.9' WHERE seq = 3")
        bad = cli("audit", "verify", "--data", data)
        assert bad.returncode == 1
        assert "seq 3" in bad.stdout
    finally:
        hub.stop()


def test_rate_limited_and_refused_sign_ins_are_recorded(db_path):
    db = Database(db_path)
    db.migrate()
    clock = Clock()
    Accounts(db).add_user("clerk1", PASSWORD, Role.CLERK, "职员1", "JZ001", clock())
    hall = HallService(load_config(HALL_24H), db, clock=clock,
                       login_limiter=RateLimiter(limit=1, window_s=60))
    try:
        with pytest.raises(Unauthorized):
            hall.login("nobody", "guess", None, "10.0.0.66")
        with pytest.raises(DomainError, match="登录失败次数过多"):
            hall.login("clerk1", PASSWORD, 1, "10.0.0.66")  # the address is blocked now
        with pytest.raises(DomainError):
            hall.login("clerk1", PASSWORD, 99, "10.0.0.12")  # no window 99
        assert audit_rows(db_path) == [
            ("nobody", "", None, "10.0.0.66", "sign-in", "bad_credentials"),
            ("clerk1", "", 1, "10.0.0.66", "sign-in", "too_many_attempts"),
            ("clerk1", "", 99, "10.0.0.12", "sign-in", "unknown_window"),
        ]
        assert verify(db).ok
    finally:
        db.close()
