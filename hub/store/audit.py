"""The audit log of staff actions (electronic supervision, art. 11/21/26).

Every sign-in and sign-out, window action, 退件 decision and office change by a clerk, a
supervisor or an admin is one row: account, role, window, client address, time, action, detail,
the events it committed and its outcome ("ok" or the refusal's error code). A successful action's
row is written in the very transaction that commits its events, so there is never a change
without its record nor a record of a change that did not happen.

Tamper evidence: rows form a hash chain. Each row stores `prev_hash` (the previous row's `hash`;
64 zeros for the first) and `hash = sha256(prev_hash || canonical JSON of its fields)`, the
canonical JSON being the row's columns other than the two hashes (seq included), with sorted
keys, no whitespace, UTF-8. `verify` recomputes every hash, so it finds:

- a field edited (that row's hash no longer matches),
- a row deleted in the middle (the next row's prev_hash points at a row that is not there),
- rows reordered or their contents swapped (seq is hashed, and prev_hash links break).

What a chain alone cannot find: the *last* rows deleted (what remains is a valid, shorter
chain), or the whole chain rewritten and rehashed by someone with write access to the database.
Mitigations: `verify` reports the head hash, which an operator notes down (or the backend
keeps) and passes back as `expect_head`; and `audit_lock.appends` counts the appends, so a
truncation that forgets to lower the counter is reported too. Only an external copy of the head
defeats a complete rewrite: the hub publishes it daily in the event feed (`audit.head`).

Retention: records past `[audit] retention_days` are moved to signed archive files
(hub/store/audit_archive.py); the table `audit_archives` then holds the anchor, the last
archived record's seq and hash, from which the live chain goes on and `verify` starts.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import msgspec

from .database import Database, Tx

GENESIS = "0" * 64
MAX_DETAIL_CHARS = 4000  # a request body is the client's to choose; the log keeps a bounded part
_FIELDS = (
    "seq", "at", "account", "role", "window_no", "addr", "action", "detail", "event_seqs",
    "outcome",
)
_COLUMNS = ", ".join((*_FIELDS, "prev_hash", "hash"))


class AuditEntry(msgspec.Struct, kw_only=True, frozen=True):
    """What happened, before it has a place in the chain."""

    at: dt.datetime
    account: str
    role: str
    action: str
    window_no: int | None = None
    addr: str = ""
    detail: dict[str, Any] = msgspec.field(default_factory=dict)
    event_seqs: tuple[int, ...] = ()
    outcome: str = "ok"


class Anchor(NamedTuple):
    """Where the live chain starts: after the last archived record (seq 0 and GENESIS if none)."""

    seq: int
    hash: str


class Verification(NamedTuple):
    """The result of walking the chain; `head` is the last record's hash (GENESIS if none)."""

    ok: bool
    first_bad_seq: int | None
    checked: int
    head: str
    problem: str = ""


