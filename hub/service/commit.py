"""One change's transaction, step by step (`ServiceCore._commit` runs them in this order):

1. catch up: apply what other hubs committed since this hub's state (`Commit.catch_up`);
2. decide: the engine's rule, on that state (the caller's `decide`);
3. append the events to the outbox (`Commit.append`);
4. record the change: a staff member's audit record, a device event's id (`Commit.record`);
5. apply each event to the state and write its projection (`PROJECTIONS`), then the rows of
   the tickets the events touched (`Commit.apply_and_project`); a ticket issued and a 承诺单
   made get the citizen's phone link (`Commit.link`: its capability, kept only hashed);
6. snapshot the state at a day's end and every SNAPSHOT_EVERY events (`Commit.snapshot_if_due`).

All in one transaction: the events, their projections and their audit record commit together
or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from hub.auth import STAFF_ROLES, Principal
from hub.clock import Clock
from hub.engine import HallState, apply
from hub.engine.model import (
    CaseOpened,
    CaseStepped,
    ConfigReloaded,
    DayRolled,
    Event,
    JointPartDone,
    RatingReasonAdded,
    SlipStatus,
    SlipStatusChanged,
    SpotCheckDrawn,
    SpotCheckReviewed,
    StaffRecordAdded,
    Ticket,
    TicketFinished,
    TicketIssued,
)
from hub.store.audit import AuditEntry, AuditLog
from hub.store.cases import Cases
from hub.store.citizen_links import CitizenLinks, Link
from hub.store.database import Tx
from hub.store.hall_config import HallConfigs
from hub.store.identity_links import IdentityLink, IdentityLinks
from hub.store.spot_checks import SpotChecks
from hub.store.store import SNAPSHOT_EVERY, Record, Store

Decide = Callable[[HallState, dt.datetime], list[Event]]
CAPABILITY_BYTES = 16  # 128 bits: secrets.token_urlsafe gives 22 characters
SLIP_OPEN_DAYS = 90  # a 承诺单's link while it is not collected ...
SLIP_COLLECTED_DAYS = 30  # ... and after it is
E = TypeVar("E", bound=Event)


def slip_capability(key: bytes, slip: str) -> str:
    """A 承诺单's capability: 128 bits derived from its number with the hall's slip key, so the
    same link is known again without storing it (only its hash is kept): a reprint carries the
    first print's QR and the ticket's page shows that link, and reading it writes nothing."""
    mac = hmac.new(key, b"onestop-slip:" + slip.encode(), hashlib.sha256)
    return urlsafe_b64encode(mac.digest()[:CAPABILITY_BYTES]).decode("ascii").rstrip("=")


class Inbox(msgspec.Struct, frozen=True):
    """A device event's id, and how to describe what its commit did (kept for repeats)."""

    id: str
    error: dict[str, str] | None = None  # a refusal, remembered so a repeat gets the same one

    def result(self, records: list[Record]) -> dict[str, Any]:
        if self.error is not None:
            return {"ok": False, "error": self.error}
        return {"ok": True, "seqs": [r.seq for r in records]}


