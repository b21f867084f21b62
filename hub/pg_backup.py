"""`onestop backup|restore --db`: a PostgreSQL hall's database, with pg_dump and pg_restore.

See hub/backup.py for the archive. The dump is pg_dump's custom format: one snapshot of the
whole database (pg_dump reads in one transaction, without blocking the hubs), checked by
reading its table of contents back. The password never goes on a command line (`ps` shows
those): it is passed in PGPASSWORD.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from hub.backup import PG_DUMP, BackupError
from hub.store.postgres import redact


def _pg_program(name: str) -> str:
    """pg_dump/pg_restore: on PATH (Debian's wrappers pick the newest client), else the
    newest /usr/lib/postgresql/*/bin one."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def _pg_run(program: str, db_url: str, *args: str) -> str:
    """Run a PostgreSQL client program on `db_url`, the password in the environment only."""
    params = conninfo_to_dict(db_url)
    env = dict(os.environ)
    if params.get("password") is not None:
        env["PGPASSWORD"] = str(params.pop("password"))
    done = subprocess.run([_pg_program(program), *args, "--dbname", make_conninfo(**params)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BackupError(f"{program} on {redact(db_url)} failed: "
                          f"{done.stderr.strip()[-500:] or done.returncode}")
    return done.stdout


def dump(db_url: str, target: Path) -> None:
    """One consistent snapshot of the database (pg_dump reads in one transaction), then its
    table of contents read back: a dump that pg_restore cannot list is no backup."""
    _pg_run("pg_dump", db_url, "--format=custom", "--no-owner", "--no-privileges",
            "--file", str(target))
    listing = subprocess.run([_pg_program("pg_restore"), "--list", str(target)],
                             capture_output=True, text=True, check=False)
    if listing.returncode != 0 or "TABLE DATA public events" not in listing.stdout:
        raise BackupError(f"{target}: pg_restore cannot read the dump back: "
                          f"{listing.stderr.strip()[-300:]}")


def sessions(db_url: str) -> list[str]:
    """The other sessions on the database (a hub, a forwarder, a psql): who, from where."""
    with psycopg.connect(db_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT COALESCE(NULLIF(application_name, ''), usename), "
            "COALESCE(host(client_addr), 'local') FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'").fetchall()
    return [f"{name} ({addr})" for name, addr in rows]


def restore(dump_file: Path, data: Path, db_url: str, stamp: str) -> Path | None:
    """Load `dump_file` into `db_url` in one transaction (all of it, or on any error nothing);
    refused while another session uses the database. What it replaces is dumped first, to the
    returned path in `data` (None: the database was empty)."""
    others = sessions(db_url)
    if others:
        raise BackupError(f"the database is in use by {', '.join(others)}: stop every hub and "
                          "forwarder on it first (systemctl stop onestop-hub onestop-forward)")
    kept = None
    if _has_tables(db_url):
        kept = data / f"{PG_DUMP}.{stamp}.bak"
        dump(db_url, kept)
        os.chmod(kept, 0o600)  # staff and token hashes: for root's eyes
    _pg_run("pg_restore", db_url, "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", "--exit-on-error", str(dump_file))
    return kept


def _has_tables(db_url: str) -> bool:
    with psycopg.connect(db_url, connect_timeout=5) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM information_schema.tables "
                            "WHERE table_schema = 'public')").fetchone()[0]
