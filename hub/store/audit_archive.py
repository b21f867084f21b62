"""Retention of the staff audit log: records past `[audit] retention_days` (at least 180) move
to signed archive files, and only then leave the live table.

An archive is one JSON Lines file: a header line (the range's first and last seq, the hash
before it and its last hash, the count, the hall's source), one line per record with every
column (the hashes included, each record the canonical JSON of hub/store/audit.py), and a last
line with an HMAC-SHA256 over every byte before it, made with the hall's archive key. The key
is a file of its own (created 0600 on first use), never in the database: someone who can write
the database cannot re-sign an archive. `verify_archive` checks the signature and the chain
inside, on its own: no database needed.

The order makes a lost record impossible: the file is written aside, flushed to disk and
renamed into place (and the directory flushed) before one short transaction checks that the
archived records are still exactly those in the table, deletes them and records the file in
`audit_archives`, whose newest row is the live chain's anchor. A failure anywhere before that
commit deletes nothing; after it, the file is there. A chain that does not verify is not
archived at all: its evidence stays in the table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from hub import keyfiles

from .audit import _COLUMNS, _FIELDS, Anchor, anchor, canonical, check_chain
from .database import Database

log = logging.getLogger(__name__)

FORMAT = "onestop-audit-archive"
VERSION = 1
ALG = "HMAC-SHA256"
# Records per file: each archive's delete is one short transaction the hall's commits wait for.
CHUNK = 20_000


class ArchiveError(Exception):
    """The archive could not be made, or a file is not a valid archive: nothing was deleted."""


class ArchiveCheck(NamedTuple):
    ok: bool
    problem: str
    header: dict[str, Any]


# --- the key ------------------------------------------------------------------------------


def load_key(path: Path, create: bool = False) -> bytes:
    """The hall's archive key; with `create`, a new random one (0600) if there is none."""
    try:
        return keyfiles.load_key(path, "audit archive key", create=create)
    except (OSError, ValueError) as err:
        raise ArchiveError(f"cannot read the audit archive key {path}: {err}") from err


def key_id(key: bytes) -> str:
    """Which key signed an archive, without saying the key."""
    return hashlib.sha256(b"onestop-audit-key:" + key).hexdigest()[:16]


# --- the file -----------------------------------------------------------------------------


def archive_bytes(rows: list[dict[str, Any]], start: Anchor, source: str,
                  created_at: dt.datetime, key: bytes) -> bytes:
    """The archive of `rows` (consecutive records following `start`), signed with `key`."""
    header = {
        "format": FORMAT, "version": VERSION, "source": source,
        "first_seq": rows[0]["seq"], "last_seq": rows[-1]["seq"],
        "prev_hash": start.hash, "last_hash": rows[-1]["hash"], "records": len(rows),
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
    }
    lines = [canonical(header), *(canonical(_record(r)) for r in rows)]
    body = b"\n".join(lines) + b"\n"
    signature = {"alg": ALG, "key_id": key_id(key),
                 "value": hmac.new(key, body, hashlib.sha256).hexdigest()}
    return body + canonical({"signature": signature}) + b"\n"


def _record(row: Any) -> dict[str, Any]:
    return {name: row[name] for name in (*_FIELDS, "prev_hash", "hash")}


def verify_archive(data: bytes, key: bytes) -> ArchiveCheck:
    """Check an archive's signature, then the chain of its records and its header."""
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    try:
        signature = json.loads(last)["signature"]
        header, *records = (json.loads(line) for line in body.split(b"\n"))
    except (ValueError, KeyError, TypeError):
        return ArchiveCheck(False, "not an audit archive (unreadable lines)", {})
    expected = hmac.new(key, body + b"\n", hashlib.sha256).hexdigest()
    if not isinstance(signature, dict) or signature.get("alg") != ALG:
        return ArchiveCheck(False, "not signed with " + ALG, {})
    if signature.get("key_id") != key_id(key):
        return ArchiveCheck(False, f"signed with another key ({signature.get('key_id')})", {})
    if not hmac.compare_digest(str(signature.get("value", "")), expected):
        return ArchiveCheck(False, "the signature does not match: the file was changed", {})
    return _check_contents(header, records)


