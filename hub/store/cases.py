"""Supervision cases in the store (migration 0015): the `cases` rows, projections of their
events, and `case_steps`, one row per step; and the reads the office, the clerks' panels and
the supervision check make of them.

The rows are written only by the projections (hub/service/commit.py), in the transaction of
their event; `advance` (hub/engine/casework.py) is the one rule of how a step changes a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec

from hub.engine.casework import (
    FINAL_CASE_STATUSES,
    Case,
    OverdueStep,
    advance,
    next_due,
    opened_case,
    queue_key,
)
from hub.engine.model import CaseOpened, CaseStepped, RatingReasonAdded, public_fields

from .database import Database, Tx
from .store import utc_iso

_COLUMNS = tuple(Case.__struct_fields__)
_ALL = ", ".join(_COLUMNS)
_encoder = msgspec.json.Encoder()
MAX_PAGE = 200
CURSOR_SEP = "~"
# A step's fields kept in its row's `data` (the rest are columns, or the case's own).
_ENVELOPE = frozenset({"at", "case_id", "action", "status", "by", "clerk", "window_no"})


@dataclass(frozen=True)
class CaseFilter:
    """What the office's list asks for (each None: any)."""

    status: str | None = None
    kind: str | None = None
    window: int | None = None
    clerk: str | None = None
    department: str | None = None
    open: bool | None = None
    overdue_at: dt.date | None = None  # only cases with a step overdue at this hall date


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _case(row: Any) -> Case:
    return msgspec.convert({k: row[k] for k in _COLUMNS}, Case)


