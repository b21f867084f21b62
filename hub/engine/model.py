"""The hall's state and the domain events that change it.

State is plain data (msgspec Structs) so it can be snapshotted to JSON and rebuilt by replaying
events: `state = fold(apply, events)`. Events are facts in the past tense; every change of the
hall is one or more events, and the store writes them in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

import msgspec


class Channel(StrEnum):
    NORMAL = "normal"
    GREEN = "green"  # 绿色通道, art. 10
    APPOINTMENT = "appointment"  # 预约签到


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"  # at a window, being served
    DONE = "done"
    NO_SHOW = "no_show"  # dropped after its second no-show
    RETURN_PENDING = "return_pending"  # 退件 waiting for a supervisor (art. 4(5))
    RETURN_REFUSED = "return_refused"  # 退件 refused after its day ended: handled off-queue
    EXPIRED = "expired"  # still open when the day ended


OPEN_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.CALLED})


class OutcomeKind(StrEnum):
    """How a case ends at the window (art. 4)."""

    IMMEDIATE = "immediate"  # 即办件
    COMMITMENT = "commitment"  # 承诺件
    JOINT = "joint"  # 联办件
    REPORT = "report"  # 上报件
    RETURNED = "returned"  # 退件


OUTCOME_LABELS = {
    OutcomeKind.IMMEDIATE: "即办件",
    OutcomeKind.COMMITMENT: "承诺件",
    OutcomeKind.JOINT: "联办件",
    OutcomeKind.REPORT: "上报件",
    OutcomeKind.RETURNED: "退件",
}


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


class SlipStatus(StrEnum):
    """Where a commitment slip's case is (承诺单), in the only order it may move: forward."""

    ACCEPTED = "accepted"  # 受理
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"  # 已办结
    READY = "ready"  # 可取件
    COLLECTED = "collected"  # 已取件


SLIP_STATUS_ORDER = tuple(SlipStatus)
SLIP_STATUS_LABELS = {
    SlipStatus.ACCEPTED: ("受理", "accepted"),
    SlipStatus.IN_PROGRESS: ("办理中", "in progress"),
    SlipStatus.DONE: ("已办结", "done"),
    SlipStatus.READY: ("可取件", "ready for collection"),
    SlipStatus.COLLECTED: ("已取件", "collected"),
}


class RatingLevel(IntEnum):
    """The national 政务服务"好差评" scale."""

    VERY_SATISFIED = 1  # 非常满意
    SATISFIED = 2  # 满意
    BASIC = 3  # 基本满意
    DISSATISFIED = 4  # 不满意
    VERY_DISSATISFIED = 5  # 非常不满意


RATING_LABELS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}


class RatingStatus(StrEnum):
    PENDING = "pending"
    RATED = "rated"
    NOT_RATED = "not_rated"


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
    source: str | None = None  # keypad | kiosk | office


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
    rank: tuple[int, int]  # queue order; see rules.requeue_rank
    issued_at: dt.datetime
    status: TicketStatus = TicketStatus.WAITING
    reference: str | None = None  # green pass or appointment code
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


PACE_SAMPLE = 20  # the last this many finished cases of an item set its pace


# --- events -------------------------------------------------------------------------------


class Event(msgspec.Struct, kw_only=True, tag_field="type", omit_defaults=True):
    at: dt.datetime
    # Fields the engine needs to rebuild its state that mean nothing outside it (a queue's sort
    # key): stored in the outbox, left out of what clients and the backend get (public_fields).
    internal: ClassVar[frozenset[str]] = frozenset()

    @property
    def window(self) -> int | None:
        return None

    @property
    def ticket(self) -> str | None:
        return None


class _TicketEvent(Event, kw_only=True):
    ticket_id: str

    @property
    def ticket(self) -> str | None:
        return self.ticket_id


class _WindowTicketEvent(_TicketEvent, kw_only=True):
    window_no: int
    number: str
    clerk: str  # username of the clerk signed in at the window

    @property
    def window(self) -> int | None:
        return self.window_no


class _WindowEvent(Event, kw_only=True):
    window_no: int

    @property
    def window(self) -> int | None:
        return self.window_no


