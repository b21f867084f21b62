"""The audit log's retention: records past `[audit] retention_days` move to signed archive
files and only then leave the live table; the archive verifies on its own and the live chain
still verifies from its anchor; nothing is deleted when an archive cannot be written. And the
export of a range of days for the supervision office, over the CLI and the office API.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import msgspec
import pytest
import requests

from hub.auth import Role
from hub.backup import backup, restore
from hub.config import load_config
from hub.config.load import ConfigError
from hub.runtime import open_database
from hub.store.accounts import Accounts
from hub.store.audit import GENESIS, AuditEntry, AuditLog, chain_hash, verify
from hub.store.audit_archive import (
    ArchiveError,
    archive_old,
    chain_records,
    load_key,
    verify_archive,
)
from hub.store.database import Database
from tests.hubproc import HALL_24H, PASSWORD, SUITE_CLOCK, HubProcess, hall_today
from tests.waiting import eventually

UTC = dt.UTC
# The frozen "now" of the retention job: no test depends on the day it runs.
NOW = dt.datetime(2027, 6, 30, 2, 0, tzinfo=UTC)
RETENTION = 180
CUTOFF = NOW - dt.timedelta(days=RETENTION)


def _cli(*args: str, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args, "--config", str(HALL_24H), "--data", str(data)],
        capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def db(data) -> Database:
    database = Database(data / "onestop.db")
    database.migrate()
    yield database
    database.close()


def fill(db: Database, days_ago: list[float]) -> list[dict]:
    """One staff record per entry, `days_ago` before NOW, in that order."""
    log, stored = AuditLog(db), []
    for n, ago in enumerate(days_ago):
        entry = AuditEntry(at=NOW - dt.timedelta(days=ago), account=f"clerk{n % 3 + 1}",
                           role="clerk", action="call-next", window_no=1, addr="10.0.0.11",
                           detail={"n": n})
        with db.transaction() as tx:
            stored.append(log.append(tx, entry))
    return stored


def archive(db: Database, data: Path, retention: int = RETENTION, now: dt.datetime = NOW):
    return archive_old(db, data / "audit-archive", data / "audit-archive.key", retention, now,
                       "urn:onestop:test")


def live_seqs(db: Database) -> list[int]:
    return [r["seq"] for r in db.query("SELECT seq FROM audit ORDER BY seq")]


# 5 records older than 180 days, one just inside, then 3 recent ones.
AGES = [400, 300, 250, 200, 180.01, 179.99, 30, 1, 0]


def test_the_job_archives_exactly_the_records_past_retention(db, data):
    stored = fill(db, AGES)
    done = archive(db, data)
    assert [(a.first_seq, a.last_seq) for a in done] == [(1, 5)]
    assert live_seqs(db) == [6, 7, 8, 9]
    key = load_key(data / "audit-archive.key")
    assert oct((data / "audit-archive.key").stat().st_mode & 0o777) == "0o600"
    check = verify_archive(done[0].path.read_bytes(), key)
    assert check.ok, check.problem
    lines = done[0].path.read_bytes().splitlines()
    assert [json.loads(line)["hash"] for line in lines[1:-1]] == [r["hash"] for r in stored[:5]]
    assert check.header["prev_hash"] == GENESIS
    assert check.header["last_hash"] == stored[4]["hash"]
    # the live chain verifies from the anchor, appends go on from it, and again after more
    result = verify(db)
    assert result.ok and result.checked == 4 and result.head == stored[-1]["hash"], result
    assert archive(db, data) == []  # nothing more is due: idempotent
    assert verify(db, expect_head=stored[6]["hash"]).ok
    # the next day, the record just inside is due too: a second file, continuing the first
    later = archive(db, data, now=NOW + dt.timedelta(days=1))
    assert [(a.first_seq, a.last_seq) for a in later] == [(6, 6)]
    assert verify_archive(later[0].path.read_bytes(), key).header["prev_hash"] == \
        stored[4]["hash"]
    assert verify(db).ok and live_seqs(db) == [7, 8, 9]


def test_all_records_archived_the_chain_goes_on_from_the_anchor(db, data):
    stored = fill(db, [300, 250])
    archive(db, data)
    assert live_seqs(db) == []
    assert verify(db).ok and verify(db).head == stored[-1]["hash"]
    assert AuditLog(db).head() == (2, stored[-1]["hash"])
    more = fill(db, [0])
    assert more[0]["seq"] == 3 and more[0]["prev_hash"] == stored[-1]["hash"]
    assert verify(db).ok and verify(db).checked == 1


def test_a_tampered_archive_fails_verification(db, data):
    fill(db, AGES)
    path = archive(db, data)[0].path
    key = load_key(data / "audit-archive.key")
    good = path.read_bytes()
    edited = good.replace(b'"account":"clerk2"', b'"account":"clerk9"', 1)
    assert edited != good
    assert "signature" in verify_archive(edited, key).problem
    # a record dropped and the file re-signed with another key: refused for the key
    other = b"\x01" * 32
    assert "another key" in verify_archive(
        _resign(b"\n".join(good.splitlines()[:2] + good.splitlines()[3:-1]) + b"\n", other),
        key).problem
    # ... and, re-signed with the right key (someone who has it), the chain inside breaks
    lines = good.splitlines()
    dropped = b"\n".join(lines[:2] + lines[3:-1]) + b"\n"
    assert "breaks at seq 3" in verify_archive(_resign(dropped, key), key).problem
    assert not verify_archive(b"garbage", key).ok


def _resign(body: bytes, key: bytes) -> bytes:
    from hub.store.audit_archive import ALG, hashlib, hmac, key_id

    sig = {"signature": {"alg": ALG, "key_id": key_id(key),
                         "value": hmac.new(key, body, hashlib.sha256).hexdigest()}}
    return body + json.dumps(sig).encode() + b"\n"


def test_nothing_is_deleted_when_the_archive_cannot_be_written(db, data):
    fill(db, AGES)
    data.mkdir(exist_ok=True)
    (data / "audit-archive").write_text("a file where the directory should be")
    with pytest.raises(ArchiveError, match="cannot write"):
        archive(db, data)
    assert live_seqs(db) == list(range(1, 10))
    assert db.query("SELECT COUNT(*) FROM audit_archives")[0][0] == 0
    assert verify(db).ok


def test_a_broken_chain_is_not_archived(db, data):
    fill(db, AGES)
    db.query("UPDATE audit SET account = 'someone' WHERE seq = 2")
    with pytest.raises(ArchiveError, match="breaks at seq 2"):
        archive(db, data)
    assert live_seqs(db) == list(range(1, 10))
    assert not list((data / "audit-archive").glob("*.jsonl"))


def test_verify_finds_records_deleted_after_the_anchor(db, data):
    fill(db, AGES)
    archive(db, data)
    db.query("DELETE FROM audit WHERE seq = 6")
    result = verify(db)
    assert not result.ok and result.first_bad_seq == 7, result
    # a forged first record that claims to start the chain afresh does not follow the anchor
    db.query("DELETE FROM audit")
    fields = {"seq": 1, "at": NOW.isoformat(), "account": "x", "role": "clerk", "window_no": None,
              "addr": "", "action": "sign-in", "detail": "{}", "event_seqs": "", "outcome": "ok"}
    db.query("INSERT INTO audit (seq, at, account, role, window_no, addr, action, detail, "
             "event_seqs, outcome, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
             (*fields.values(), GENESIS, chain_hash(GENESIS, fields)))
    assert not verify(db).ok


def test_retention_below_180_days_is_refused(tmp_path):
    text = HALL_24H.read_text(encoding="utf-8")
    for days, ok in ((179, False), (180, True), (365, True)):
        path = tmp_path / f"hall-{days}.toml"
        path.write_text(text + f"\n[audit]\nretention_days = {days}\n", encoding="utf-8")
        if ok:
            assert load_config(path).audit.retention_days == days
        else:
            with pytest.raises((ConfigError, msgspec.ValidationError, ValueError),
                               match="retention_days"):
                load_config(path)


# --- over the CLI ---------------------------------------------------------------------------


def test_archive_and_verify_archive_over_the_cli(db, data):
    fill(db, AGES)
    env_clock = {**os.environ, "ONESTOP_CLOCK": NOW.isoformat()}
    run = subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "archive", "--config", str(HALL_24H),
         "--data", str(data)], capture_output=True, text=True, timeout=60, env=env_clock,
        check=False)
    assert run.returncode == 0, run.stderr
    assert "archived records 1-5" in run.stdout
    path = data / "audit-archive" / "audit-000000001-000000005.jsonl"
    ok = _cli("audit", "verify-archive", str(path), data=data)
    assert ok.returncode == 0 and "intact: records 1-5 (5)" in ok.stdout, ok
    verified = subprocess.run([sys.executable, "-m", "hub.cli", "audit", "verify", "--data",
                               str(data)], capture_output=True, text=True, timeout=60, check=False)
    assert verified.returncode == 0 and "intact: 4 records" in verified.stdout, verified
    path.write_bytes(path.read_bytes().replace(b"call-next", b"call-nexx", 1))
    bad = _cli("audit", "verify-archive", str(path), data=data)
    assert bad.returncode == 1 and "BROKEN" in bad.stdout, bad


def test_export_a_range_of_days_over_the_cli(db, data, tmp_path):
    stored = fill(db, [3, 2.5, 1.4, 0.2])  # hall days (UTC+8) from NOW = 2027-06-30 10:00
    days = [(NOW - dt.timedelta(days=a)).astimezone(load_config(HALL_24H).zone).date()
            for a in (3, 2.5, 1.4, 0.2)]
    first, last = days[1], days[2]
    out = tmp_path / "audit.csv"
    run = _cli("audit", "export", "--from", str(first), "--to", str(last), "--out", str(out),
               data=data)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    want = [r for r, d in zip(stored, days, strict=True) if first <= d <= last]
    assert [int(r["seq"]) for r in rows] == [r["seq"] for r in want] and want
    assert [r["hash"] for r in rows] == [r["hash"] for r in want]
    jsonl = _cli("audit", "export", "--from", str(days[0]), "--to", str(days[-1]), data=data)
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert chain_records(records)  # the export carries the chain: anyone can recompute it
    assert records[0]["prev_hash"] == GENESIS


# --- over the office API, on a real hub -------------------------------------------------------


@pytest.mark.slow
def test_export_over_the_api_is_for_supervisors_only(tmp_path):
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    accounts = Accounts(open_database(hub.data_dir))
    accounts.add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999", dt.datetime.now(UTC))
    accounts.db.close()
    hub.start()
    try:
        clerk, office = hub.login("clerk1", 1), hub.login("super")
        admin = hub.login("admin")
        today = hall_today().isoformat()
        url = f"{hub.url}/api/v1/audit/export"
        days = {"from": today, "to": today}

        def get(token: str | None, **params: str) -> requests.Response:
            headers = hub.auth(token) if token else {}
            return requests.get(url, params={**days, **params}, headers=headers, timeout=10)

        for token in (clerk, admin, hub.tokens["kiosk"], hub.tokens["screen"]):
            assert get(token).status_code == 403
        assert get(None).status_code == 401
        assert get(office, to="2026-01-01", **{"from": "2026-02-01"}).status_code == 422
        answer = get(office)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith("application/x-ndjson")
        records = [json.loads(line) for line in answer.text.splitlines()]
        signed_in = [(r["account"], r["action"]) for r in records]
        assert ("clerk1", "sign-in") in signed_in and ("super", "sign-in") in signed_in
        assert chain_records(records) and records[0]["prev_hash"] == GENESIS
        table = get(office, format="csv")
        assert table.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert [r["hash"] for r in rows[:len(records)]] == [r["hash"] for r in records]
        # the exports themselves are in the log, with who asked and for what
        log = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(office), timeout=10)
        exports = [r for r in log.json()["records"] if r["action"] == "audit-export"]
        assert [(r["account"], r["detail"]["format"]) for r in exports] == \
            [("super", "jsonl"), ("super", "csv")]
    finally:
        hub.stop()
    assert "Traceback" not in hub.log()


@pytest.mark.slow
def test_a_running_hub_archives_old_records_beside_itself(tmp_path):
    """The hub's housekeeping runs the archive job as a child process at start (and after each
    midnight): records older than 180 days by the hub's clock are archived and deleted, and
    the live chain, with the hub's own sign-ins appended after, still verifies."""
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    db = open_database(hub.data_dir)
    suite_now = SUITE_CLOCK()
    old = [AuditEntry(at=suite_now - dt.timedelta(days=ago), account="clerk1", role="clerk",
                      action="call-next", window_no=1) for ago in (400, 200, 181)]
    with db.transaction() as tx:
        for entry in (*old, AuditEntry(at=suite_now - dt.timedelta(days=10), account="clerk1",
                                        role="clerk", action="sign-out")):
            AuditLog(db).append(tx, entry)
    db.close()
    archived = hub.data_dir / "audit-archive" / "audit-000000001-000000003.jsonl"
    hub.start()
    try:
        eventually(archived.exists, 30, "the archive file")
        hub.login("super")
    finally:
        hub.stop()
    check = _cli("audit", "verify-archive", str(archived), data=hub.data_dir)
    assert check.returncode == 0, check
    db = open_database(hub.data_dir)
    assert db.query_one("SELECT MIN(seq) FROM audit")[0] == 4
    assert verify(db).ok, verify(db)
    db.close()
    assert "Traceback" not in hub.log()


