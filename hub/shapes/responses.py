"""The shapes of what the hub's HTTP API answers: every JSON body a route sends, field for field.

Each route names its answer beside it (hub/web/operations.py), the OpenAPI document takes the
schemas from here, and every JSON answer is held to its shape as it leaves (unknown fields
refused, so a field sent but not here is caught, not left undocumented). What the engine
already has as a Struct (an alert, a device, a rating, a visit) is that Struct, strict.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from hub.auth import Role
from hub.config import Assessment as AssessmentFormula
from hub.config import CaseType, Disclosure, Hours
from hub.engine import model
from hub.engine.model import Channel, OutcomeKind, RatingStatus, SlipStatus, TicketStatus

Time = Annotated[dt.datetime, Meta(tz=True)]  # ISO 8601 with its offset (the hub's: UTC)


class Answer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every answer: keyword fields, nothing sent that is not here."""


# --- common ---------------------------------------------------------------------------------


class ErrorBody(Answer):
    code: Annotated[str, Meta(description="stable: what a client acts on")]
    message: Annotated[str, Meta(description="中文 / English")]


class Problem(Answer):
    """What is wrong with a hall file: the key, the reason, and both as one line."""

    key: str
    reason: str
    message: str


class Error(Answer):
    """Every refusal: a stable code and a bilingual message (a 4xx, never a 5xx, for any input)."""

    error: ErrorBody
    problems: Annotated[list[Problem], Meta(
        description="the admin routes' invalid_config: the hall file's problems")] | UnsetType \
        = UNSET


class Named(Answer):
    code: str
    name: str
    name_en: str


class EventRecord(Answer):
    """A committed event as clients get it (docs/events.md): `data` holds its own fields."""

    seq: int
    id: str
    type: str
    at: Time
    data: dict[str, Any]


# --- operations -----------------------------------------------------------------------------


class Liveness(Answer):
    status: Literal["ok"]
    seq: Annotated[int, Meta(description="the last committed event")]
    day: dt.date
    config: Annotated[str, Meta(description="the running hall file's hash")]


# --- the hall: items, windows, the queue ----------------------------------------------------


class ServiceItem(Answer):
    """A service item with its six disclosures (六公开) and its materials (一次性告知)."""

    code: str
    name: str
    name_en: str
    department: Named
    prefix: str
    case_type: CaseType
    time_limit_days: int
    target_minutes: int
    daily_quota: int
    hours: Hours
    windows: list[int]
    disclosure: Disclosure
    materials: list[str]


class Services(Answer):
    services: list[ServiceItem]


class Badge(Answer):
    """A clerk's work badge (art. 17): what a screen shows of them."""

    name: str
    staff_no: str


class AtWindow(Answer):
    id: str
    number: str
    service: str
    called_at: Time | None
    recalls: int


class OpenRating(Answer):
    """The rating the window's keypad waits for."""

    ticket_id: str
    number: str
    request_id: int
    deadline: Time | None


class Window(Answer):
    no: int
    name: str
    zone: str
    department: Named
    services: list[str]
    backup: int | None
    status: Literal["open", "paused", "closed"]
    pause_reason: str | None
    paused_since: Time | None
    clerk: Badge | None
    current: AtWindow | None
    covering: Annotated[list[int], Meta(description="away windows whose items it serves (AB)")]
    rating: OpenRating | None


class CenterNotice(Answer):
    name: str
    name_en: str
    notice: str
    notice_en: str


class RecentCall(model.CallRecord, forbid_unknown_fields=True):
    """A call the hall screen lists."""


class Queue(Answer):
    """The hall now, as the screens show it: nothing about a citizen."""

    seq: int
    day: dt.date
    center: CenterNotice
    windows: list[Window]
    waiting: Annotated[dict[str, int], Meta(description="by item")]
    closed_services: Annotated[dict[str, str], Meta(description="item -> reason")]
    recent_calls: list[RecentCall]


class WindowActed(Window, kw_only=True):
    """The window after the action, and the events it committed."""

    events: list[EventRecord]


class Totals(Answer):
    seq: int
    day: dt.date
    issued: int
    served: int
    serving: int
    waiting: int
    waiting_by_service: dict[str, int]
    no_shows: int
    ratings: int
    rating_levels: Annotated[dict[str, int], Meta(description="level 1-5 -> ratings")]
    satisfied: int
    satisfaction: Annotated[float | None, Meta(
        description="非常满意/满意/基本满意 share of the ratings")]
    complaints: int