class TicketIssued(_TicketEvent, tag="ticket.issued", kw_only=True):
    internal: ClassVar[frozenset[str]] = frozenset({"rank"})

    number: str
    service: str
    channel: Channel
    priority: bool
    rank: tuple[int, int]  # the queue's sort key (issue order), not a place in the queue
    reference: str | None = None


class TicketCalled(_WindowTicketEvent, tag="ticket.called", kw_only=True):
    service: str
    covering: int | None = None  # the away window whose item this is (AB post)
    fairness: bool = False  # a normal ticket called to keep priority from starving it


class TicketRecalled(_WindowTicketEvent, tag="ticket.recalled", kw_only=True):
    service: str
    recalls: int


class TicketNoShow(_WindowTicketEvent, tag="ticket.no_show", kw_only=True):
    internal: ClassVar[frozenset[str]] = frozenset({"rank"})

    service: str
    requeued: bool
    rank: tuple[int, int] | None = None  # the sort key it is requeued with


class TicketTransferred(_WindowTicketEvent, tag="ticket.transferred", kw_only=True):
    to_service: str
    to_window: int | None = None
    reason: str = ""


class TicketFinished(_WindowTicketEvent, tag="ticket.finished", kw_only=True):
    service: str
    outcome: Outcome


class ReturnRequested(_WindowTicketEvent, tag="ticket.return_requested", kw_only=True):
    reason: str


class ReturnDecided(_TicketEvent, tag="ticket.return_decided", kw_only=True):
    number: str
    approved: bool
    supervisor: str
    note: str = ""
    requeued_to: int | None = None


class ClerkSignedIn(_WindowEvent, tag="window.signed_in", kw_only=True):
    clerk: Clerk


class ClerkSignedOut(_WindowEvent, tag="window.signed_out", kw_only=True):
    username: str
    reason: str = "signed_out"  # signed_out | replaced | signed_in_elsewhere | day_end | moved


class WindowPaused(_WindowEvent, tag="window.paused", kw_only=True):
    reason: str


class WindowResumed(_WindowEvent, tag="window.resumed", kw_only=True):
    reason: str  # the pause's reason, for time accounted per reason
    paused_s: float


class DayRolled(Event, tag="day.rolled", kw_only=True):
    day: dt.date
    expired: list[str] = []


class GreenPassGranted(Event, tag="green_pass.granted", kw_only=True):
    code: str
    project: str
    day: dt.date
    service: str | None = None
    granted_by: str


class AppointmentBooked(Event, tag="appointment.booked", kw_only=True):
    code: str
    service: str
    day: dt.date


class RatingRequested(_WindowTicketEvent, tag="rating.requested", kw_only=True):
    request_id: int
    deadline: dt.datetime
    clerk_name: str
    staff_no: str


class TicketRated(_WindowTicketEvent, tag="ticket.rated", kw_only=True):
    request_id: int
    level: int
    reason: str | None = None
    pressed_at: dt.datetime
    source: str = "keypad"


class RatingExpired(_WindowTicketEvent, tag="rating.expired", kw_only=True):
    request_id: int


class RatingReasonAdded(_TicketEvent, tag="rating.reason_added", kw_only=True):
    number: str
    reason: str
    source: str


class DeviceStateChanged(Event, tag="device.state_changed", kw_only=True):
    device: str
    kind: str
    window_at: int | None = None
    windows_at: list[int] = []  # a device serving several windows (a slip printer): all of them
    agent: str
    status: str
    detail: str = ""

    @property
    def window(self) -> int | None:
        return self.window_at


class DeviceRemoved(Event, tag="device.removed", kw_only=True):
    """A device its agent no longer has (taken out of its agent.toml): off the hall's list, and
    a rating keypad no longer makes its window's ratings wait for its word."""

    device: str
    kind: str
    window_at: int | None = None
    agent: str

    @property
    def window(self) -> int | None:
        return self.window_at


class NoticeSet(Event, tag="notice.set", kw_only=True):
    """The screens' scrolling line, as it now reads (`reset`: back to the hall file's)."""

    text: str
    text_en: str = ""
    by: str
    reset: bool = False


class ServiceClosed(Event, tag="service.closed", kw_only=True):
    service: str
    reason: str


