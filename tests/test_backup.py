"""`onestop backup` while a real hub takes tickets, `onestop restore` into a new data directory,
and a hub started on it that has every ticket the backup saw."""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

import pytest

from hub.backup import BackupError, backup, restore
from tests.hubproc import HubProcess, TicketTaker, serves_restored

pytestmark = pytest.mark.slow


def _tickets(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM tickets")}
    finally:
        conn.close()


def test_backup_while_taking_tickets_then_restore_and_run(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    photos = tmp_path / "data" / "photos"
    photos.mkdir()
    (photos / "clerk1.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    hub.start()
    try:
        with TicketTaker(hub) as taker:
            before = taker.wait_for(20)
            archive = tmp_path / "backups" / "hall.tar.gz"
            backup(hub.data_dir, archive)  # while the taker keeps committing
        issued = taker.issued
        # The live hub refuses a restore onto its data directory (by hub.pid, or as the
        # process holding the database open).
        with pytest.raises(BackupError, match=r"is running|open"):
            restore(archive, hub.data_dir)
    finally:
        hub.stop()
    assert len(issued) > len(before)  # tickets were taken during and after the backup

    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["onestop.db", "photos/clerk1.jpg"]
    assert archive.stat().st_mode & 0o077 == 0

    new_data = tmp_path / "restored"
    assert restore(archive, new_data) == []
    saved = _tickets(new_data / "onestop.db")
    assert before <= saved <= set(issued)  # one consistent moment between the two
    assert (new_data / "photos" / "clerk1.jpg").read_bytes().startswith(b"\xff\xd8")

    # The accounts and tokens came with the database.
    serves_restored(HubProcess(new_data, port=hub.port, tokens=hub.tokens), before)


def test_restore_keeps_the_old_database(tmp_path: Path) -> None:
    first = HubProcess(tmp_path / "one")
    first.provision()
    archive = tmp_path / "one.tar.gz"
    backup(first.data_dir, archive)
    target = tmp_path / "two"
    HubProcess(target).provision(clerks=1)
    (target / "photos").mkdir()
    (target / "photos" / "old.jpg").write_bytes(b"old")
    old = (target / "onestop.db").read_bytes()
    kept = restore(archive, target)
    assert target / "onestop.db.bak" in kept and target / "photos.bak" in kept
    assert (target / "onestop.db.bak").read_bytes() == old
    assert (target / "photos.bak" / "old.jpg").exists()
    assert not (target / "photos").exists()  # the backup had none
    kept = restore(archive, target)  # .bak taken: a dated one
    assert any(p.name.startswith("onestop.db.2") and p.name.endswith(".bak") for p in kept)


def test_restore_refuses_a_live_pid_file_and_a_bad_archive(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "hub.pid").write_text(f"{__import__('os').getpid()}\n")
    with pytest.raises(BackupError, match="is running"):
        restore(tmp_path / "whatever.tar.gz", data)
    (data / "hub.pid").unlink()
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        tar.add(__file__, arcname="notes.txt")
    with pytest.raises(BackupError, match="not an onestop backup"):
        restore(bad, data)
