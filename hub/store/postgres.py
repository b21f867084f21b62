"""The store on PostgreSQL: the same `Database`/`Tx` interface as SQLite, for several hubs.

Selected by a URL (`--db postgresql://user@host/db`, see hub/runtime.py); SQLite in the data
directory stays the default. The store's SQL is written once, with `?` placeholders and SQL that
both engines run; this module translates the placeholders to psycopg's `%s` and gives rows the
same access as `sqlite3.Row` (by index, by column name, `dict(row)`). Migrations are the same
files, with dialect lines where the engines differ (hub/store/database.py, `split_statements`).

Serialisation across hubs — why one advisory lock and not row locks:
every write transaction starts with `pg_advisory_xact_lock(HALL_LOCK)`, held until COMMIT or
ROLLBACK. That is exactly SQLite's `BEGIN IMMEDIATE` (one writer at a time for the hall), so
everything that is correct on SQLite stays correct here, unchanged:

- `HallService._commit` catches up with the events other hubs committed, decides on that state
  and appends; under the lock no other hub can commit in between, so two call-nexts at the same
  instant (on two hubs) are decided one after the other and never get the same ticket.
- `events.seq` is assigned by the writer (last seq + 1, hub/store/store.py) under the lock, so
  seq order is commit order and there are no gaps, even when a hub is killed mid-transaction
  (an identity column would leave a gap for every rolled-back insert, and would let a reader
  see seq 8 committed before seq 7 without the lock). The forwarder reads `seq > cursor`.
- the audit chain, sessions and device inbox keep their one-writer assumptions.

`SELECT … FOR UPDATE SKIP LOCKED` (what the issue suggests) fits a queue whose rows *are* the
state and whose consumers only pick a row. Here the queue's state is decided in memory by the
engine (fairness ratio, AB posts, transfers, priority runs): a call-next reads the whole hall,
not one row, so locking one ticket row would still let two hubs decide on stale states. The
cost of the one lock: writes of the hall do not run in parallel across hubs (a transaction is
~1 ms), which SQLite did not either; what the second hub adds is availability and sockets, not
write throughput (see benchmarks/README.md, "Scale-out"). Reads take no lock.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import RowMaker

from .database import apply_migrations

log = logging.getLogger(__name__)

# Advisory lock keys (one hall per database). Arbitrary 63-bit constants: "onestop" + purpose.
HALL_LOCK = 0x6F6E_6573_746F_7001  # every write transaction of the hall
FORWARDER_LOCK = 0x6F6E_6573_746F_7002  # held by the one `onestop forward` that delivers


def is_postgres_url(target: str | None) -> bool:
    return bool(target) and str(target).startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`; a literal `%` doubled. The store's SQL has no `?`
    inside string literals (checked by tests/test_scaleout.py over every statement it runs)."""
    return sql.replace("%", "%%").replace("?", "%s")


class Row(tuple):
    """A result row read like `sqlite3.Row`: `row[0]`, `row["seq"]`, `dict(row)`."""

    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> RowMaker[Row]:
    names = tuple(c.name for c in cursor.description or ())
    return _row_class(names)  # called with each row's values: a tuple subclass


