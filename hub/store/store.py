"""The hall's durable store: the event outbox, state snapshots, ticket and slip projections,
and the accounts, device tokens and sessions.

Every write method takes the open transaction (`Tx`) so that a change of the hall, the events
it emits and the projections they update commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, cast

import msgspec

from hub.engine.alerts import OverdueSlip
from hub.engine.model import (
    AnyEvent,
    Event,
    HallState,
    JointPartDone,
    OutcomeKind,
    SlipStatusChanged,
    Ticket,
    TicketFinished,
    event_type,
    public_fields,
)
from hub.engine.model.sharing import Sharing

from .database import Database, Tx

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 1000  # events between snapshots: bounds the replay at start-up
_event_decoder = msgspec.json.Decoder(AnyEvent)
_ticket_decoder = msgspec.json.Decoder(Ticket)
_encoder = msgspec.json.Encoder()


def _state_with_raw_tickets() -> Any:
    """HallState's shape with its tickets left as raw JSON, to be decoded one at a time."""
    fields: list[Any] = []
    for f in msgspec.structs.fields(HallState):
        kind = dict[str, msgspec.Raw] if f.name == "tickets" else f.type
        if f.required:
            fields.append((f.name, kind))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, kind, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, kind, f.default))
    return msgspec.defstruct("SnapshotHead", fields, kw_only=True)


_snapshot_decoder = msgspec.json.Decoder(_state_with_raw_tickets())


def read_snapshot(document: str | bytes) -> HallState:
    """A snapshot's state, its tickets decoded one at a time and each made of the values the
    tickets before it hold (hub/engine/model/sharing.py): a day's tickets read back take what
    they took in the hub that ran the day, and their copies never all exist at once."""
    head = _snapshot_decoder.decode(document)
    shared = Sharing()
    tickets: dict[str, Ticket] = {}
    for key, raw in head.tickets.items():
        tickets[shared.one(key)] = shared.one(_ticket_decoder.decode(raw))
    head.tickets = {}
    state = HallState(**{name: getattr(head, name) for name in HallState.__struct_fields__})
    state.tickets = tickets
    return cast(HallState, shared.one(state))


class Record(msgspec.Struct, kw_only=True):
    """A committed event with its place in the outbox."""

    seq: int
    id: str
    type: str
    at: dt.datetime
    actor: str
    event: AnyEvent

    def public(self) -> dict[str, Any]:
        """The form pushed to clients: envelope plus the event's own fields, times in UTC (the
        forwarder writes the same fields, with the hall's offset: hub/forwarder.py)."""
        data = public_fields(self.event)
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "at": data.pop("at"),
            "data": data,
        }


