"""The citizen's phone links (`citizen_links`, migration 0017): SHA-256 of a capability →
the ticket or 承诺单 it opens, until when. Written in the transaction of the change that made
the capability (hub/service/commit.py), read by the citizen's routes, pruned by housekeeping.

The capability itself is never stored: only its hash, so a copy of the database opens nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, NamedTuple

from .database import Tx
from .store import utc_iso


def link_hash(capability: str) -> str:
    return hashlib.sha256(capability.encode("ascii", "replace")).hexdigest()


class Link(NamedTuple):
    kind: str  # ticket | slip
    ref: str  # the ticket id or the slip number
    day: dt.date
    expires_at: dt.datetime


class CitizenLinks:
    def __init__(self, db: Any) -> None:
        self.db = db

    def save(self, tx: Tx, capability: str, link: Link, now: dt.datetime) -> None:
        tx.execute(
            "INSERT INTO citizen_links (hash, kind, ref, day, expires_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (link_hash(capability), link.kind, link.ref, link.day.isoformat(),
             utc_iso(link.expires_at), utc_iso(now)),
        )

    def find(self, capability: str, now: dt.datetime) -> Link | None:
        """The link `capability` opens at `now`; None if unknown or expired (one answer)."""
        row = self.db.query_one(
            "SELECT kind, ref, day, expires_at FROM citizen_links WHERE hash = ? "
            "AND expires_at > ?", (link_hash(capability), utc_iso(now)))
        if row is None:
            return None
        return Link(row["kind"], row["ref"], dt.date.fromisoformat(row["day"]),
                    dt.datetime.fromisoformat(row["expires_at"]))

    def extend_slip(self, tx: Tx, slip: str, expires_at: dt.datetime) -> None:
        """A slip's links now expire at `expires_at` (it was collected: 30 days on)."""
        tx.execute("UPDATE citizen_links SET expires_at = ? WHERE kind = 'slip' AND ref = ?",
                   (utc_iso(expires_at), slip))

    def prune(self, tx: Tx, now: dt.datetime) -> int:
        """Delete the links expired by `now`; how many."""
        return tx.execute("DELETE FROM citizen_links WHERE expires_at <= ?",
                          (utc_iso(now),)).rowcount