# --- tickets --------------------------------------------------------------------------------


class Visit(model.Visit, forbid_unknown_fields=True):
    """One stay of a ticket at a window."""


class CaseOutcome(model.Outcome, forbid_unknown_fields=True):
    """How the case ended at the window (art. 4)."""


class TicketRating(model.Rating, forbid_unknown_fields=True):
    """The citizen's rating, tied to the window and the clerk."""


class _TicketFields(Answer):
    id: str
    number: str
    service: str
    day: dt.date
    channel: Channel
    priority: bool
    issued_at: Time
    status: TicketStatus
    target_window: int | None
    requeued: bool
    recalls: int
    window: int | None
    called_at: Time | None
    finished_at: Time | None
    service_name: str
    service_name_en: str
    people_ahead: int
    windows: Annotated[list[int], Meta(description="the windows that serve its item")]


class Ticket(_TicketFields, kw_only=True):
    """A ticket as the office and clerks see it."""

    clerk: str | None
    outcome: CaseOutcome | None
    rating: TicketRating | None
    visits: list[Visit]


class OutcomeKindOnly(Answer):
    kind: OutcomeKind


class RatingStatusOnly(Answer):
    status: RatingStatus


class TicketForDevice(_TicketFields, kw_only=True):
    """A ticket as a kiosk, screen or agent sees it: no slip numbers, reasons or notes."""

    outcome: OutcomeKindOnly | UnsetType = UNSET
    rating: RatingStatusOnly | UnsetType = UNSET


_PRINT = Meta(description="only when print was asked: sent to the printer, or no printer is "
                          "connected for this kiosk")
_REPEATED = Meta(description="the same request_id again: the ticket it got then")


class IssuedTicket(Ticket, kw_only=True):
    """A ticket just issued (to a supervisor)."""

    repeated: Annotated[bool, _REPEATED]
    estimated_wait_minutes: int
    print: Annotated[Literal["queued", "no_printer"], _PRINT] | UnsetType = UNSET


class IssuedTicketForDevice(TicketForDevice, kw_only=True):
    """A ticket just issued (to a kiosk)."""

    repeated: Annotated[bool, _REPEATED]
    estimated_wait_minutes: int
    print: Annotated[Literal["queued", "no_printer"], _PRINT] | UnsetType = UNSET


class PendingReturns(Answer):
    returns: list[Ticket]


# --- staff ----------------------------------------------------------------------------------


class Session(Answer):
    """A signed-in staff session: its bearer token."""

    token: str
    role: Role
    username: str
    name: str
    staff_no: str
    window: int | None
    expires_in_s: int


class MovedClerk(Answer):
    username: str
    from_window: int
    window: int
    events: list[EventRecord]


# --- slips ----------------------------------------------------------------------------------


class SlipDepartment(Answer):
    code: str
    name: str
    name_en: str
    done: bool


class Slip(Answer):
    """A commitment slip (承诺单) as the kiosk shows it: nothing about the citizen."""

    number: str
    status: SlipStatus
    status_name: str
    status_name_en: str
    kind: OutcomeKind
    promised_date: dt.date | None
    accepted_at: Time
    accepted_on: dt.date
    service: str
    service_name: str
    service_name_en: str
    items: list[str]
    departments: Annotated[list[SlipDepartment], Meta(description="联办件: each part")]
    updated_at: Time


class JointCases(Answer):
    cases: list[Slip]


# --- the office -----------------------------------------------------------------------------


class Device(model.DeviceHealth, forbid_unknown_fields=True):
    """A device an agent reported, with its last state."""


class Devices(Answer):
    devices: list[Device]


class AlertNow(model.Alert, forbid_unknown_fields=True):
    """An 电子监察 condition that holds now."""


class Alerts(Answer):
    alerts: list[AlertNow]


class DeadLetter(Answer):
    seq: int
    event_id: str
    type: str
    status_code: int
    response: str
    failed_at: Time
    replayed_at: Time | None


class Forwarding(Answer):
    """Where the feed to the supervision backend is."""

    failures: Annotated[int, Meta(description="failed attempts, ever")]
    last_error: str | None
    last_error_at: Time | None
    cursor: int
    last_seq: int
    backlog: int
    oldest_unsent_at: Time | None
    dead_letters: Annotated[int, Meta(description="not replayed yet")]


class DeadLetters(Answer):
    dead_letters: list[DeadLetter]
    forwarding: Forwarding


