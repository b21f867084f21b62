"""A durable queue of device events waiting for the hub's answer.

A rating pressed while the hub restarts must not be lost: every device event is written here
(SQLite, synchronous=FULL) before anything else happens to it, and removed only when the hub has
answered it. Events are sent in the order they happened; each carries a stable id, so a re-send
after a lost answer is recognised by the hub and not counted twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any


class Outbox:
    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY, "
            "id TEXT UNIQUE NOT NULL, payload TEXT NOT NULL)"
        )
        self._lock = threading.Lock()
        self.added = threading.Event()

    def put(self, payload: dict[str, Any]) -> str:
        event_id = payload.setdefault("id", str(uuid.uuid4()))
        with self._lock:
            self._conn.execute(
                "INSERT INTO outbox (id, payload) VALUES (?, ?)",
                (event_id, json.dumps(payload, ensure_ascii=False)),
            )
        self.added.set()
        return event_id

    def peek(self) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT payload FROM outbox ORDER BY n LIMIT 1").fetchone()
        return json.loads(row[0]) if row else None

    def remove(self, event_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE id = ?", (event_id,))

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
