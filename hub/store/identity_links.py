"""刷身份证取号's links (`identity_links`, migration 0020): a ticket → the keyed hash of its
citizen's ID number, their birth year and, for the ticket's day only, their masked name.
Written in the transaction of the issue (hub/service/commit.py), read by the kiosk's look-up by
swipe and by silent calling, thinned and deleted by housekeeping (hub/service/housekeeping.py).

No ID number, full name, address or photo is ever stored (docs/privacy.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from .database import Tx
from .store import utc_iso


class IdentityLink(NamedTuple):
    ticket_id: str
    day: dt.date
    person: str  # HMAC-SHA256(id key, number), hex
    birth_year: int
    masked_name: str | None


class IdentityLinks:
    def __init__(self, db: Any) -> None:
        self.db = db

    def save(self, tx: Tx, link: IdentityLink, now: dt.datetime) -> None:
        tx.execute(
            "INSERT INTO identity_links (ticket_id, day, person, birth_year, masked_name, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (link.ticket_id, link.day.isoformat(), link.person, link.birth_year,
             link.masked_name, utc_iso(now)))

    def masked_name(self, ticket_id: str) -> str | None:
        row = self.db.query_one(
            "SELECT masked_name FROM identity_links WHERE ticket_id = ?", (ticket_id,))
        return row["masked_name"] if row else None

    def masked_names(self, day: dt.date) -> dict[str, str]:
        """ticket id → masked name of the day's identified tickets (a hub's start)."""
        rows = self.db.query(
            "SELECT ticket_id, masked_name FROM identity_links WHERE day = ? "
            "AND masked_name IS NOT NULL", (day.isoformat(),))
        return {r["ticket_id"]: r["masked_name"] for r in rows}

    def tickets_of(self, persons: Sequence[str]) -> list[str]:
        """The ticket ids linked to any of `persons` (the hash under the current and the
        previous id key), oldest first."""
        if not persons:
            return []
        marks = ", ".join("?" * len(persons))
        rows = self.db.query(
            f"SELECT ticket_id FROM identity_links WHERE person IN ({marks}) "
            "ORDER BY day, ticket_id", tuple(persons))
        return [r["ticket_id"] for r in rows]

    def open_slips_of(self, persons: Sequence[str]) -> list[str]:
        """The numbers of the 承诺单 not yet collected of tickets linked to any of `persons`,
        oldest first."""
        if not persons:
            return []
        marks = ", ".join("?" * len(persons))
        rows = self.db.query(
            "SELECT s.number FROM slips s JOIN identity_links l ON l.ticket_id = s.ticket_id "
            f"WHERE l.person IN ({marks}) AND s.status <> 'collected' "
            "ORDER BY s.created_at, s.number", tuple(persons))
        return [r["number"] for r in rows]

    def forget_names(self, tx: Tx, before: dt.date) -> int:
        """Set the masked name of tickets of days before `before` to NULL; how many."""
        return tx.execute(
            "UPDATE identity_links SET masked_name = NULL WHERE day < ? "
            "AND masked_name IS NOT NULL", (before.isoformat(),)).rowcount

    def forget_person(self, tx: Tx, persons: Sequence[str]) -> int:
        """Delete every link of `persons` (one citizen's hash under each id key), on their
        request; how many."""
        if not persons:
            return 0
        marks = ", ".join("?" * len(persons))
        return tx.execute(f"DELETE FROM identity_links WHERE person IN ({marks})",
                          tuple(persons)).rowcount

    def prune(self, tx: Tx, before: dt.date) -> int:
        """Delete the links of days before `before`; how many."""
        return tx.execute("DELETE FROM identity_links WHERE day < ?",
                          (before.isoformat(),)).rowcount
