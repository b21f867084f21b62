"""The domain events: facts in the past tense, one or more for every change of the hall.

The store writes them in the same transaction as the change, and the state is their fold
(`state = fold(apply, events)`). `public_fields` is what clients and the backend get of one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import msgspec

from .state import Clerk, Outcome
from .vocabulary import CaseStatus, Channel, SlipStatus


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
    # `person`: the day pseudonym of the citizen whose ID card was swiped (a keyed hash of the
    # number and the hall day, so the log cannot link one person's days); the per-person rules'
    # index is rebuilt from it. Never sent to a client or the backend.
    internal: ClassVar[frozenset[str]] = frozenset({"rank", "person"})

    number: str
    service: str
    channel: Channel
    priority: bool
    rank: tuple[int, int]  # the queue's sort key (issue order), not a place in the queue
    reference: str | None = None
    identified: bool = False  # issued against a swiped ID card (刷身份证取号)
    person: str | None = None


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
    # `person`: booked for a citizen's ID number, as the pseudonym of the appointment's day
    # (hub/service/identity.py), so a swipe at the kiosk finds it. Never sent out.
    internal: ClassVar[frozenset[str]] = frozenset({"person"})

    code: str
    service: str
    day: dt.date
    person: str | None = None


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
    source: str = "kiosk"  # kiosk | phone (the ticket's page) | office (from another channel)
    channel: str | None = None  # office-entered: phone | box | letter | visit

    @property
    def window(self) -> int | None:
        return self.window_about


class CaseOpened(Event, tag="case.opened", kw_only=True):
    """A supervision case (督办工单) opened for a 差评, a complaint or a spot-check finding.

    Cases outlive the day, so the state keeps only the day's counter of their numbers: the
    store's `cases` row is the case's projection and its events are its history. `summary`
    never holds a phone number (it reaches the clerk the case names and the office's monitor).
    """

    case_id: str  # "GD" + the opening day (yyyymmdd) + the day's counter, 4 digits
    kind: str  # rating | complaint | spot_check
    source: str  # keypad | kiosk | phone | office | spot_check
    channel: str | None = None  # an office-entered complaint's: phone | box | letter | visit
    ticket_id: str | None = None
    number: str | None = None
    window_no: int | None = None
    clerk: str | None = None  # username of the clerk it is about
    staff_no: str | None = None
    department: str | None = None
    service: str | None = None
    level: int | None = None
    reason: str | None = None
    complaint_id: str | None = None
    category: str | None = None
    summary: str
    callback_due: dt.date
    rectify_due: dt.date

    @property
    def window(self) -> int | None:
        return self.window_no


class CaseStepped(Event, tag="case.stepped", kw_only=True):
    """A case moved on by the office, or appealed by the clerk it names (hub/engine/casework.py):
    who, when and what (the action's own fields), from `previous` to `status`."""

    case_id: str
    action: str  # callback | rectify | rectified | close | appeal | decide_appeal
    status: CaseStatus
    previous: CaseStatus
    by: str  # username
    clerk: str | None = None  # the clerk the case names: their panel is told
    window_no: int | None = None  # the case's window
    result: str | None = None
    reached: bool | None = None
    cause: str | None = None
    plan: str | None = None
    fix: str | None = None
    reply: str | None = None
    verdict: str | None = None  # founded | unfounded
    grounds: str | None = None
    upheld: bool | None = None
    note: str | None = None
    attachments: list[str] = []

    @property
    def window(self) -> int | None:
        return self.window_no


class ConfigReloaded(Event, tag="config.reloaded", kw_only=True):
    """The hall file changed while the hall ran (art. 6, 动态管理; hub/hall_file/).

    `hash` identifies the new file; `summary` says what changed (departments, items, windows
    added/removed/changed, other sections). The state keeps nothing of it: the config is not
    state. Screens, kiosks and panels reload their page on it to pick up the new catalogue.
    """

    hash: str
    summary: dict[str, Any] = {}
    by: str
    source: str = ""


class AuditHead(Event, tag="audit.head", kw_only=True):
    """The staff audit log's last record, published once a business day (hub/store/audit.py):
    a copy of the head outside the hub, so records deleted at the end of the log, or the whole
    log rewritten, are provable against it. The state keeps the day, so a day has one."""

    day: dt.date
    seq: int  # 0 and 64 zeros: no record yet
    hash: str


class ChecklistEntry(msgspec.Struct, kw_only=True, frozen=True):
    """One question of the spot-check checklist, as the hall file said it when the week was
    drawn (the draw keeps it: its reviews answer these, whatever the file says later)."""

    code: str
    text: str
    text_en: str = ""


class SpotCheckDrawn(Event, tag="spot_check.drawn", kw_only=True):
    """A week's 办件抽查 sample, drawn by the office (art. 11). Spot checks outlive the day, so
    the state keeps none: the store's `spot_draws` and `spot_items` rows are their projection.

    Reproducible by anyone: per window, the week's finished tickets ranked by
    HMAC-SHA256(key=bytes of `seed`, msg=ticket id) in hex, the first `per_window` of them
    (hub/engine/spot_checks.py; `onestop spot-check verify`)."""

    draw_id: str  # "CC" + ISO year and week: CC2026W49; one per week
    week: dt.date  # its Monday
    seed: str  # 128 bits from `secrets`, hex
    per_window: int
    population: dict[int, int]  # window -> finished tickets that week
    # window -> SHA-256 of its finished tickets' ids, sorted, one per line: a swap of tickets
    # that keeps the count is still found by `verify` (absent in draws made before it)
    population_digest: dict[int, str] = {}
    sample: dict[int, list[str]]  # window -> ticket ids, in rank order
    method: str  # "hmac-sha256-rank" (required: a default would be left out of the record)
    checklist: list[ChecklistEntry] = []
    by: str


class SpotCheckReviewed(Event, tag="spot_check.reviewed", kw_only=True):
    """One sampled ticket reviewed against the draw's checklist: `finding` when any answer
    is a fail; `case_id` when the reviewer opened a case from it."""

    draw_id: str
    ticket_id: str
    window_no: int
    clerk: str | None = None
    answers: dict[str, str]  # checklist code -> pass | fail | na
    note: str = ""
    finding: bool
    case_id: str | None = None
    by: str

    @property
    def window(self) -> int | None:
        return self.window_no


class StaffRecordAdded(Event, tag="staff.record_added", kw_only=True):
    """A supervisor's efficiency record against a staff member (art. 16, 18): 批评教育
    `criticism`, 通报批评 `notice` or 效能告诫 `warning`; a warning keeps them out of `year`'s
    评先评优. Kept in the store (`staff_records`), not in the day's state."""

    record_id: str  # "XN" + the hall's date + 4 digits: XN202612040001
    username: str
    staff_no: str
    kind: str
    grounds: str  # the article item it rests on
    detail: str
    year: int  # the hall's calendar year of the record
    by: str


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
    | CaseOpened
    | CaseStepped
    | AlertRaised
    | AlertCleared
    | JointPartDone
    | ConfigReloaded
    | AuditHead
    | SpotCheckDrawn
    | SpotCheckReviewed
    | StaffRecordAdded
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
