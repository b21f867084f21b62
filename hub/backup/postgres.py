"""`onestop backup|restore --db`: a PostgreSQL hall's database, with pg_dump and pg_restore.

See archive.py for the archive. The dump is pg_dump's custom format: one snapshot of the
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

from hub.backup.errors import BackupError
from hub.store.postgres import redact


def _pg_program(name: str) -> str:
    """pg_dump/pg_restore: on PATH (Debian's wrappers pick the newest client), else the
    newest /usr/lib/postgresql/*/bin one."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def _connection(db_url: str) -> tuple[dict, dict[str, str]]:
    """The URL's parameters without the password, and an environment with it (PGPASSWORD)."""
    params = conninfo_to_dict(db_url)
    env = dict(os.environ)
    if params.get("password") is not None:
        env["PGPASSWORD"] = str(params.pop("password"))
    return params, env


def _pg_run(program: str, db_url: str, *args: str) -> str:
    """Run a PostgreSQL client program on `db_url`, the password in the environment only."""
    params, env = _connection(db_url)
    done = subprocess.run([_pg_program(program), *args, "--dbname", make_conninfo(**params)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BackupError(f"{program} on {redact(db_url)} failed: "
                          f"{done.stderr.strip()[-500:] or done.returncode}")
    return done.stdout


def dump(db_url: str, target: Path) -> None:
    """One consistent snapshot of the database (pg_dump reads in one transaction), then its
    table of contents read back: a dump that pg_restore cannot list is no backup. The file is
    only ever readable by its owner (staff and token hashes), and a failed one is removed."""
    target.touch(mode=0o600, exist_ok=False)
    try:
        _pg_run("pg_dump", db_url, "--format=custom", "--no-owner", "--no-privileges",
                "--file", str(target))
        listing = subprocess.run([_pg_program("pg_restore"), "--list", str(target)],
                                 capture_output=True, text=True, check=False)
        if listing.returncode != 0 or "TABLE DATA public events" not in listing.stdout:
            raise BackupError(f"{target}: pg_restore cannot read the dump back: "
                              f"{listing.stderr.strip()[-300:]}")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


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
    """Replace the database's contents with `dump_file`, in one transaction (all of it, or on
    any error nothing); refused while another session uses the database. What it replaces is
    dumped first, to the returned path in `data` (None: the database was empty).

    The schema is dropped and made again first, inside that transaction: `pg_restore --clean`
    drops only what the dump has, so a backup from before a migration would leave the newer
    tables behind, and the next `migrate` would fail on them."""
    others = sessions(db_url)
    if others:
        raise BackupError(f"the database is in use by {', '.join(others)}: stop every hub and "
                          "forwarder on it first (systemctl stop onestop-hub onestop-forward)")
    kept = None
    if _has_tables(db_url):
        kept = data / f"{dump_file.name}.{stamp}.bak"
        n = 1
        while kept.exists():  # restored twice within a second (a first try that failed)
            n += 1
            kept = data / f"{dump_file.name}.{stamp}-{n}.bak"
        dump(db_url, kept)
    script = subprocess.Popen(  # the dump as SQL, into psql as it comes
        [_pg_program("pg_restore"), "--no-owner", "--no-privileges", "--file", "-",
         str(dump_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    params, env = _connection(db_url)
    load = subprocess.Popen(
        [_pg_program("psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
         "--dbname", make_conninfo(**params)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert script.stdout is not None and load.stdin is not None
    try:
        load.stdin.write(b"BEGIN;\nDROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
        while chunk := script.stdout.read(1 << 16):
            load.stdin.write(chunk)
        script.stdout.close()
        script_err = script.stderr.read() if script.stderr else b""
        # COMMIT only after the whole dump came through: psql's end of input without it
        # rolls everything back (a dump that breaks halfway must not leave half a hall).
        if script.wait() == 0:
            load.stdin.write(b"COMMIT;\n")
        load.stdin.close()
    except BrokenPipeError:  # psql stopped on an error (and rolled back): reported below
        script.kill()
        script.wait()
        script_err = b""
    load_err = load.stderr.read() if load.stderr else b""
    load.wait()
    if script.returncode != 0 or load.returncode != 0:
        raise BackupError(f"restore into {redact(db_url)} failed, nothing changed: "
                          f"{(script_err or load_err).decode(errors='replace').strip()[-500:]}")
    return kept


def _has_tables(db_url: str) -> bool:
    with psycopg.connect(db_url, connect_timeout=5) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM information_schema.tables "
                           "WHERE table_schema = 'public')").fetchone()
    assert row is not None  # EXISTS answers one row
    return row[0]