class AlreadyHandled(Exception):
    """A device event whose id was handled before; `answer` is what was answered then."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        super().__init__("already handled")


@dataclass(frozen=True)
class Change:
    """Who asks for a change and from where, and what is recorded with it: the audit record's
    `action` and `detail` (a staff member's), the device event's id (`inbox`)."""

    who: Principal | None = None
    addr: str = ""
    inbox: Inbox | None = None
    action: str | None = None
    detail: dict[str, Any] | None = None
    by: str | None = None  # the actor when no Principal asked (a citizen on their phone)

    @property
    def actor(self) -> str:
        return self.who.actor if self.who else self.by or "system"

    @property
    def audited(self) -> bool:
        return self.who is not None and self.who.role in STAFF_ROLES

    @property
    def recorded(self) -> bool:
        """Whether it commits even when it changes nothing: a staff member's command is
        audited, and a device event's id is kept, whatever came of it."""
        return self.audited or self.inbox is not None


@dataclass
class Commit:
    """The steps of one change's transaction `tx`, at `now`, on the hall's `state`."""

    store: Store
    audit: AuditLog
    configs: HallConfigs
    tx: Tx
    state: HallState
    now: dt.datetime
    # (hash, text, source) of the hall file a reload is committing: stored with its event.
    hall_text: tuple[str, str, str] | None = None
    # The capabilities this commit minted, by (kind, ticket id or slip number): the caller
    # reads them after the commit (the issue answer, the printed QR). None: links are off.
    minted: dict[tuple[str, str], str] | None = None
    zone: dt.tzinfo = dt.UTC  # the hall's: a ticket's link ends with its day there
    # The key a 承诺单's capability is derived from (read when a slip is first made).
    slip_key: Callable[[], bytes] | None = None
    # 刷身份证取号: the identity link of the ticket this commit issues (ticket id and day
    # filled in here), written with it or not at all.
    identity: IdentityLink | None = None

    def catch_up(self) -> bool:
        """Apply what other hubs committed since this hub's state; whether a hall file was
        reloaded among it (then the caller follows it before deciding)."""
        reloaded = False
        for record in self.store.records_after_tx(self.tx, self.state.seq):
            apply(self.state, record.event, record.seq)
            reloaded = reloaded or isinstance(record.event, ConfigReloaded)
        return reloaded

    def append(self, events: list[Event], change: Change) -> list[Record]:
        return self.store.append(self.tx, events, self.state.day, change.actor, change.addr)

    def record(self, change: Change, records: list[Record], clock: Clock) -> None:
        """A staff member's audit record (even of a command that changed nothing), and a
        device event's id with the answer a repeat of it gets."""
        who = change.who
        if change.audited and who is not None:
            self.audit.append(self.tx, AuditEntry(
                at=self.now, account=who.name, role=who.role.value, window_no=who.window,
                addr=change.addr,
                action=change.action or ",".join(r.type for r in records) or "none",
                detail=change.detail or {}, event_seqs=tuple(r.seq for r in records)))
        if change.inbox is not None:
            self.store.save_inbox(self.tx, change.inbox.id, change.actor,
                                  change.inbox.result(records), clock())

    def apply_and_project(self, records: list[Record]) -> None:
        """Apply each event to the state and write its projection; then save the tickets the
        events touched, as they now stand."""
        touched: dict[str, Ticket | None] = {}
        for record in records:
            event = record.event
            if isinstance(event, DayRolled):
                # Expired tickets leave the state with their day: keep them to save their
                # final form (apply updates these very objects).
                touched.update((t, self.state.tickets.get(t)) for t in event.expired)
            apply(self.state, event, record.seq)
            if event.ticket:
                # Kept as applied: a DayRolled later in this commit takes the day's tickets out
                # of the state (a rating still open at midnight ends just before it).
                touched.setdefault(event.ticket, self.state.tickets.get(event.ticket))
            project = PROJECTIONS.get(type(event))
            if project is not None:
                project(self, record)
            self.link(record)
        tickets = [self.state.tickets.get(t) or gone for t, gone in touched.items()]
        self.store.save_tickets(self.tx, [t for t in tickets if t is not None])

    def snapshot_if_due(self, records: list[Record]) -> None:
        """A snapshot at a day's end and each time the seq crosses a multiple of
        SNAPSHOT_EVERY: it bounds the replay at start-up."""
        seq = self.state.seq
        crossed = seq // SNAPSHOT_EVERY != (seq - len(records)) // SNAPSHOT_EVERY
        if records and (crossed or any(isinstance(r.event, DayRolled) for r in records)):
            self.store.save_snapshot(self.tx, self.state, records[-1].at)

    # --- the citizen's phone links ---------------------------------------------------------

    def link(self, record: Record) -> None:
        """Mint the capability of a ticket just issued (it ends with the ticket's day) or a
        承诺单 just made (SLIP_OPEN_DAYS), keeping only its hash; a slip collected keeps its
        links SLIP_COLLECTED_DAYS more. Never in the event: a capability is a secret."""
        event = record.event
        if isinstance(event, SlipStatusChanged) and event.status is SlipStatus.COLLECTED:
            CitizenLinks(self.store.db).extend_slip(
                self.tx, event.slip, event.at + dt.timedelta(days=SLIP_COLLECTED_DAYS))
        if self.minted is None:
            return
        if isinstance(event, TicketIssued):
            end = dt.datetime.combine(self.state.day + dt.timedelta(days=1), dt.time(),
                                      tzinfo=self.zone)
            self._mint(Link("ticket", event.ticket_id, self.state.day, end))
        elif isinstance(event, TicketFinished) and event.outcome.slip:
            self._mint(Link("slip", event.outcome.slip, self.state.day,
                            event.at + dt.timedelta(days=SLIP_OPEN_DAYS)))

    def _mint(self, link: Link) -> None:
        assert self.minted is not None
        if link.kind == "slip" and self.slip_key is not None:
            capability = slip_capability(self.slip_key(), link.ref)
        else:
            capability = secrets.token_urlsafe(CAPABILITY_BYTES)
        CitizenLinks(self.store.db).save(self.tx, capability, link, self.now)
        self.minted[(link.kind, link.ref)] = capability

    # --- the projections ----------------------------------------------------------------

    def save_slip(self, record: Record) -> None:
        event = record.event
        if isinstance(event, TicketFinished) and event.outcome.slip:
            self.store.save_slip(self.tx, event)

    def save_part_done(self, record: Record) -> None:
        if isinstance(record.event, JointPartDone):
            self.store.save_part_done(self.tx, record.event)

    def save_slip_status(self, record: Record) -> None:
        if isinstance(record.event, SlipStatusChanged):
            self.store.save_slip_status(self.tx, record.event)

    def save_case_opened(self, record: Record) -> None:
        if isinstance(record.event, CaseOpened):
            Cases(self.store.db).save_opened(self.tx, record.event)

    def save_case_step(self, record: Record) -> None:
        if isinstance(record.event, CaseStepped):
            Cases(self.store.db).save_step(self.tx, record.seq, record.event)

    def save_case_reason(self, record: Record) -> None:
        if isinstance(record.event, RatingReasonAdded):
            Cases(self.store.db).save_reason(self.tx, record.event)

    def save_spot_draw(self, record: Record) -> None:
        if isinstance(record.event, SpotCheckDrawn):
            SpotChecks(self.store.db).save_draw(self.tx, record.event)

    def save_spot_review(self, record: Record) -> None:
        if isinstance(record.event, SpotCheckReviewed):
            SpotChecks(self.store.db).save_review(self.tx, record.event)

    def save_staff_record(self, record: Record) -> None:
        if isinstance(record.event, StaffRecordAdded):
            SpotChecks(self.store.db).save_record(self.tx, record.event)

    def save_identity_link(self, record: Record) -> None:
        event = record.event
        if isinstance(event, TicketIssued) and event.identified and self.identity is not None:
            link = self.identity._replace(ticket_id=event.ticket_id, day=self.state.day)
            IdentityLinks(self.store.db).save(self.tx, link, self.now)

    def save_hall_file(self, record: Record) -> None:
        """The text with its event: another hub that applies the event finds it."""
        event = record.event
        if isinstance(event, ConfigReloaded) and self.hall_text and \
                self.hall_text[0] == event.hash:
            new_hash, text, source = self.hall_text
            self.configs.save(self.tx, record.seq, new_hash, text, source, self.now)


# Which store projection each event type writes, in the transaction of its event. Besides
# these, every event of a ticket rewrites that ticket's row, and a day's end (and every
# SNAPSHOT_EVERY events) writes a snapshot of the state.
PROJECTIONS: dict[type[Event], Callable[[Commit, Record], None]] = {
    TicketFinished: Commit.save_slip,  # a 承诺单, when the case was finished as a commitment
    JointPartDone: Commit.save_part_done,  # one department's part of a 联办件 done
    SlipStatusChanged: Commit.save_slip_status,  # a 承诺单 moved on
    ConfigReloaded: Commit.save_hall_file,  # the hall file's text, for the other hubs
    CaseOpened: Commit.save_case_opened,  # a supervision case's row
    CaseStepped: Commit.save_case_step,  # the case moved on, and its step's row
    RatingReasonAdded: Commit.save_case_reason,  # a 差评's reason, given later, on its case
    SpotCheckDrawn: Commit.save_spot_draw,  # a week's 办件抽查 sample
    SpotCheckReviewed: Commit.save_spot_review,  # a sampled ticket reviewed
    StaffRecordAdded: Commit.save_staff_record,  # an efficiency record (效能告诫 ...)
    TicketIssued: Commit.save_identity_link,  # 刷身份证取号: who the ticket is for (hashed)
}


def the(records: list[Record], kind: type[E]) -> Record:
    """The one record of a `kind` event among a change's `records` (a rollover committed
    just before may precede it): LookupError if there is none, or more than one."""
    return _the(records, kind)[0]


def the_event(records: list[Record], kind: type[E]) -> E:
    """The one `kind` event among `records`, typed (see `the`)."""
    return _the(records, kind)[1]


def _the(records: list[Record], kind: type[E]) -> tuple[Record, E]:
    found: list[tuple[Record, E]] = []
    for record in records:
        event = record.event
        if isinstance(event, kind):
            found.append((record, event))
    if len(found) != 1:
        raise LookupError(f"expected one {kind.__name__} among the events committed, "
                          f"got {[r.type for r in records]}")
    return found[0]