class PgTx:
    """The open transaction handed to the store's write methods (like hub.store.database.Tx)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        if params:
            return self._conn.execute(translate(sql), tuple(params))
        return self._conn.execute(sql)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(translate(sql), [tuple(r) for r in rows])

    def insert_document(self, table: str, row: dict[str, Any], column: str,
                        document: bytes) -> None:
        """Insert `row` with `document` (UTF-8 JSON) in `column`, as text (see
        hub.store.database.Tx.insert_document: psycopg keeps no bound values)."""
        names, marks = ", ".join(row), ", ".join("?" for _ in row)
        self.execute(f"INSERT INTO {table} ({names}, {column}) VALUES ({marks}, ?)",
                     (*row.values(), document.decode()))


class PgDatabase:
    """One connection per process, used under a lock, like the SQLite Database.

    `synchronous`: FULL keeps PostgreSQL's `synchronous_commit = on` (an acknowledged commit is
    on disk); NORMAL sets it `off` for this connection (a crash of the server may lose the last
    commits but never corrupts), the same promise as SQLite's NORMAL. `files` is the hub's
    data directory (its pid file, prompts); nothing of the hall's is kept there on PostgreSQL
    (badge photos are in the database since migration 0010).
    """

    dialect = "postgresql"
    shared = True  # other processes may commit events: HallService catches up on reads

    def __init__(self, url: str, synchronous: str = "FULL", files: str | Path = "var") -> None:
        if synchronous.upper() not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be one of ('FULL', 'NORMAL')")
        self.url = url
        self.safe_url = redact(url)
        self.synchronous = synchronous.upper()
        self.path = Path(files) / "postgresql"  # notional: where a SQLite file would be
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, row_factory=_row_factory,
                                   connect_timeout=5, application_name="onestop")
        except psycopg.OperationalError as err:
            raise OSError(f"cannot connect to {self.safe_url}: {err}".strip()) from None
        if self.synchronous == "NORMAL":
            conn.execute("SET synchronous_commit = off")
        return conn

    def _live(self) -> psycopg.Connection[Row]:
        """The connection, re-opened if the server dropped it (a restart, a failover)."""
        if self._conn.closed or self._conn.broken:
            log.warning("connection to %s lost: reconnecting", self.safe_url)
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[PgTx]:
        """BEGIN; take the hall's write lock; … COMMIT, or ROLLBACK on any exception.

        In pipeline mode: statements go out without waiting for their answers, and only a read
        (a fetch) or the COMMIT waits; so a cursor's rowcount is unknown (-1): count rows with
        RETURNING. A call-next is then 4 round trips instead of 10, each of
        which, under eventlet, stalls the whole hub (psycopg waits in C). An error of a statement
        not read is raised at the next read or at COMMIT, inside this block: it rolls back.
        """
        with self._lock:
            if self._depth:
                raise RuntimeError("nested transaction")
            self._depth = 1
            try:
                conn = self._live()
                with conn.pipeline(), conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (HALL_LOCK,))
                    yield PgTx(conn)
            finally:
                self._depth = 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            conn = self._live()
            cur = conn.execute(translate(sql), tuple(params)) if params else conn.execute(sql)
            return cur.fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            conn = self._live()
            cur = conn.execute(translate(sql), tuple(params)) if params else conn.execute(sql)
            return cur.fetchone()

    # --- migrations ---------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._lock:
            self._live().execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            row = self._conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        assert row is not None  # an aggregate answers one row
        return row[0] or 0

    def migrate(self) -> list[str]:
        return apply_migrations(self)


def _try_lock(conn: psycopg.Connection, key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    assert row is not None  # a SELECT without FROM answers one row
    return bool(row[0])


@contextmanager
def session_lock(url: str, key: int = FORWARDER_LOCK, poll_s: float = 1.0,
                 stop: threading.Event | None = None) -> Iterator[bool]:
    """Hold a session-level advisory lock for the block; wait for it while another holds it.

    Used by `onestop forward` on PostgreSQL: every forwarder may run (one per hub host, say),
    but only the lock's holder delivers; the others wait and one takes over within `poll_s`
    when the holder dies (its connection closes and PostgreSQL releases the lock). Yields
    False if `stop` was set before the lock was had.
    """
    conn = psycopg.connect(url, autocommit=True, connect_timeout=5,
                           application_name="onestop-forward-lock")
    try:
        said = False
        while not _try_lock(conn, key):
            if not said:
                log.info("another `onestop forward` delivers for this hall: standing by")
                said = True
            if stop is not None and stop.wait(poll_s):
                yield False
                return
            if stop is None:
                time.sleep(poll_s)
        if said:
            log.info("took over delivering to the backend")
        yield True
    finally:
        conn.close()


_PARAM = re.compile(r"'[^']*'")


def literal_question_marks(sql: str) -> bool:
    """Whether `sql` has a `?` inside a string literal (which `translate` would break)."""
    return any("?" in m.group(0) for m in _PARAM.finditer(sql))
