"""The archive: the SQLite snapshot (or the PostgreSQL dump), photos and the audit log's
archive files, written and restored."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from hub.backup.errors import BackupError

DB_FILE = "onestop.db"  # hub.runtime.DB_FILE; not imported, to keep this light
PG_DUMP = "onestop.pgdump"  # a PostgreSQL hall's database, in pg_dump's custom format
PHOTOS = "photos"
# The audit records past retention live only in these files ([audit] archive_dir's default):
# in every backup, and restored beside what is there, never over it. Their signing key is not
# in the backup (someone holding a backup must not be able to re-sign): keep it apart.
AUDIT_ARCHIVES = "audit-archive"
PID_FILE = "hub.pid"


def integrity_check(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    if rows != ["ok"]:
        raise BackupError(f"{path}: integrity check failed: {'; '.join(rows[:5])}")


def snapshot(db_path: Path, target: Path) -> None:
    """Copy the live database to `target` in one step of the online backup API."""
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    source = sqlite3.connect(db_path, timeout=30)
    dest = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        # pages=-1: all pages in one read transaction, so the copy is one commit's state.
        source.backup(dest, pages=-1)
        # A self-contained file: no WAL to carry along, whatever the source's mode.
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()
        source.close()
    integrity_check(target)


def backup(data_dir: str | Path, to: str | Path, db_url: str | None = None) -> dict[str, int]:
    """Write the archive `to` (atomically: a partial archive never has the final name): the
    SQLite database of `data_dir`, or the PostgreSQL database `db_url`, and the photos."""
    data = Path(data_dir)
    to = Path(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    photos = sorted(p for p in (data / PHOTOS).rglob("*") if p.is_file()) \
        if (data / PHOTOS).is_dir() else []
    audit = sorted((data / AUDIT_ARCHIVES).glob("audit-*.jsonl"))
    with tempfile.TemporaryDirectory(dir=to.parent, prefix=".onestop-backup-") as tmp:
        if db_url:
            from hub.backup import postgres  # noqa: PLC0415 - psycopg: the optional extra `pg`

            copy = Path(tmp) / PG_DUMP
            postgres.dump(db_url, copy)
        else:
            copy = Path(tmp) / DB_FILE
            snapshot(data / DB_FILE, copy)
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(copy, arcname=copy.name)
            for photo in photos:
                tar.add(photo, arcname=str(photo.relative_to(data)))
            for kept in audit:
                tar.add(kept, arcname=str(kept.relative_to(data)))
        os.chmod(partial, 0o600)  # staff and token hashes: for root's eyes
        partial.replace(to)
        size = copy.stat().st_size
    return {"db_bytes": size, "photos": len(photos), "audit_archives": len(audit)}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def users_of(db_path: Path) -> list[int]:
    """Processes that hold the database (or its WAL) open, from /proc: a hub or forwarder."""
    names = {str(db_path.resolve()), f"{db_path.resolve()}-wal"}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in names:
                        found.append(int(proc.name))
                        break
    return found


def ensure_stopped(data: Path) -> None:
    """Refuse while a hub runs on `data`: by its pid file when there is one, and in any case
    by who holds the database open (a hub without a pid file, a forwarder, a stray shell)."""
    pid_file = data / PID_FILE
    pid = 0
    if pid_file.is_file():
        with contextlib.suppress(ValueError, OSError, IndexError):  # unreadable: as if absent
            pid = int(pid_file.read_text().split()[0])
        if pid > 0 and _pid_alive(pid):
            raise BackupError(f"a hub (pid {pid}, {pid_file}) is running on {data}: "
                              "stop it first (systemctl stop onestop-hub onestop-forward)")
    holders = users_of(data / DB_FILE)
    if holders:
        raise BackupError(f"process(es) {', '.join(map(str, holders))} have {data / DB_FILE} "
                          "open: stop the hub and forwarder first "
                          "(systemctl stop onestop-hub onestop-forward)")


def _set_aside(path: Path, stamp: str) -> Path | None:
    """Move `path` to `path.bak` (or a dated .bak if that is taken); None if absent."""
    if not path.exists():
        return None
    bak = path.with_name(path.name + ".bak")
    if bak.exists():
        bak = path.with_name(f"{path.name}.{stamp}.bak")
    path.replace(bak)
    return bak


def restore(archive: str | Path, data_dir: str | Path, db_url: str | None = None) -> list[Path]:
    """Put the archive's database and photos in place; returns what was set aside."""
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    ensure_stopped(data)
    owner = data.stat()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    want, other = (PG_DUMP, DB_FILE) if db_url else (DB_FILE, PG_DUMP)
    with tempfile.TemporaryDirectory(dir=data, prefix=".onestop-restore-") as tmp:
        staging = Path(tmp)
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers()
                       if m.name == want or m.name.startswith((f"{PHOTOS}/",
                                                               f"{AUDIT_ARCHIVES}/"))]
            if want not in {m.name for m in members}:
                if other in tar.getnames():
                    raise BackupError(
                        f"{archive} is the backup of a hall on "
                        f"{'SQLite' if other == DB_FILE else 'PostgreSQL'}: restore it "
                        f"{'without' if other == DB_FILE else 'with'} --db")
                raise BackupError(f"{archive}: no {want} in it: not an onestop backup")
            tar.extractall(staging, members=members, filter="data")
        set_aside = []
        if db_url:
            from hub.backup import postgres  # noqa: PLC0415 - psycopg: the optional extra `pg`

            if (kept := postgres.restore(staging / PG_DUMP, data, db_url, stamp)) is not None:
                set_aside.append(kept)
            _put_photos(staging, data, stamp, set_aside)
            _put_audit_archives(staging, data)
            _chown_like(data, owner, [*set_aside])
            return set_aside
        integrity_check(staging / DB_FILE)
        # The old WAL belongs to the old database: it goes with it (as .bak-wal, where SQLite
        # looks for it if the .bak is ever opened).
        bak_name = f"{DB_FILE}.bak"
        if (data / bak_name).exists():
            bak_name = f"{DB_FILE}.{stamp}.bak"
        for suffix in ("", "-wal", "-shm"):
            old = data / f"{DB_FILE}{suffix}"
            if old.exists():
                old.replace(data / f"{bak_name}{suffix}")
                set_aside.append(data / f"{bak_name}{suffix}")
        _put_photos(staging, data, stamp, set_aside)
        _put_audit_archives(staging, data)
        (staging / DB_FILE).replace(data / DB_FILE)
    _chown_like(data, owner, [data / DB_FILE])
    return set_aside


