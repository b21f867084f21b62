"""The shapes of what the hub's HTTP API answers: every JSON body a route sends, field for field
(the office's routes' in hub/shapes/office_responses.py).

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
    elderly: Annotated[bool, Meta(description="an elderly (适老) priority ticket: the window "
                                              "screen's quiet mark")]


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
    rating_channels: Annotated[dict[str, int], Meta(
        description="channel (keypad, phone) -> ratings")]
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
    identified: Annotated[bool, Meta(description=(
        "issued against a swiped ID card (刷身份证取号); who it was for is never shown"))]
    elderly: Annotated[bool, Meta(description="an elderly (适老) priority ticket: a quiet mark")]


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
_LINK = Meta(description="the ticket's page on the citizen's phone ([citizen] base_url + "
                         "/t/<capability>), what its QR holds; null when the hall has it off")


class IssuedTicket(Ticket, kw_only=True):
    """A ticket just issued (to a supervisor)."""

    repeated: Annotated[bool, _REPEATED]
    estimated_wait_minutes: int
    link: Annotated[str | None, _LINK] | UnsetType = UNSET
    print: Annotated[Literal["queued", "no_printer"], _PRINT] | UnsetType = UNSET


class IssuedTicketForDevice(TicketForDevice, kw_only=True):
    """A ticket just issued (to a kiosk)."""

    repeated: Annotated[bool, _REPEATED]
    estimated_wait_minutes: int
    link: Annotated[str | None, _LINK] | UnsetType = UNSET
    print: Annotated[Literal["queued", "no_printer"], _PRINT] | UnsetType = UNSET


class TakenTicket(Answer):
    """扫码取号: the ticket a phone took, and its page (`link`, when the hall mints them)."""

    number: str
    service: str
    service_name: str
    service_name_en: str
    people_ahead: int
    estimated_wait_minutes: int
    link: Annotated[str | None, Meta(description="the ticket's phone page, /t/<capability>")]


class PosterLink(Answer):
    """Today's 扫码取号 poster: its URL (the QR's content) and the QR as SVG."""

    url: str
    day: dt.date
    svg: Annotated[str, Meta(description="the QR code of `url`, an SVG document")]


class SlipPart(Answer):
    department: str
    name: str
    name_en: str
    done: bool


class BringItem(Answer):
    text: str
    text_en: str


class CollectWindow(Answer):
    no: int
    name: str
    zone: str


class SlipCollect(Answer):
    """Where and when a finished 承诺件 is collected, and what to bring."""

    service: Annotated[str | None, Meta(description=(
        "the item to take a ticket for ([citizen] collect_service, else the slip's own)"))]
    service_name: str
    service_name_en: str
    bring: list[BringItem]
    windows: list[CollectWindow]
    weekdays: Annotated[list[int], Meta(description="ISO weekdays, 1 = Monday")]
    periods: Annotated[list[list[str]], Meta(description="[start, end] as HH:MM, hall time")]


class SlipForPhone(Answer):
    """A 承诺单 on the citizen's phone: nothing personal."""

    number: str
    kind: Annotated[str, Meta(description="commitment (承诺件) or joint (联办件)")]
    service: str
    service_name: str
    service_name_en: str
    status: SlipStatus
    status_name: str
    status_name_en: str
    accepted_on: dt.date
    promised_date: dt.date | None
    overdue: Annotated[bool, Meta(description="past its promised date, not yet done")]
    items: Annotated[list[str], Meta(description="what the case issues (证照, 决定书)")]
    parts: Annotated[list[SlipPart], Meta(description="a 联办件's departments, each done or not")]
    collectable: bool
    collect: SlipCollect
    now: Time


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