class ServiceReopened(Event, tag="service.reopened", kw_only=True):
    service: str


class SlipStatusChanged(_TicketEvent, tag="slip.status_changed", kw_only=True):
    """A clerk or supervisor moved a commitment slip on (受理 → … → 已取件).

    Slips outlive the day's state (a 承诺件 is collected days later), so the state keeps none:
    the store's `slips` row is the slip's projection, and this event is its history.
    """

    slip: str
    status: SlipStatus
    previous: SlipStatus
    by: str


class JointPartDone(_TicketEvent, tag="slip.part_done", kw_only=True):
    """One department's part of a 联办件 is done (the case went on to it from the lead window).

    Like slip statuses, parts live in the store (`slip_parts`), not in the day's state.
    """

    slip: str
    department: str
    by: str


class AlertRaised(Event, tag="alert.raised", kw_only=True):
    key: str
    kind: str
    message: str
    message_en: str = ""
    window_at: int | None = None
    service: str | None = None

    @property
    def window(self) -> int | None:
        return self.window_at


class AlertCleared(Event, tag="alert.cleared", kw_only=True):
    key: str
    kind: str
    raised_at: dt.datetime
    # The raising's subject again, so the backend files both under one window (or item);
    # absent in clearings committed before they carried it.
    window_at: int | None = None
    service: str | None = None

    @property
    def window(self) -> int | None:
        return self.window_at


class ComplaintFiled(Event, tag="complaint.filed", kw_only=True):
    """A complaint or suggestion left at a kiosk (art. 27), kept and forwarded for follow-up.

    `phone` is the citizen's own contact number, given only if they want an answer: it stays in
    the office (never on a screen or device).
    """

    complaint_id: str
    category: str
    text: str
    window_about: int | None = None
    staff_no: str | None = None
    phone: str | None = None
    source: str = "kiosk"

    @property
    def window(self) -> int | None:
        return self.window_about


class ConfigReloaded(Event, tag="config.reloaded", kw_only=True):
    """The hall file changed while the hall ran (art. 6, 动态管理; hub/reload.py).

    `hash` identifies the new file; `summary` says what changed (departments, items, windows
    added/removed/changed, other sections). The state keeps nothing of it: the config is not
    state. Screens, kiosks and panels reload their page on it to pick up the new catalogue.
    """

    hash: str
    summary: dict[str, Any] = {}
    by: str
    source: str = ""


AnyEvent = (
    TicketIssued
    | TicketCalled
    | TicketRecalled
    | TicketNoShow
    | TicketTransferred
    | TicketFinished
    | ReturnRequested
    | ReturnDecided
    | ClerkSignedIn
    | ClerkSignedOut
    | WindowPaused
    | WindowResumed
    | DayRolled
    | GreenPassGranted
    | AppointmentBooked
    | ServiceClosed
    | ServiceReopened
    | RatingRequested
    | TicketRated
    | RatingExpired
    | RatingReasonAdded
    | DeviceStateChanged
    | DeviceRemoved
    | NoticeSet
    | SlipStatusChanged
    | ComplaintFiled
    | AlertRaised
    | AlertCleared
    | JointPartDone
    | ConfigReloaded
)


def event_type(event: Event) -> str:
    return type(event).__struct_config__.tag  # type: ignore[return-value]


def public_fields(event: Event, zone: dt.tzinfo | None = None) -> dict[str, Any]:
    """An event's own fields (with `at`, without its tag and its internal fields) as JSON
    values, for clients and the supervision backend. With `zone`, every time in them is written
    with that zone's offset (the hall's, for the backend: docs/events.md) instead of the UTC the
    hub keeps; the instant is the same."""
    if zone is None:
        data = msgspec.to_builtins(event)
    else:  # datetimes kept as objects by to_builtins, then written in `zone`
        data = _json_times(msgspec.to_builtins(event, builtin_types=(dt.datetime,)), zone)
    data.pop("type", None)
    for name in event.internal:
        data.pop(name, None)
    return data


def _json_times(value: Any, zone: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        return msgspec.to_builtins(value.astimezone(zone))
    if isinstance(value, dict):
        return {k: _json_times(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_times(v, zone) for v in value]
    return value