def canonical(fields: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same bytes on every machine and Python."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(fields)).hexdigest()


def _detail_text(detail: dict[str, Any]) -> str:
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    if len(text) > MAX_DETAIL_CHARS:
        text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
    return text


def _utc_iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, tx: Tx, entry: AuditEntry) -> dict[str, Any]:
        """Chain `entry` onto the last record, inside the caller's transaction; the stored row.

        The first statement updates the one `audit_lock` row: on PostgreSQL that row lock makes
        a second hub's append wait until this transaction ends, and (READ COMMITTED) its next
        statement then sees this record — so two writers never chain onto the same record.
        Locking the last audit row instead would not do: a waiter would get the old last row.
        On SQLite, BEGIN IMMEDIATE already serialises writers. Three small statements, one
        INSERT: cheap enough for every command.
        """
        tx.execute("UPDATE audit_lock SET appends = appends + 1 WHERE id = 1")
        last = tx.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if last is None:  # a new chain, or every record archived: go on from the anchor
            last = tx.execute("SELECT last_seq, last_hash FROM audit_archives "
                              "ORDER BY last_seq DESC LIMIT 1").fetchone() or (0, GENESIS)
        seq, prev = last[0] + 1, last[1]
        fields: dict[str, Any] = {
            "seq": seq,
            "at": _utc_iso(entry.at),
            "account": entry.account,
            "role": entry.role,
            "window_no": entry.window_no,
            "addr": entry.addr,
            "action": entry.action,
            "detail": _detail_text(entry.detail),
            "event_seqs": ",".join(str(s) for s in entry.event_seqs),
            "outcome": entry.outcome,
        }
        digest = chain_hash(prev, fields)
        tx.execute(
            f"INSERT INTO audit ({_COLUMNS}) VALUES ({', '.join('?' * (len(_FIELDS) + 2))})",
            (*(fields[f] for f in _FIELDS), prev, digest),
        )
        return {**fields, "prev_hash": prev, "hash": digest}

    def verify(self, expect_head: str | None = None) -> Verification:
        return verify(self.db, expect_head)

    def head(self) -> Anchor:
        """The last record's seq and hash: what the daily `audit.head` event publishes."""
        row = self.db.query_one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return Anchor(row["seq"], row["hash"]) if row else anchor(self.db)

    def between(self, start: dt.datetime, end: dt.datetime) -> Iterator[dict[str, Any]]:
        """Every live record with start <= at < end, in seq order, as stored (hashes included),
        a batch at a time: an export of a year need not fit in memory."""
        after = -(2**62)
        while True:
            rows = self.db.query(
                f"SELECT {_COLUMNS} FROM audit WHERE seq > ? AND at >= ? AND at < ? "
                "ORDER BY seq LIMIT 1000", (after, _utc_iso(start), _utc_iso(end)))
            if not rows:
                return
            yield from (dict(r) for r in rows)
            after = rows[-1]["seq"]

    def records(
        self, account: str | None = None, since: dt.datetime | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The latest `limit` records matching, oldest first, with `detail` decoded."""
        where, params = [], []
        if account:
            where.append("account = ?")
            params.append(account)
        if since is not None:
            where.append("at >= ?")
            params.append(_utc_iso(since))
        sql = f"SELECT {_COLUMNS} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.query(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit))
        out = []
        for row in reversed(rows):
            record = dict(row)
            with contextlib.suppress(ValueError):  # a damaged row is shown as stored:
                record["detail"] = json.loads(record["detail"])  # `verify` is its judge
                record["event_seqs"] = [int(s) for s in record["event_seqs"].split(",") if s]
            out.append(record)
        return out


def anchor(db: Database) -> Anchor:
    """The last archived record (hub/store/audit_archive.py), where the live chain goes on."""
    row = db.query_one("SELECT last_seq, last_hash FROM audit_archives "
                       "ORDER BY last_seq DESC LIMIT 1")
    return Anchor(row["last_seq"], row["last_hash"]) if row else Anchor(0, GENESIS)


def check_chain(rows: Iterable[Any], start: Anchor) -> Verification:
    """Walk `rows` (seq order) from `start`: the first that does not follow or fit, if any."""
    prev, checked = start.hash, 0
    for row in rows:
        fields = {f: row[f] for f in _FIELDS}
        if row["prev_hash"] != prev or (checked == 0 and row["seq"] != start.seq + 1):
            return Verification(False, row["seq"], checked, prev,
                                "does not follow the record before it (one deleted or moved?)")
        if chain_hash(prev, fields) != row["hash"]:
            return Verification(False, row["seq"], checked, prev, "its contents were changed")
        prev = row["hash"]
        checked += 1
    return Verification(True, None, checked, prev)


def _rows(db: Database, batch: int = 1000) -> Iterator[Any]:
    """Every row in seq order, a batch at a time: a year of records need not fit in memory."""
    after = -(2**62)
    while True:
        rows = db.query(
            f"SELECT {_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, batch)
        )
        if not rows:
            return
        yield from rows
        after = rows[-1]["seq"]


def verify(db: Database, expect_head: str | None = None) -> Verification:
    """Walk the chain and recompute every hash: the first record that does not fit, if any.

    Returned as (ok, first_bad_seq, checked, head, problem); `checked` counts the records
    found good before the first bad one. A chain cut short at its end is only found through
    `expect_head` — a head noted earlier, which must still be the hash of a record in the chain
    (records appended since are fine) — or the append counter: see the module docstring.
    """
    expected = expect_head.strip().lower() if expect_head is not None else None
    start = anchor(db)
    seen = expected == start.hash

    def watched() -> Iterator[Any]:
        nonlocal seen
        for row in _rows(db):
            yield row
            seen = seen or row["hash"] == expected

    walked = check_chain(watched(), start)
    if not walked.ok:
        return walked
    checked, prev = walked.checked, walked.head
    lock = db.query_one("SELECT appends FROM audit_lock WHERE id = 1")
    appended = lock["appends"] if lock else 0
    if appended != start.seq + checked:  # seqs run from 1 without gaps: archived ones count too
        return Verification(False, min(appended - start.seq, checked) + start.seq + 1, checked,
                            prev, f"{appended} records were appended but {start.seq} archived "
                            f"and {checked} are there (the last ones deleted, or some added?)")
    if expected is not None and not seen:
        return Verification(False, None, checked, prev,
                            f"no record has the expected hash {expected} (records at the end "
                            "deleted, or the chain rewritten? a head older than the archived "
                            "records is checked with verify-archive)")
    return Verification(True, None, checked, prev)


EXPORT_FORMATS = ("jsonl", "csv")
EXPORT_COLUMNS = (*_FIELDS, "prev_hash", "hash")


def export_lines(records: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """Records as stored, hashes included, one line each: JSON Lines (each line the record's
    canonical JSON) or CSV with a header. Anyone can recompute the chain from either."""
    if fmt == "jsonl":
        for record in records:
            yield canonical({c: record[c] for c in EXPORT_COLUMNS}).decode() + "\n"
        return
    if fmt != "csv":
        raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for record in records:
        writer.writerow(["" if record[c] is None else record[c] for c in EXPORT_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