class AuditRecord(Answer):
    """One record of the staff audit log (docs/audit.md); a damaged row is shown as stored."""

    seq: int
    at: Time
    account: str
    role: str
    window_no: int | None
    addr: str
    action: str
    detail: dict[str, Any] | str
    event_seqs: list[int] | str
    outcome: Annotated[str, Meta(description="ok, or the refusal's code")]
    prev_hash: str
    hash: str


class AuditRecords(Answer):
    records: list[AuditRecord]


# --- reports --------------------------------------------------------------------------------


class ReportRow(Answer, kw_only=True):
    """One group's figures (times in seconds, p90s in whole minutes, shares 0-1)."""

    key: str
    name: str
    name_en: str
    staff_no: str | UnsetType = UNSET  # by clerk
    issued: int | None  # by department or item: tickets belong to an item
    called: int
    served: int
    no_shows: int
    transferred: int
    returned: int
    expired: int
    no_show_share: float | None
    wait_mean_s: float | None
    wait_p90_min: int | None
    serve_mean_s: float | None
    serve_p90_min: int | None
    within_target: int
    within_target_share: float | None
    slips_on_time: int
    slips_late: int
    slips_pending: int
    slips_on_time_share: float | None
    ratings: Annotated[dict[str, int], Meta(description="level 1-5 -> ratings")]
    rated: int
    not_rated: int
    satisfaction: float | None
    complaints: int
    pause_s: float
    pause_by_reason: dict[str, float]


class HourCount(Answer):
    hour: int
    issued: int
    served: int


class _ReportFields(Answer):
    start: dt.date = msgspec.field(name="from")
    end: dt.date = msgspec.field(name="to")
    by: str
    days: int
    live_days: Annotated[list[dt.date], Meta(description="read live, not from summaries")]
    generated_at: Time
    total: ReportRow
    by_hour: list[HourCount]


class Report(_ReportFields, kw_only=True):
    """A range of days' figures per group, the total, and the day's hours."""

    rows: list[ReportRow]


class AssessedRow(ReportRow, kw_only=True):
    score: float
    parts: Annotated[dict[str, float], Meta(description="the formula's terms")]
    rank: Annotated[int, Meta(description="1 = best; equal scores share a rank")]


class AssessmentReport(_ReportFields, kw_only=True):
    """考核: the report's figures per window or clerk, scored and ranked."""

    rows: list[AssessedRow]
    formula: AssessmentFormula


# --- the hall file --------------------------------------------------------------------------


class QuickEditItem(Answer):
    code: str
    name: str
    daily_quota: int
    hours: str


class QuickEditWindow(Answer):
    no: int
    name: str
    services: list[str]
    backup: int | None


class RunningHallFile(Answer):
    """The hall file the hall runs on, and what the quick-edit form starts from."""

    toml: str
    hash: str
    path: str | None
    editable: bool
    last_reload: Annotated[dict[str, Any] | None, Meta(
        description="the last SIGHUP reload's outcome (as `onestop reload` shows it)")]
    hours: list[str]
    services: list[QuickEditItem]
    windows: list[QuickEditWindow]


class CodesChanged(Answer):
    added: list[str] | UnsetType = UNSET
    removed: list[str] | UnsetType = UNSET
    changed: list[str] | UnsetType = UNSET


class WindowsChanged(Answer):
    added: list[int] | UnsetType = UNSET
    removed: list[int] | UnsetType = UNSET
    changed: list[int] | UnsetType = UNSET


class HallChange(Answer):
    """What a hall file changes (empty: nothing)."""

    departments: CodesChanged | UnsetType = UNSET
    services: CodesChanged | UnsetType = UNSET
    windows: WindowsChanged | UnsetType = UNSET
    sections: Annotated[list[str], Meta(description="other sections changed")] | UnsetType \
        = UNSET


class HallFileCheck(Answer):
    ok: bool
    problems: list[Problem]
    summary: HallChange
    blocked: Annotated[list[str], Meta(description="what in the live hall blocks it")]
    hash: str | UnsetType = UNSET  # of a file that parses


class HallFileEdited(Answer):
    toml: str
    problems: list[Problem]
    summary: HallChange


class HallFileApplied(Answer):
    applied: Annotated[bool, Meta(description="false: the same hall (comments, layout)")]
    hash: str
    summary: HallChange
    text: str
    backup: Annotated[str | None, Meta(description="the previous file, kept")] | UnsetType \
        = UNSET
