"""The hall's state: the day's tickets, windows, passes, devices and alerts, as plain data.

msgspec Structs, so the state can be snapshotted to JSON and rebuilt by replaying events
(`apply`, hub/engine/evolve/, is the only code that changes it).
"""

from __future__ import annotations

import datetime as dt

import msgspec

from .vocabulary import Channel, OutcomeKind, RatingStatus, TicketStatus


class Outcome(msgspec.Struct, kw_only=True, omit_defaults=True):
    kind: OutcomeKind
    slip: str | None = None  # 承诺单 number, what the citizen queries and collects with
    promised_date: dt.date | None = None
    items: list[str] = []
    departments: list[str] = []  # 联办件: the departments handling it jointly
    authority: str | None = None  # 上报件: the higher authority
    reported_on: dt.date | None = None
    reason: str | None = None  # 退件
    approved_by: str | None = None


class Rating(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The citizen's rating of one ticket's service, tied to the window and clerk (no gaming)."""

    request_id: int
    window: int
    clerk: str
    requested_at: dt.datetime
    deadline: dt.datetime
    status: RatingStatus = RatingStatus.PENDING
    level: int | None = None
    reason: str | None = None
    rated_at: dt.datetime | None = None
    source: str | None = None  # keypad | kiosk | office | phone


class Visit(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One stay of a ticket at a window: its history across transfers (联办)."""

    window: int
    clerk: str
    service: str
    called_at: dt.datetime
    ended_at: dt.datetime | None = None
    end: str | None = None  # finished | no_show | transferred | return_requested | expired
    note: str | None = None


class Ticket(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    number: str
    service: str
    day: dt.date
    channel: Channel
    priority: bool
    rank: tuple[int, int]  # queue order; see CallingRules._requeue_rank
    issued_at: dt.datetime
    status: TicketStatus = TicketStatus.WAITING
    reference: str | None = None  # green pass or appointment code
    identified: bool = False  # issued against a swiped ID card (who: only identity_links knows)
    target_window: int | None = None  # transferred to a window rather than a service
    requeued: bool = False
    recalls: int = 0
    window: int | None = None
    clerk: str | None = None
    called_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    outcome: Outcome | None = None
    rating: Rating | None = None
    visits: list[Visit] = []


def queue_key(ticket: Ticket) -> str:
    return f"@{ticket.target_window}" if ticket.target_window is not None else ticket.service


def queue_order(ticket: Ticket) -> tuple[bool, tuple[int, int]]:
    """Place in its queue: priority tickets first, then by rank."""
    return (not ticket.priority, ticket.rank)


class Clerk(msgspec.Struct, kw_only=True):
    username: str
    name: str
    staff_no: str


class Pause(msgspec.Struct, kw_only=True):
    reason: str
    since: dt.datetime


class WindowState(msgspec.Struct, kw_only=True):
    no: int
    clerk: Clerk | None = None
    current: str | None = None  # ticket id at the window
    pause: Pause | None = None
    priority_streak: int = 0  # priority tickets called in a row (fairness)
    last_served: str | None = None  # the ticket a "request rating" key asks about
    rating_ticket: str | None = None  # the ticket whose rating window is open at the keypad

    @property
    def away(self) -> bool:
        """No clerk, or paused: an AB backup serves this window's items (同岗替代)."""
        return self.clerk is None or self.pause is not None


class GreenPass(msgspec.Struct, kw_only=True):
    code: str
    project: str
    day: dt.date
    service: str | None = None
    granted_by: str
    used_by: str | None = None  # ticket id


class Appointment(msgspec.Struct, kw_only=True):
    code: str
    service: str
    day: dt.date
    used_by: str | None = None
    person: str | None = None  # the day pseudonym of the citizen it is booked for, if given


class CallRecord(msgspec.Struct, kw_only=True):
    ticket_id: str
    number: str
    service: str
    window: int
    at: dt.datetime
    recall: int = 0


RECENT_CALLS = 20


class DeviceHealth(msgspec.Struct, kw_only=True):
    device: str  # agent-unique id, e.g. "bus1/rating@3"
    kind: str
    window: int | None = None
    windows: list[int] = []  # every window it serves, if several (a slip printer): window first
    agent: str
    status: str  # online | offline | error
    detail: str = ""
    since: dt.datetime


class Alert(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An 电子监察 condition that holds now (raised, not yet cleared)."""

    key: str  # one per condition and subject: "wait:S1", "pause:3", "device:bus1/led@3"
    kind: str  # wait | serving | pause | unstaffed | device | unhappy | no_show | slip_overdue
    #            | tls_cert | case_overdue
    since: dt.datetime
    message: str
    message_en: str = ""
    window: int | None = None
    service: str | None = None


class Notice(msgspec.Struct, kw_only=True):
    text: str
    text_en: str = ""
    by: str


class HallState(msgspec.Struct, kw_only=True):
    day: dt.date
    seq: int = 0  # sequence number of the last event applied
    next_rank: int = 1
    next_sub: int = 1
    counters: dict[str, int] = {}  # ticket prefix -> last number issued today
    issued: dict[str, int] = {}  # service -> normal-channel tickets issued today (quota)
    slip_seq: int = 0
    complaint_seq: int = 0
    case_seq: int = 0  # supervision cases opened today (their numbers); the cases live in the store
    tickets: dict[str, Ticket] = {}
    # Waiting tickets by queue: a service code, or "@<window>" for tickets sent to a window,
    # each kept in queue_order by `apply`, so who-is-next and people-ahead look at one sorted
    # queue, not at the whole day.
    queues: dict[str, list[str]] = {}
    windows: dict[int, WindowState] = {}
    passes: dict[str, GreenPass] = {}
    appointments: dict[str, Appointment] = {}
    closed_services: dict[str, str] = {}  # service -> reason, closed by a supervisor
    rating_seq: int = 0  # last rating request id handed out (16-bit, wraps)
    notice: Notice | None = None  # the scrolling line set by a supervisor; None: the config's
    devices: dict[str, DeviceHealth] = {}
    alerts: dict[str, Alert] = {}
    recent_calls: list[CallRecord] = []
    # Per service, the minutes its last PACE_SAMPLE cases finished today took at a window, in
    # the order they finished: the kiosk's estimated wait, without a pass over the day.
    pace: dict[str, list[float]] = {}
    audit_head_day: dt.date | None = None  # the business day the audit head was last published
    # 刷身份证取号: today's ticket ids per person (their day pseudonym, TicketIssued.person), so
    # the per-person rules (hub/engine/persons.py) look up one key, not the whole day.
    persons: dict[str, list[str]] = {}


PACE_SAMPLE = 20  # the last this many finished cases of an item set its pace
