"""The store's spot checks (`spot_draws`, `spot_items`) and efficiency records
(`staff_records`): written by the projections of their events, in the event's transaction
(hub/service/commit.py), read by the service, the verify command and the assessment.

Reads take the database, not a transaction: inside a commit they run on the same connection
under the same lock (hub/store/database.py), so a rule sees what its transaction wrote.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import msgspec

from hub.engine.model import SpotCheckDrawn, SpotCheckReviewed, StaffRecordAdded, Ticket
from hub.engine.spot_checks import EXCLUDING_KIND

from .database import Tx
from .store import utc_iso

_encoder = msgspec.json.Encoder()
_ticket_decoder = msgspec.json.Decoder(Ticket)


def finished_at(ticket: Ticket) -> tuple[int | None, str | None]:
    """The window and clerk a finished ticket was finished by: its last visit's."""
    if not ticket.visits:
        return None, None
    last = ticket.visits[-1]
    return last.window, last.clerk


class SpotChecks:
    def __init__(self, db: Any) -> None:
        self.db = db

    # --- the week's tickets -------------------------------------------------------------

    def finished_between(self, start: dt.datetime, end: dt.datetime) -> dict[int, list[str]]:
        """Per window, the ids of the tickets finished (done) in [start, end): a draw's
        population. `finished_at` is stored in UTC, one format, so text order is time order.
        A ticket's window is the one it was finished at (its last visit: the row's own
        window_no is where it is now, none once done)."""
        rows = self.db.query(
            "SELECT id, data FROM tickets WHERE status = 'done' "
            "AND finished_at >= ? AND finished_at < ? ORDER BY id",
            (utc_iso(start), utc_iso(end)),
        )
        found: dict[int, list[str]] = defaultdict(list)
        for row in rows:
            window, _ = finished_at(_ticket_decoder.decode(row["data"]))
            if window is not None:
                found[window].append(row["id"])
        return dict(found)

    def _sampled(self, ticket_id: str) -> tuple[str | None, str | None, str | None]:
        """(clerk, number, service) of a sampled ticket, from its row."""
        row = self.db.query_one("SELECT data FROM tickets WHERE id = ?", (ticket_id,))
        if row is None:
            return None, None, None
        ticket = _ticket_decoder.decode(row["data"])
        return finished_at(ticket)[1], ticket.number, ticket.service

    # --- projections --------------------------------------------------------------------

    def save_draw(self, tx: Tx, event: SpotCheckDrawn) -> None:
        data = {"population": event.population, "sample": event.sample,
                "population_digest": event.population_digest,
                "method": event.method, "checklist": event.checklist}
        tx.execute(
            "INSERT INTO spot_draws (draw_id, week, seed, per_window, drawn_at, by, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event.draw_id, event.week.isoformat(), event.seed, event.per_window,
             utc_iso(event.at), event.by, _encoder.encode(data).decode()),
        )
        for window_no, ids in event.sample.items():
            for position, ticket_id in enumerate(ids):
                tx.execute(
                    "INSERT INTO spot_items (draw_id, ticket_id, window_no, position, clerk, "
                    "number, service) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (event.draw_id, ticket_id, window_no, position, *self._sampled(ticket_id)),
                )

    def save_review(self, tx: Tx, event: SpotCheckReviewed) -> None:
        tx.execute(
            "UPDATE spot_items SET reviewed_at = ?, by = ?, answers = ?, note = ?, finding = ?, "
            "case_id = ? WHERE draw_id = ? AND ticket_id = ?",
            (utc_iso(event.at), event.by, _encoder.encode(event.answers).decode(), event.note,
             int(event.finding), event.case_id, event.draw_id, event.ticket_id),
        )

    def save_record(self, tx: Tx, event: StaffRecordAdded) -> None:
        tx.execute(
            "INSERT INTO staff_records (record_id, username, staff_no, kind, grounds, detail, "
            "year, at, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.record_id, event.username, event.staff_no, event.kind, event.grounds,
             event.detail, event.year, utc_iso(event.at), event.by),
        )

    # --- draws --------------------------------------------------------------------------

    def draw(self, draw_id: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT draw_id, week, seed, per_window, drawn_at, by, data FROM spot_draws "
            "WHERE draw_id = ?", (draw_id,))
        return _draw(row) if row else None

    def draw_ids(self, week: dt.date | None = None, limit: int = 20) -> list[str]:
        """The draw of `week`, or the latest `limit` draws, newest first."""
        if week is not None:
            rows = self.db.query("SELECT draw_id FROM spot_draws WHERE week = ?",
                                 (week.isoformat(),))
        else:
            rows = self.db.query(
                "SELECT draw_id FROM spot_draws ORDER BY week DESC LIMIT ?", (limit,))
        return [row["draw_id"] for row in rows]

    def items(self, draw_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT draw_id, ticket_id, window_no, position, clerk, number, service, "
            "reviewed_at, by, answers, note, finding, case_id FROM spot_items "
            "WHERE draw_id = ? ORDER BY window_no, position", (draw_id,))
        return [_item(row) for row in rows]

    def item(self, draw_id: str, ticket_id: str) -> dict[str, Any] | None:
        return next((i for i in self.items(draw_id) if i["ticket_id"] == ticket_id), None)

    # --- efficiency records -------------------------------------------------------------

    def records_of(self, username: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT record_id, username, staff_no, kind, grounds, detail, year, at, by "
            "FROM staff_records WHERE username = ? ORDER BY at DESC, record_id DESC",
            (username,))
        return [dict(row) for row in rows]

    def records_on(self, day: dt.date) -> int:
        """Records numbered on the hall's `day` so far (their ids carry the day)."""
        row = self.db.query_one(
            "SELECT COUNT(*) FROM staff_records WHERE record_id LIKE ?",
            (f"XN{day:%Y%m%d}%",))
        return row[0] if row else 0

    def record_counts(self, year: int) -> dict[str, dict[str, int]]:
        """Per username, records of `year` by kind, and `total` of every year."""
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for row in self.db.query(
                "SELECT username, kind, COUNT(*) AS n FROM staff_records WHERE year = ? "
                "GROUP BY username, kind", (year,)):
            counts[row["username"]][row["kind"]] = row["n"]
        for row in self.db.query(
                "SELECT username, COUNT(*) AS n FROM staff_records GROUP BY username"):
            counts[row["username"]]["total"] = row["n"]
        return dict(counts)

    def excluded_from_awards(self, year: int) -> set[str]:
        """Usernames with a 效能告诫 (`warning`) recorded in `year`: out of that year's
        评先评优 (art. 16)."""
        rows = self.db.query(
            "SELECT DISTINCT username FROM staff_records WHERE year = ? AND kind = ?",
            (year, EXCLUDING_KIND))
        return {row["username"] for row in rows}


def _draw(row: Any) -> dict[str, Any]:
    found = dict(row)
    data = msgspec.json.decode(found.pop("data"))
    # JSON keys are text: windows back to numbers, in order
    found["population"] = {int(k): v for k, v in sorted(data["population"].items(),
                                                         key=lambda kv: int(kv[0]))}
    found["sample"] = {int(k): v for k, v in sorted(data["sample"].items(),
                                                     key=lambda kv: int(kv[0]))}
    found["population_digest"] = {int(k): v for k, v in sorted(
        data.get("population_digest", {}).items(), key=lambda kv: int(kv[0]))}
    found["method"] = data["method"]
    found["checklist"] = data.get("checklist", [])
    return found


def _item(row: Any) -> dict[str, Any]:
    found = dict(row)
    found["answers"] = msgspec.json.decode(found["answers"]) if found["answers"] else None
    found["finding"] = None if found["finding"] is None else bool(found["finding"])
    return found
