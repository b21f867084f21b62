"""The SQL connection: SQLite in WAL mode by default, explicit transactions, versioned migrations.

One connection per hub process, used under a lock: writes are serialised anyway (one hall, one
queue), and a single connection keeps SQLite's WAL checkpointing simple. SQL elsewhere in the
store is written to run unchanged on PostgreSQL (hub/store/postgres.py: the same interface,
selected by a `postgresql://` URL, for several hubs on one database).

One migration set for both engines. A line where they differ is written twice, as a comment
naming its dialect: `-- sqlite: <line>` and `-- postgresql: <line>`; `split_statements` keeps
the current dialect's lines (prefix removed) and drops every other comment line. Everything
else in a migration is portable SQL, run as is by both.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SYNC_MODES = ("FULL", "NORMAL")


class Database:
    dialect = "sqlite"
    shared = False  # one hub per SQLite file: no other process commits events

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in SYNC_MODES:
            raise ValueError(f"synchronous must be one of {SYNC_MODES}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly
        # the block it looks like.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"{self.path}: cannot switch SQLite to WAL mode (got {mode})")
        # FULL: a commit is on disk before it is acknowledged (power loss safe). NORMAL in WAL
        # mode survives a killed process but may lose the last commits on power loss.
        self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception. Not re-entrant."""
        with self._lock:
            if self._depth:
                raise RuntimeError("nested transaction")
            self._depth = 1
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(self._conn)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    # --- migrations ---------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            row = self._conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    def migrate(self) -> list[str]:
        return apply_migrations(self)


class Tx:
    """The open transaction handed to the store's write methods."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def insert_document(self, table: str, row: dict[str, Any], column: str,
                        document: bytes) -> None:
        """Insert `row` into `table` (a rowid table) with `document`, UTF-8 JSON, in `column`:
        written through a blob handle, not bound to the statement. SQLite keeps the values last
        bound to a prepared statement until it runs again (a reset does not clear them), and
        Python keeps the statement in its cache: a day's snapshot (megabytes by the afternoon)
        would stay in the hub's memory beside the state it was made of, and grow with the day.
        Stored as a BLOB of the JSON's bytes, so it is read back as bytes (no text copy)."""
        names, marks = ", ".join(row), ", ".join("?" for _ in row)
        cur = self._conn.execute(
            f"INSERT INTO {table} ({names}, {column}) VALUES ({marks}, zeroblob(?))",
            (*row.values(), len(document)),
        )
        assert cur.lastrowid is not None
        with self._conn.blobopen(table, column, cur.lastrowid, readonly=False) as blob:
            blob.write(document)


def available_migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("hub.store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def split_statements(sql: str, dialect: str = "sqlite") -> list[str]:
    """The statements of a migration for `dialect`: `-- <dialect>: ` lines become SQL, every
    other whole-line comment is dropped (so the other dialect's lines are too)."""
    mark = f"-- {dialect}:"
    lines = []
    for line in sql.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(mark):
            lines.append(stripped[len(mark):])
        elif not stripped.startswith("--"):
            lines.append(line)
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def apply_migrations(db: Any) -> list[str]:
    """Apply every migration newer than the database `db` (SQLite's Database or PostgreSQL's
    PgDatabase), each in its own write transaction. The version is read again inside each one,
    under the write lock: two hubs starting at once on one PostgreSQL store apply each migration
    exactly once, the second only waits."""
    db.schema_version()  # creates schema_migrations (IF NOT EXISTS: safe to race)
    applied = []
    for version, name, sql in available_migrations():
        with db.transaction() as tx:
            current = tx.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
            if version <= (current or 0):
                continue
            for statement in split_statements(sql, db.dialect):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) "
                "VALUES (?, ?, CURRENT_TIMESTAMP)",
                (version, name),
            )
        log.info("applied migration %04d %s", version, name)
        applied.append(name)
    return applied
