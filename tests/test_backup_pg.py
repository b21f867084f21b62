"""`onestop backup --db` and `onestop restore --db`: a PostgreSQL hall backed up with
pg_dump while a real hub takes tickets, restored into a new database and over the old one (the
hub stopped), and a hub started on it that has every ticket the backup saw."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.hubproc import HubProcess, TicketTaker, serves_restored
from tests.pgredis import postgres_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]



@pytest.fixture(scope="module")
def pg():
    with postgres_or_skip() as server:
        yield server


def onestop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def tickets(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM tickets")}


def event_seqs(url: str) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]


def test_backup_while_taking_tickets_then_restore_and_run(pg, tmp_path: Path) -> None:
    url = pg.create_database(f"hall_{uuid.uuid4().hex[:8]}")
    hub = HubProcess(tmp_path / "data", db_url=url)
    hub.provision()
    (hub.data_dir / "photos").mkdir()
    (hub.data_dir / "photos" / "clerk1.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    hub.start()
    archive = tmp_path / "backups" / "hall.tar.gz"
    try:
        with TicketTaker(hub) as taker:
            before = taker.wait_for(20)
            made = onestop("backup", "--data", str(hub.data_dir), "--db", url,
                           "--to", str(archive))
        issued = taker.issued
        assert made.returncode == 0, made.stderr
        assert "read back by pg_restore" in made.stdout and "1 photo" in made.stdout
        # Over the live hall: refused, and nothing changed.
        live = onestop("restore", "--from", str(archive), "--data", str(tmp_path / "x"),
                       "--db", url)
        assert live.returncode == 2 and "in use by onestop" in live.stderr, live.stderr
    finally:
        hub.stop()
    assert len(issued) > len(before)  # tickets were taken during and after the backup
    assert len(tickets(url)) == len(issued)
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["onestop.pgdump", "photos/clerk1.jpg"]
    assert archive.stat().st_mode & 0o077 == 0

    # Into a new, empty database: nothing to keep aside.
    fresh = pg.create_database(f"restored_{uuid.uuid4().hex[:8]}")
    put = onestop("restore", "--from", str(archive), "--data", str(tmp_path / "new"),
                  "--db", fresh)
    assert put.returncode == 0, put.stderr
    saved = tickets(fresh)
    assert before <= saved <= set(issued)  # one consistent moment between the two
    seqs = event_seqs(fresh)
    assert seqs == list(range(1, len(seqs) + 1))  # the outbox whole, no gap
    assert (tmp_path / "new" / "photos" / "clerk1.jpg").read_bytes().startswith(b"\xff\xd8")

    # Over the old database, the hub stopped: what it had is kept as a dump, then replaced.
    over = onestop("restore", "--from", str(archive), "--data", str(hub.data_dir), "--db", url)
    assert over.returncode == 0, over.stderr
    kept = [p for p in hub.data_dir.iterdir() if p.name.startswith("onestop.pgdump.")]
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o077 == 0, kept
    assert tickets(url) == saved  # the tickets taken after the backup are gone
    assert (hub.data_dir / "photos.bak").is_dir()

    serves_restored(HubProcess(hub.data_dir, port=hub.port, db_url=url, tokens=hub.tokens),
                    before)


def test_a_backup_restores_only_into_its_kind_of_store(pg, tmp_path: Path) -> None:
    url = pg.create_database(f"kind_{uuid.uuid4().hex[:8]}")
    HubProcess(tmp_path / "pg", db_url=url).provision(clerks=1)
    HubProcess(tmp_path / "lite").provision(clerks=1)
    of_pg, of_sqlite = tmp_path / "pg.tar.gz", tmp_path / "lite.tar.gz"
    assert onestop("backup", "--data", str(tmp_path / "pg"), "--db", url,
                   "--to", str(of_pg)).returncode == 0
    assert onestop("backup", "--data", str(tmp_path / "lite"), "--to",
                   str(of_sqlite)).returncode == 0
    wrong = onestop("restore", "--from", str(of_pg), "--data", str(tmp_path / "a"))
    assert wrong.returncode == 2 and "PostgreSQL: restore it with --db" in wrong.stderr
    wrong = onestop("restore", "--from", str(of_sqlite), "--data", str(tmp_path / "b"),
                    "--db", url)
    assert wrong.returncode == 2 and "SQLite: restore it without --db" in wrong.stderr
    assert not (tmp_path / "a" / "onestop.db").exists()


def test_an_older_backup_restores_over_a_newer_schema(pg, tmp_path: Path) -> None:
    """A backup from before a migration, restored over a database migrated since: nothing of
    the newer schema may stay behind (the next start migrates again, from the backup's
    version), and a failed restore changes nothing."""
    import psycopg

    url = pg.create_database(f"older_{uuid.uuid4().hex[:8]}")
    hub = HubProcess(tmp_path / "data", db_url=url)
    hub.provision(clerks=1)
    archive = tmp_path / "before.tar.gz"
    assert onestop("backup", "--data", str(hub.data_dir), "--db", url,
                   "--to", str(archive)).returncode == 0
    with psycopg.connect(url, autocommit=True) as conn:  # what a later migration might add
        conn.execute("CREATE TABLE from_a_later_version (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'later', 'now')")
    # A broken archive first: refused by pg_restore, and the database is as it was.
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as tar:
        (tmp_path / "onestop.pgdump").write_bytes(b"PGDMP not really a dump")
        tar.add(tmp_path / "onestop.pgdump", arcname="onestop.pgdump")
    failed = onestop("restore", "--from", str(broken), "--data", str(hub.data_dir), "--db", url)
    assert failed.returncode == 2 and "nothing changed" in failed.stderr, failed.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('from_a_later_version')").fetchone()[0]
    put = onestop("restore", "--from", str(archive), "--data", str(hub.data_dir), "--db", url)
    assert put.returncode == 0, put.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('from_a_later_version')").fetchone()[0] is None
        assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] < 999
    hub.start()  # migrates and serves
    try:
        assert hub.issue().status_code == 201
    finally:
        hub.stop()