def _check_contents(header: Any, records: list[Any]) -> ArchiveCheck:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return ArchiveCheck(False, "not an audit archive (no header)", {})
    try:
        start = Anchor(int(header["first_seq"]) - 1, str(header["prev_hash"]))
        walked = check_chain(records, start)
    except (KeyError, TypeError, ValueError) as err:
        return ArchiveCheck(False, f"a record lacks a field: {err}", header)
    if not walked.ok:
        return ArchiveCheck(False, f"the chain breaks at seq {walked.first_bad_seq}: "
                            f"{walked.problem}", header)
    if (walked.checked, walked.head) != (header.get("records"), header.get("last_hash")) or \
            records[-1]["seq"] != header.get("last_seq"):
        return ArchiveCheck(False, "the records do not end where the header says", header)
    return ArchiveCheck(True, "", header)


def write_atomically(path: Path, data: bytes) -> None:
    """Write aside, flush to disk, rename into place, flush the directory: after this the file
    is there whole, even across a power loss; before it, `path` is untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.tmp")
    with open(aside, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(aside, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# --- the job ------------------------------------------------------------------------------


class Archived(NamedTuple):
    path: Path
    first_seq: int
    last_seq: int


def archive_old(db: Database, directory: Path, key_path: Path, retention_days: int,
                now: dt.datetime, source: str) -> list[Archived]:
    """Archive every record older than `retention_days` at `now`, a file per CHUNK records;
    what was archived. ArchiveError (nothing more deleted) if a file cannot be written or the
    chain to archive does not verify."""
    cutoff = (now - dt.timedelta(days=retention_days)).astimezone(dt.UTC)
    done: list[Archived] = []
    key: bytes | None = None
    while True:
        start = anchor(db)
        rows = _due(db, start, cutoff.isoformat(timespec="microseconds"))
        if not rows:
            return done
        walked = check_chain(rows, start)
        if not walked.ok:
            raise ArchiveError(f"the audit chain breaks at seq {walked.first_bad_seq} "
                               f"({walked.problem}): not archived; run `onestop audit verify`")
        key = key or load_key(key_path, create=True)
        path = directory / f"audit-{rows[0]['seq']:09d}-{rows[-1]['seq']:09d}.jsonl"
        data = archive_bytes(rows, start, source, now, key)
        try:
            write_atomically(path, data)
        except OSError as err:
            raise ArchiveError(f"cannot write the audit archive {path}: {err}") from err
        _forget(db, start, rows, path, hashlib.sha256(data).hexdigest(), now)
        done.append(Archived(path, rows[0]["seq"], rows[-1]["seq"]))
        log.info("archived audit records %d-%d to %s", rows[0]["seq"], rows[-1]["seq"], path)


def _due(db: Database, start: Anchor, cutoff: str) -> list[dict[str, Any]]:
    """The records after `start` older than `cutoff`, up to CHUNK, stopping at the first newer
    one: an archive is always a run of consecutive records."""
    rows = db.query(f"SELECT {_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                    (start.seq, CHUNK))
    due = []
    for row in rows:
        if row["at"] >= cutoff:
            break
        due.append(_record(row))
    return due


def _forget(db: Database, start: Anchor, rows: list[dict[str, Any]], path: Path,
            digest: str, now: dt.datetime) -> None:
    """Delete the archived records and record the file, once the table still holds exactly
    them (nothing archived meanwhile by another archiver, nothing changed)."""
    first, last = rows[0]["seq"], rows[-1]["seq"]
    with db.transaction() as tx:
        newest = tx.execute("SELECT MAX(last_seq) FROM audit_archives").fetchone()[0]
        held = tx.execute("SELECT COUNT(*), MIN(seq) FROM audit WHERE seq <= ?",
                          (last,)).fetchone()
        tail = tx.execute("SELECT hash FROM audit WHERE seq = ?", (last,)).fetchone()
        if (newest or 0) != start.seq or tuple(held) != (len(rows), first) or \
                tail is None or tail[0] != rows[-1]["hash"]:
            raise ArchiveError(f"the audit records {first}-{last} changed while being archived "
                               f"to {path}: not deleted")
        tx.execute("DELETE FROM audit WHERE seq <= ?", (last,))
        tx.execute(
            "INSERT INTO audit_archives (last_seq, first_seq, prev_hash, last_hash, records, "
            "file, digest, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (last, first, start.hash, rows[-1]["hash"], len(rows), path.name, digest,
             now.astimezone(dt.UTC).isoformat(timespec="microseconds")))


def chain_records(records: Iterable[dict[str, Any]]) -> bool:
    """Whether exported `records` (consecutive, from any start) link up: for tests and tools."""
    rows = list(records)
    if not rows:
        return True
    return check_chain(rows, Anchor(rows[0]["seq"] - 1, rows[0]["prev_hash"])).ok