def _put_photos(staging: Path, data: Path, stamp: str, set_aside: list[Path]) -> None:
    """The photos are the backup's too, even none: the restored database names only those."""
    if (bak := _set_aside(data / PHOTOS, stamp)) is not None:
        set_aside.append(bak)
    if (staging / PHOTOS).is_dir():
        (staging / PHOTOS).replace(data / PHOTOS)


def _put_audit_archives(staging: Path, data: Path) -> None:
    """The backup's audit archive files that are not there: one written since the backup is
    kept (its records are nowhere else), and an archive is never replaced by another copy."""
    if not (staging / AUDIT_ARCHIVES).is_dir():
        return
    (data / AUDIT_ARCHIVES).mkdir(exist_ok=True)
    for path in (staging / AUDIT_ARCHIVES).glob("audit-*.jsonl"):
        if not (data / AUDIT_ARCHIVES / path.name).exists():
            path.replace(data / AUDIT_ARCHIVES / path.name)


def _chown_like(data: Path, owner: os.stat_result, paths: list[Path]) -> None:
    """Restored by root for a hub that runs as `onestop`: the files go to the data dir's owner."""
    if os.geteuid() != 0:
        return
    for path in [*paths, *(data / PHOTOS).rglob("*"), data / PHOTOS,
                 *(data / AUDIT_ARCHIVES).glob("*"), data / AUDIT_ARCHIVES]:
        with contextlib.suppress(FileNotFoundError):
            os.chown(path, owner.st_uid, owner.st_gid)