def utc_iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- events -------------------------------------------------------------------------

    def append(
        self, tx: Tx, events: Iterable[Event], day: dt.date, actor: str, addr: str = ""
    ) -> list[Record]:
        """Append `events` after the last one. `seq` is the last seq + 1, read in this very
        transaction: the write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's hall lock) makes it
        gap-free and in commit order on both engines, even across hubs (hub/store/postgres.py)."""
        records = []
        seq = None
        for event in events:
            if seq is None:
                seq = tx.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
            seq += 1
            record_id = str(uuid.uuid4())
            kind = event_type(event)
            tx.execute(
                "INSERT INTO events (seq, id, type, at, day, window_no, ticket_id, actor, addr, "
                "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    record_id,
                    kind,
                    utc_iso(event.at),
                    day.isoformat(),
                    event.window,
                    event.ticket,
                    actor,
                    addr,
                    _encoder.encode(event).decode(),
                ),
            )
            records.append(
                Record(
                    seq=seq,
                    id=record_id,
                    type=kind,
                    at=event.at,
                    actor=actor,
                    event=cast("AnyEvent", event),  # every engine event is one of them
                )
            )
        return records

    def last_seq(self) -> int:
        row = self.db.query_one("SELECT MAX(seq) FROM events")
        assert row is not None  # an aggregate answers one row
        return row[0] or 0

    def first_day(self) -> dt.date | None:
        """The business day of the first event: where a replay without a snapshot starts."""
        row = self.db.query_one("SELECT day FROM events ORDER BY seq LIMIT 1")
        return dt.date.fromisoformat(row["day"]) if row else None

    def records_after(self, seq: int, limit: int = 10_000) -> list[Record]:
        rows = self.db.query(
            "SELECT seq, id, type, at, actor, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [self._record(row) for row in rows]

    def each_record_after(self, seq: int, page: int = 500) -> Iterator[Record]:
        """Every record after `seq`, read a page at a time: a replay (a restart, a day without
        a snapshot yet) holds one page of rows and records at once, never the whole log."""
        while records := self.records_after(seq, limit=page):
            yield from records
            seq = records[-1].seq
            del records  # this page's rows and records go before the next is read

    def records_after_tx(self, tx: Tx, seq: int) -> list[Record]:
        rows = tx.execute(
            "SELECT seq, id, type, at, actor, data FROM events WHERE seq > ? ORDER BY seq", (seq,)
        ).fetchall()
        return [self._record(row) for row in rows]

    @staticmethod
    def _record(row: Any) -> Record:
        event = _event_decoder.decode(row["data"])
        return Record(
            seq=row["seq"],
            id=row["id"],
            type=row["type"],
            at=event.at,
            actor=row["actor"],
            event=event,
        )

    def ticket_history(self, ticket_id: str) -> list[Record]:
        rows = self.db.query(
            "SELECT seq, id, type, at, actor, data FROM events WHERE ticket_id = ? ORDER BY seq",
            (ticket_id,),
        )
        return [self._record(row) for row in rows]

    # --- state --------------------------------------------------------------------------

    def save_snapshot(self, tx: Tx, state: HallState, now: dt.datetime) -> None:
        tx.insert_document("snapshots", {"seq": state.seq, "at": utc_iso(now)}, "state",
                           _encoder.encode(state))
        # Keep a few: an older one is a fallback, but a year of them is only weight.
        tx.execute(
            "DELETE FROM snapshots WHERE seq < (SELECT MIN(seq) FROM "
            "(SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 3) AS recent)"
        )

    def latest_snapshot(self) -> HallState | None:
        row = self.db.query_one("SELECT state FROM snapshots ORDER BY seq DESC LIMIT 1")
        return read_snapshot(row["state"]) if row else None

    # --- projections --------------------------------------------------------------------

    def save_tickets(self, tx: Tx, tickets: Iterable[Ticket]) -> None:
        rows = [
            (
                t.id,
                t.day.isoformat(),
                t.number,
                t.service,
                t.channel.value,
                t.status.value,
                utc_iso(t.issued_at),
                t.called_at and utc_iso(t.called_at),
                t.finished_at and utc_iso(t.finished_at),
                t.window,
                t.clerk,
                t.outcome and t.outcome.kind.value,
                t.outcome and t.outcome.slip,
                _encoder.encode(t).decode(),
            )
            for t in tickets
        ]
        tx.executemany(
            "INSERT INTO tickets (id, day, number, service, channel, status, issued_at, "
            "called_at, finished_at, window_no, clerk, outcome, slip, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET service = excluded.service, "
            "status = excluded.status, called_at = excluded.called_at, "
            "finished_at = excluded.finished_at, window_no = excluded.window_no, "
            "clerk = excluded.clerk, outcome = excluded.outcome, slip = excluded.slip, "
            "data = excluded.data",
            rows,
        )

    def save_slip(self, tx: Tx, event: TicketFinished) -> None:
        outcome = event.outcome
        tx.execute(
            "INSERT INTO slips (number, ticket_id, service, kind, status, promised_date, "
            "created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.slip,
                event.ticket_id,
                event.service,
                outcome.kind.value,
                "accepted",
                outcome.promised_date and outcome.promised_date.isoformat(),
                utc_iso(event.at),
                utc_iso(event.at),
                _encoder.encode(outcome).decode(),
            ),
        )
        if outcome.kind is OutcomeKind.JOINT:
            tx.executemany(
                "INSERT INTO slip_parts (slip, department, position) VALUES (?, ?, ?)",
                [(outcome.slip, d, i) for i, d in enumerate(outcome.departments)],
            )

    def save_part_done(self, tx: Tx, event: JointPartDone) -> None:
        tx.execute(
            "UPDATE slip_parts SET done_at = ?, done_by = ? WHERE slip = ? AND department = ?",
            (utc_iso(event.at), event.by, event.slip, event.department),
        )

    def slip_parts(self, number: str) -> dict[str, bool]:
        """A joint case's departments and whether each has done its part (empty: not joint)."""
        rows = self.db.query(
            "SELECT department, done_at FROM slip_parts WHERE slip = ? ORDER BY position",
            (number,),
        )
        return {row["department"]: row["done_at"] is not None for row in rows}

    def overdue_slips(self, today: dt.date) -> list[OverdueSlip]:
        """承诺件 past their promised date and not yet done (accepted or in progress)."""
        rows = self.db.query(
            "SELECT number, service, promised_date FROM slips "
            "WHERE status IN ('accepted', 'in_progress') AND promised_date < ? "
            "ORDER BY promised_date, number LIMIT 1000",
            (today.isoformat(),),
        )
        return [OverdueSlip(row["number"], row["service"],
                            dt.date.fromisoformat(row["promised_date"])) for row in rows]

    def joint_pending(self, department: str, limit: int = 200) -> list[str]:
        """Slip numbers of joint cases still waiting for `department`'s part, oldest first."""
        rows = self.db.query(
            "SELECT slip FROM slip_parts WHERE department = ? AND done_at IS NULL "
            "ORDER BY slip LIMIT ?",
            (department, limit),
        )
        return [row["slip"] for row in rows]

    def save_slip_status(self, tx: Tx, event: SlipStatusChanged) -> None:
        tx.execute(
            "UPDATE slips SET status = ?, updated_at = ? WHERE number = ?",
            (event.status.value, utc_iso(event.at), event.slip),
        )

    # --- device inbox -------------------------------------------------------------------

    def inbox_result(self, event_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT result FROM device_inbox WHERE id = ?", (event_id,))
        return msgspec.json.decode(row["result"]) if row else None

    def save_inbox(
        self, tx: Tx, event_id: str, agent: str, result: dict[str, Any], now: dt.datetime
    ) -> None:
        tx.execute(
            "INSERT INTO device_inbox (id, agent, received_at, result) VALUES (?, ?, ?, ?)",
            (event_id, agent, utc_iso(now), _encoder.encode(result).decode()),
        )

    def ticket(self, ticket_id: str) -> Ticket | None:
        row = self.db.query_one("SELECT data FROM tickets WHERE id = ?", (ticket_id,))
        return _ticket_decoder.decode(row["data"]) if row else None

    def slip(self, number: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT number, ticket_id, service, kind, status, promised_date, created_at, "
            "updated_at, data FROM slips WHERE number = ?",
            (number,),
        )
        if row is None:
            return None
        found = dict(row)
        found["outcome"] = msgspec.json.decode(found.pop("data"))
        return found
