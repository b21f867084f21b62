"""Pairing requests of screens and kiosks in the store (migration 0014, hub/service/pairing.py).

A request is found two ways and never a third: by its short code (what a supervisor reads off the
device and approves) and by the hash of the waiting page's secret (what the page claims its token
with). Claiming an approved request makes the device token and deletes the request in one
transaction, so a token is handed out once and no token is ever stored here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.auth import Role

from .accounts import insert_token
from .database import Database
from .store import utc_iso

_COLUMNS = ("code, kind, page, addr, created_at, expires_at, role, name, approved_by, "
            "approved_at")


class PairingFull(Exception):
    """Too many requests wait: from this address (`addr` True) or in the whole hall."""

    def __init__(self, per_addr: bool, retry_after_s: float) -> None:
        super().__init__(per_addr, retry_after_s)
        self.per_addr, self.retry_after_s = per_addr, retry_after_s


class PairingRequests:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, code: str, secret_hash: str, kind: Role, page: str, addr: str,
             now: dt.datetime, ttl: dt.timedelta, per_addr: int, total: int) -> bool:
        """Store a new request; False if `code` is taken (the caller draws another). Raises
        PairingFull when `addr` already has `per_addr` requests waiting, or the hall `total`."""
        at = utc_iso(now)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM pairing_requests WHERE expires_at <= ?", (at,))
            mine = tx.execute("SELECT MIN(expires_at), COUNT(*) FROM pairing_requests "
                              "WHERE addr = ?", (addr,)).fetchone()
            if mine[1] >= per_addr:
                raise PairingFull(True, _seconds_until(mine[0], now))
            everyone = tx.execute("SELECT MIN(expires_at), COUNT(*) FROM pairing_requests"
                                  ).fetchone()
            if everyone[1] >= total:
                raise PairingFull(False, _seconds_until(everyone[0], now))
            stored = tx.execute(
                "INSERT INTO pairing_requests (code, secret_hash, kind, page, addr, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING code",
                (code, secret_hash, kind.value, page, addr, at, utc_iso(now + ttl)),
            ).fetchall()
        return bool(stored)

    def waiting(self, now: dt.datetime) -> list[dict[str, Any]]:
        """The requests not yet expired, oldest first (approved ones too, until claimed)."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM pairing_requests WHERE expires_at > ? "
                             "ORDER BY created_at", (utc_iso(now),))
        return [dict(r) for r in rows]

    def by_code(self, code: str, now: dt.datetime) -> dict[str, Any] | None:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM pairing_requests WHERE code = ? "
                                "AND expires_at > ?", (code, utc_iso(now)))
        return dict(row) if row else None

    def approve(self, code: str, role: Role, name: str, by: str, now: dt.datetime,
                claim_within: dt.timedelta) -> bool:
        """Mark the live, unapproved request `code` approved; it stays at least `claim_within`
        for the page to claim. False if there is no such request (any more)."""
        at = utc_iso(now)
        with self.db.transaction() as tx:
            return bool(tx.execute(
                "UPDATE pairing_requests SET role = ?, name = ?, approved_by = ?, "
                "approved_at = ?, expires_at = CASE WHEN expires_at < ? THEN ? "
                "ELSE expires_at END WHERE code = ? AND expires_at > ? AND approved_at IS NULL "
                "RETURNING code",
                (role.value, name, by, at, utc_iso(now + claim_within),
                 utc_iso(now + claim_within), code, at),
            ).fetchall())

    def claim(self, secret_hash: str, now: dt.datetime) -> dict[str, Any] | None:
        """The live request of this secret: as it is while it waits; once approved, deleted,
        with `token` (a new device token of its role and name). None if there is none."""
        at = utc_iso(now)
        with self.db.transaction() as tx:
            row = tx.execute(f"SELECT {_COLUMNS} FROM pairing_requests WHERE secret_hash = ? "
                             "AND expires_at > ?", (secret_hash, at)).fetchone()
            if row is None:
                return None
            found = dict(row)
            if found["approved_at"] is None:
                return found
            tx.execute("DELETE FROM pairing_requests WHERE code = ?", (found["code"],))
            found["token"] = insert_token(tx, Role(found["role"]), found["name"], now)
        return found


def _seconds_until(iso: str | None, now: dt.datetime) -> float:
    if not iso:
        return 1.0
    return max(1.0, (dt.datetime.fromisoformat(iso) - now).total_seconds())
