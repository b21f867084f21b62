"""The hall file's text in the store (migration 0009): what the whole hall runs on.

Each hub reads its own `--config` file, possibly on its own host. With several hubs on one
PostgreSQL store that is not enough: a reload on hub A must reach hub B, or the two decide with
different rules. So a reload writes the new text here in the same transaction as its
`config.reloaded` event (HallService._commit), and a hub applying that event from the store
swaps in the newest text from here (HallService._follow_stored_config). The newest row is the
hall's current config; older rows are the history, never read by the hub.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from .database import Database, Tx
from .store import utc_iso

_COLUMNS = "id, seq, hash, toml, source, at"


class StoredConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the hall file: its text, its hash (hub.hall_file.config_hash) and whence."""

    id: int
    seq: int  # the event it took effect at
    hash: str
    toml: str
    source: str  # admin, sighup, start
    at: str  # UTC ISO 8601


def _row(row: Any) -> StoredConfig:
    return StoredConfig(id=row["id"], seq=row["seq"], hash=row["hash"], toml=row["toml"],
                        source=row["source"], at=row["at"])


class HallConfigs:
    """Reads and writes `hall_config`; writes only inside the caller's transaction, so a
    version commits with its event (or with nothing else, at start) or not at all."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def current(self, tx: Tx | None = None) -> StoredConfig | None:
        """The newest version (None on a store no hub has started on since migration 0009).
        Inside `tx` when given: a catch-up reads it in the transaction that read the event."""
        sql = f"SELECT {_COLUMNS} FROM hall_config ORDER BY id DESC LIMIT 1"
        row = tx.execute(sql).fetchone() if tx is not None else self.db.query_one(sql)
        return _row(row) if row is not None else None

    def save(self, tx: Tx, seq: int, config_hash: str, text: str, source: str,
             now: dt.datetime) -> None:
        """Append a version; it becomes the hall's current config when `tx` commits."""
        tx.execute(
            "INSERT INTO hall_config (seq, hash, toml, source, at) VALUES (?, ?, ?, ?, ?)",
            (seq, config_hash, text, source, utc_iso(now)),
        )
