"""The forwarding side of the events outbox: the cursor of `onestop forward` and its dead letters.

The hub only appends to `events`; the forwarder (its own process, its own connection) reads
them after the cursor and moves the cursor once the supervision backend has acknowledged them.
Reading never blocks the hub's writer (WAL), and the cursor's transaction is a single row.
`forwarding_status(db)` is what the hub's /metrics and the supervisors' API show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from .database import Database
from .store import utc_iso

log = logging.getLogger(__name__)

RESPONSE_EXCERPT_CHARS = 500  # enough of a refusal's body to see why, not a stored page


class OutboxEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One row of `events` as the forwarder sends it: raw, no decoding into engine types."""

    seq: int
    id: str
    type: str
    at: str  # UTC ISO 8601
    ticket_id: str | None
    window_no: int | None
    data: str  # the msgspec-JSON event


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """An event the backend refused on its own with a 4xx: kept, and the feed goes on."""

    seq: int
    event_id: str
    type: str
    status_code: int
    response: str


_EVENT_COLUMNS = "seq, id, type, at, ticket_id, window_no, data"


def _event(row: Any) -> OutboxEvent:
    return OutboxEvent(
        seq=row["seq"], id=row["id"], type=row["type"], at=row["at"],
        ticket_id=row["ticket_id"], window_no=row["window_no"], data=row["data"],
    )


class Outbox:
    """The forwarder's reads and writes; each write is its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def cursor(self) -> int:
        row = self.db.query_one("SELECT seq FROM forward_cursor WHERE id = 1")
        return row["seq"] if row else 0

    def pending(self, after: int, limit: int) -> list[OutboxEvent]:
        """The next events after `after`, in seq (= commit) order."""
        rows = self.db.query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )
        return [_event(row) for row in rows]

    def events(self, seqs: Iterable[int]) -> list[OutboxEvent]:
        wanted = sorted(set(seqs))
        found: list[OutboxEvent] = []
        for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            rows = self.db.query(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq IN ({marks}) ORDER BY seq", part
            )
            found.extend(_event(row) for row in rows)
        return found

    def advance(self, seq: int, now: dt.datetime, dead: DeadLetter | None = None) -> None:
        """Move the cursor to `seq` (never back), with the dead letter that lets it pass.

        The backend answered for the events up to `seq`, so it is up: the last error is over.
        """
        with self.db.transaction() as tx:
            if dead is not None:
                tx.execute(
                    "INSERT INTO dead_letters (seq, event_id, type, status_code, response, "
                    "failed_at, replayed_at) VALUES (?, ?, ?, ?, ?, ?, NULL) "
                    "ON CONFLICT (seq) DO UPDATE SET status_code = excluded.status_code, "
                    "response = excluded.response, failed_at = excluded.failed_at, "
                    "replayed_at = NULL",
                    (dead.seq, dead.event_id, dead.type, dead.status_code,
                     dead.response[:RESPONSE_EXCERPT_CHARS], utc_iso(now)),
                )
            tx.execute(
                "UPDATE forward_cursor SET seq = ?, updated_at = ?, last_error = NULL, "
                "last_error_at = NULL WHERE id = 1 AND seq < ?",
                (seq, utc_iso(now), seq),
            )

    def record_failure(self, error: str, now: dt.datetime) -> None:
        """Count one failed delivery attempt (the batch is retried; nothing is lost)."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE forward_cursor SET failures = failures + 1, last_error = ?, "
                       "last_error_at = ? WHERE id = 1",
                       (error[:RESPONSE_EXCERPT_CHARS], utc_iso(now)))

    def dead_letters(self, include_replayed: bool = True) -> list[dict[str, Any]]:
        where = "" if include_replayed else " WHERE replayed_at IS NULL"
        rows = self.db.query(
            "SELECT seq, event_id, type, status_code, response, failed_at, replayed_at "
            f"FROM dead_letters{where} ORDER BY seq"
        )
        return [dict(row) for row in rows]

    def refused_again(self, dead: DeadLetter, now: dt.datetime) -> None:
        """A replay the backend still refuses: keep the letter, with the newest answer."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE dead_letters SET status_code = ?, response = ?, failed_at = ? "
                "WHERE seq = ?",
                (dead.status_code, dead.response[:RESPONSE_EXCERPT_CHARS], utc_iso(now),
                 dead.seq),
            )

    def mark_replayed(self, seqs: Iterable[int], now: dt.datetime) -> None:
        with self.db.transaction() as tx:
            tx.executemany(
                "UPDATE dead_letters SET replayed_at = ? WHERE seq = ?",
                [(utc_iso(now), seq) for seq in seqs],
            )

    def status(self) -> dict[str, Any]:
        """Where the feed is: {cursor, last_seq, backlog, oldest_unsent_at, dead_letters,
        failures (failed attempts ever), last_error, last_error_at}; `last_error` and its time
        are None once the backend has acknowledged something after it."""
        cursor = self.cursor()
        last = self._one("SELECT MAX(seq) FROM events")[0] or 0
        backlog = self._one("SELECT COUNT(*) FROM events WHERE seq > ?", (cursor,))[0]
        oldest = self.db.query_one(
            "SELECT at FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (cursor,)
        )
        dead = self._one("SELECT COUNT(*) FROM dead_letters WHERE replayed_at IS NULL")[0]
        failed = self._one(
            "SELECT failures, last_error, last_error_at FROM forward_cursor WHERE id = 1"
        )
        return {
            "failures": failed["failures"],
            "last_error": failed["last_error"],
            "last_error_at": failed["last_error_at"],
            "cursor": cursor,
            "last_seq": last,
            "backlog": backlog,
            "oldest_unsent_at": oldest["at"] if oldest else None,
            "dead_letters": dead,
        }

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The row of a query that always answers one: an aggregate, or the cursor's row
        (migration 0004 inserts it)."""
        row = self.db.query_one(sql, params)
        assert row is not None
        return row


def forwarding_status(db: Database) -> dict[str, Any]:
    """{cursor, last_seq, backlog, oldest_unsent_at, dead_letters, failures, last_error,
    last_error_at}: for /metrics and the API.

    `dead_letters` counts the letters not replayed yet; `oldest_unsent_at` (UTC ISO 8601, None
    when nothing waits) tells how far behind the backend is; `last_error` is the failure of the
    latest attempt while the backend keeps failing (None once it acknowledges again) and
    `last_error_at` when it happened (UTC ISO 8601).
    """
    return Outbox(db).status()