class Cases:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- projections (in the event's transaction) --------------------------------------------

    def save_opened(self, tx: Tx, event: CaseOpened) -> None:
        self._write(tx, opened_case(event), insert=True)

    def save_step(self, tx: Tx, seq: int, event: CaseStepped) -> None:
        case = self.in_tx(tx, event.case_id)
        if case is None:  # the engine steps only a case it was given: never here
            raise LookupError(f"case {event.case_id} stepped but not in the store")
        self._write(tx, advance(case, event), insert=False)
        data = {k: v for k, v in public_fields(event).items() if k not in _ENVELOPE}
        tx.execute(
            'INSERT INTO case_steps (case_id, seq, at, action, status, "by", data) '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event.case_id, seq, utc_iso(event.at), event.action, event.status.value, event.by,
             _encoder.encode(data).decode()),
        )

    def save_reason(self, tx: Tx, event: RatingReasonAdded) -> None:
        """A 差评's reason given later (kiosk, office): its case has it too."""
        tx.execute(
            "UPDATE cases SET reason = ?, updated_at = ? "
            "WHERE ticket_id = ? AND kind = 'rating' AND reason IS NULL",
            (event.reason, utc_iso(event.at), event.ticket_id),
        )

    def _write(self, tx: Tx, case: Case, insert: bool) -> None:
        values = [_value(getattr(case, c)) for c in _COLUMNS]
        due = next_due(case)
        extra = [0 if case.status in FINAL_CASE_STATUSES else 1, due and due.isoformat(),
                 queue_key(case)]
        if insert:
            tx.execute(
                f"INSERT INTO cases ({_ALL}, is_open, next_due, queue_key) "
                f"VALUES ({', '.join('?' * (len(_COLUMNS) + 3))})",
                (*values, *extra),
            )
        else:
            sets = ", ".join(f"{c} = ?" for c in (*_COLUMNS[1:], "is_open", "next_due",
                                                  "queue_key"))
            tx.execute(f"UPDATE cases SET {sets} WHERE case_id = ?",
                       (*values[1:], *extra, case.case_id))

    # --- reads ---------------------------------------------------------------------------------

    def in_tx(self, tx: Tx, case_id: str) -> Case | None:
        row = tx.execute(f"SELECT {_ALL} FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return _case(row) if row else None

    def get(self, case_id: str) -> Case | None:
        row = self.db.query_one(f"SELECT {_ALL} FROM cases WHERE case_id = ?", (case_id,))
        return _case(row) if row else None

    def steps(self, case_id: str) -> list[dict[str, Any]]:
        """A case's steps, in order: seq, at, action, status, by, and the step's fields."""
        rows = self.db.query(
            'SELECT seq, at, action, status, "by", data FROM case_steps WHERE case_id = ? '
            "ORDER BY seq", (case_id,))
        return [{"seq": r["seq"], "at": r["at"], "action": r["action"], "status": r["status"],
                 "by": r["by"], **msgspec.json.decode(r["data"])} for r in rows]

    def page(self, where: CaseFilter, limit: int = 50,
             after: str | None = None) -> tuple[list[Case], str | None]:
        """Cases as the office lists them: open ones by their next due day, then the final ones
        newest first; `after` is the `next` cursor of the page before."""
        clauses, params = self._clauses(where)
        if after:
            key, _, case_id = after.rpartition(CURSOR_SEP)
            clauses.append("(queue_key > ? OR (queue_key = ? AND case_id > ?))")
            params += [key, key, case_id]
        sql = (f"SELECT {_ALL}, queue_key FROM cases"
               + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
               + " ORDER BY queue_key, case_id LIMIT ?")
        limit = max(1, min(limit, MAX_PAGE))
        rows = self.db.query(sql, (*params, limit + 1))
        found = [_case(r) for r in rows[:limit]]
        more = len(rows) > limit
        cursor = f"{rows[limit - 1]['queue_key']}{CURSOR_SEP}{found[-1].case_id}" if more else None
        return found, cursor

    @staticmethod
    def _clauses(where: CaseFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("status", where.status), ("kind", where.kind),
                              ("window_no", where.window), ("clerk", where.clerk),
                              ("department", where.department)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.open is not None:
            clauses.append("is_open = ?")
            params.append(1 if where.open else 0)
        if where.overdue_at is not None:
            today = where.overdue_at.isoformat()
            clauses.append("is_open = 1 AND ((called_back_at IS NULL AND callback_due < ?) "
                           "OR (rectified_at IS NULL AND rectify_due < ?))")
            params += [today, today]
        return clauses, params

    def of_clerk(self, username: str, limit: int = MAX_PAGE) -> list[Case]:
        """The cases naming a clerk, newest first."""
        rows = self.db.query(
            f"SELECT {_ALL} FROM cases WHERE clerk = ? ORDER BY opened_at DESC, case_id DESC "
            "LIMIT ?", (username, limit))
        return [_case(r) for r in rows]

    def overdue(self, today: dt.date, tx: Tx | None = None) -> list[OverdueStep]:
        """Every open case's step past its due day at the hall's date `today`, not done: all
        of them (a step left out would have its alert cleared, then raised again)."""
        day = today.isoformat()
        sql = ("SELECT case_id, window_no, callback_due, rectify_due, called_back_at, "
               "rectified_at FROM cases WHERE is_open = 1 AND ((called_back_at IS NULL AND "
               "callback_due < ?) OR (rectified_at IS NULL AND rectify_due < ?)) "
               "ORDER BY case_id")
        rows = (tx.execute(sql, (day, day)).fetchall() if tx is not None
                else self.db.query(sql, (day, day)))
        out = []
        for r in rows:
            for step, due, done in (("callback", r["callback_due"], r["called_back_at"]),
                                    ("rectify", r["rectify_due"], r["rectified_at"])):
                if done is None and due < day:
                    out.append(OverdueStep(r["case_id"], step, dt.date.fromisoformat(due),
                                           r["window_no"]))
        return out

    def complaint_contact(self, case: Case) -> str | None:
        """The phone number a complaint's citizen left for an answer (the office calls back
        on it): kept in its `complaint.filed` event, never in the case."""
        if case.complaint_id is None:
            return None
        rows = self.db.query("SELECT data FROM events WHERE day = ? AND type = 'complaint.filed'",
                             (case.day.isoformat(),))
        for row in rows:
            data = msgspec.json.decode(row["data"])
            if data.get("complaint_id") == case.complaint_id:
                return data.get("phone")
        return None