def test_backups_carry_the_audit_archives_but_not_their_key(db, data, tmp_path):
    fill(db, AGES)
    first = archive(db, data)[0].path
    backup_file = tmp_path / "hall.tar.gz"
    assert backup(data, backup_file)["audit_archives"] == 1
    with tarfile.open(backup_file) as tar:
        names = tar.getnames()
    assert f"audit-archive/{first.name}" in names
    assert not [n for n in names if n.endswith(".key")]
    later = archive(db, data, now=NOW + dt.timedelta(days=1))[0].path  # after the backup
    db.close()
    restore(backup_file, data)  # over the same hall: the newer archive is kept
    assert sorted(p.name for p in (data / "audit-archive").glob("*.jsonl")) == \
        [first.name, later.name]
    elsewhere = tmp_path / "restored"
    restore(backup_file, elsewhere)
    key = load_key(data / "audit-archive.key")
    assert verify_archive((elsewhere / "audit-archive" / first.name).read_bytes(), key).ok


@pytest.mark.slow
def test_retention_on_postgresql(tmp_path):
    """The same job on a PostgreSQL store (several hubs): archived, the rest verifies, the
    chain goes on from the anchor."""
    from tests.pgredis import postgres_or_skip

    with postgres_or_skip() as server:
        pg = open_database(tmp_path, url=server.create_database("audit"))
        stored = fill(pg, AGES)
        done = archive(pg, tmp_path)
        assert [(a.first_seq, a.last_seq) for a in done] == [(1, 5)]
        assert verify_archive(done[0].path.read_bytes(),
                              load_key(tmp_path / "audit-archive.key")).ok
        assert verify(pg).ok and verify(pg).checked == 4
        assert fill(pg, [0])[0]["prev_hash"] == stored[-1]["hash"] and verify(pg).ok
        pg.close()
